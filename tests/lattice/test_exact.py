"""Exact Ising results against brute-force enumeration, published constants and each other."""

import math

import numpy as np
import pytest

from physdl.lattice import exact
from physdl.lattice.enumerate import enumerate_ising

BETAS = np.array([0.05, 0.2, 0.3, exact.SQUARE_BETA_C, 0.4407, 0.5, 1.0, 3.0])


@pytest.mark.parametrize(
    "shape", [(2, 2), (3, 3), (4, 4), (2, 4), (4, 2), (3, 5), (5, 3), (4, 5), (1, 3), (3, 1)]
)
def test_kaufman_matches_enumeration(shape):
    ens = enumerate_ising(shape).thermodynamics(BETAS)
    k = exact.kaufman_thermodynamics(BETAS, *shape)
    np.testing.assert_allclose(k["log_z"], ens["log_z"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(k["energy"], ens["energy"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(k["specific_heat"], ens["specific_heat"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(exact.kaufman_log_z(BETAS, *shape), ens["log_z"], rtol=0, atol=1e-10)


def test_kaufman_with_coupling_scale():
    ens = enumerate_ising((3, 4), J=0.6).thermodynamics(BETAS)
    k = exact.kaufman_thermodynamics(BETAS, 3, 4, J=0.6)
    for key in ("log_z", "energy", "specific_heat"):
        np.testing.assert_allclose(k[key], ens[key], rtol=0, atol=1e-10)


def test_kaufman_large_lattice_tends_to_onsager():
    b = np.array([0.2, 0.3, 0.5, 0.7])
    k = exact.kaufman_thermodynamics(b, 512)
    np.testing.assert_allclose(k["energy"], exact.onsager_energy(b), rtol=0, atol=1e-12)
    np.testing.assert_allclose(k["specific_heat"], exact.onsager_specific_heat(b), rtol=0, atol=1e-11)
    # below Tc the torus has two ordered sectors: ln Z = -N beta f + ln 2 up to exponentially small terms
    sectors = np.where(b > exact.SQUARE_BETA_C, math.log(2), 0.0)
    np.testing.assert_allclose((exact.kaufman_log_z(b, 512) - sectors) / 512**2, exact.onsager_free_energy(b),
                               rtol=0, atol=1e-11)


def test_kaufman_at_tc_finite_size_scaling():
    # energy at Tc approaches -sqrt(2) as 1/L; the specific-heat peak grows like (8 Kc^2/pi) ln L
    # (Onsager's logarithmic amplitude; Ferdinand & Fisher 1969 for the finite torus)
    kc = exact.SQUARE_BETA_C
    L = np.array([128, 256, 512, 1024])
    u = np.array([exact.kaufman_thermodynamics(kc, int(n))["energy"] for n in L])
    a = L * (u + math.sqrt(2))
    assert abs(a[-1] - a[-2]) < 1e-3 * abs(a[-1])
    c = np.array([exact.kaufman_thermodynamics(kc, int(n))["specific_heat"] for n in L])
    amp = 8 * kc**2 / math.pi
    assert abs((c[-1] - c[-2]) / math.log(2) - amp) < 2e-3 * amp


def test_onsager_constants_against_published_numbers():
    assert exact.SQUARE_TC == pytest.approx(2.269185314213022, abs=1e-14)
    assert exact.SQUARE_BETA_C == pytest.approx(0.4406867935097715, abs=1e-15)
    assert math.sinh(2 * exact.SQUARE_BETA_C) == pytest.approx(1.0, abs=1e-15)  # self-duality
    assert exact.TRIANGULAR_TC == pytest.approx(3.6409569065073493, abs=1e-13)
    assert exact.critical_temperature("cubic") == pytest.approx(4.5115, abs=1e-4)
    assert exact.critical_temperature("square", J=2.0) == pytest.approx(2 * 2.269185314213022)
    # free energy at Tc: -beta f = ln(2)/2 + 2G/pi, G = Catalan's constant
    catalan = 0.91596559417721901505
    assert exact.onsager_free_energy(exact.SQUARE_BETA_C) == pytest.approx(
        math.log(2) / 2 + 2 * catalan / math.pi, abs=1e-12)
    assert exact.onsager_energy(exact.SQUARE_BETA_C) == pytest.approx(-math.sqrt(2), abs=1e-13)
    assert np.isinf(exact.onsager_specific_heat(exact.SQUARE_BETA_C))


def test_onsager_energy_is_derivative_of_free_energy_and_c_of_energy():
    b = np.array([0.25, 0.35, 0.42, 0.46, 0.6])
    d = 1e-5
    du = -(exact.onsager_free_energy(b + d) - exact.onsager_free_energy(b - d)) / (2 * d)
    np.testing.assert_allclose(exact.onsager_energy(b), du, rtol=1e-7)
    dc = -(b**2) * (exact.onsager_energy(b + d) - exact.onsager_energy(b - d)) / (2 * d)
    np.testing.assert_allclose(exact.onsager_specific_heat(b), dc, rtol=1e-6)


def test_spontaneous_magnetization():
    assert exact.onsager_magnetization(0.44) == 0.0
    beta = np.array([0.45, 0.5, 0.8])
    m = exact.onsager_magnetization(beta)
    np.testing.assert_allclose(m, (1 - np.sinh(2 * beta) ** -4) ** 0.125, rtol=1e-15)
    # near Tc: m ~ (1 - T/Tc)^(1/8) * const; exponent 1/8 from two close points
    t = np.array([1e-6, 1e-8])
    mm = exact.onsager_magnetization(exact.SQUARE_BETA_C / (1 - t))
    assert math.log(mm[0] / mm[1]) / math.log(t[0] / t[1]) == pytest.approx(0.125, rel=1e-3)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 12])
@pytest.mark.parametrize("J, h", [(1.0, 0.0), (1.0, 0.4), (-0.8, 0.3), (0.5, -1.1)])
def test_chain_transfer_matrix_matches_enumeration(n, J, h):
    beta = np.array([0.1, 0.5, 1.3, 4.0])
    ens = enumerate_ising((n,), "chain", J=J, h=h)
    th = ens.thermodynamics(beta)
    tm = exact.chain_thermodynamics(n, beta, J, h)
    np.testing.assert_allclose(tm["log_z"], th["log_z"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(tm["energy"], th["energy"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(tm["specific_heat"], th["specific_heat"], rtol=0, atol=1e-10)
    mag = ens.expectation(beta, lambda e, m: m) / n
    np.testing.assert_allclose(tm["magnetization"], mag, rtol=0, atol=1e-10)


def test_chain_infinite_limits():
    beta = np.array([0.2, 0.9, 2.0])
    inf = exact.chain_infinite(beta)
    np.testing.assert_allclose(inf["energy"], -np.tanh(beta), rtol=1e-14)
    np.testing.assert_allclose(inf["specific_heat"], (beta / np.cosh(beta)) ** 2, rtol=1e-12)
    np.testing.assert_allclose(inf["log_z_per_spin"], np.log(2 * np.cosh(beta)), rtol=1e-14)
    fin = exact.chain_thermodynamics(2000, beta)  # (tanh beta)^N finite-size terms negligible
    np.testing.assert_allclose(fin["energy"], inf["energy"], rtol=1e-12)
    hinf = exact.chain_infinite(0.7, J=1.0, h=0.2)
    expect = math.sinh(0.14) / math.sqrt(math.sinh(0.14) ** 2 + math.exp(-2.8))
    assert hinf["magnetization"] == pytest.approx(expect, rel=1e-13)


def test_bad_input():
    for bad in (0.0, -1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="beta"):
            exact.kaufman_thermodynamics(bad, 4)
        with pytest.raises(ValueError, match="beta"):
            exact.chain_thermodynamics(4, bad)
    with pytest.raises(ValueError, match="J must be > 0"):
        exact.kaufman_log_z(0.3, 4, J=-1.0)
    with pytest.raises(ValueError, match="Lx must be >= 1"):
        exact.kaufman_log_z(0.3, 0)
    with pytest.raises(TypeError, match="Lx must be an integer"):
        exact.kaufman_log_z(0.3, 4.5)
    with pytest.raises(ValueError, match="no transition"):
        exact.critical_temperature("chain")
    with pytest.raises(ValueError, match="<= 150"):
        exact.chain_thermodynamics(5, 200.0)


def test_spontaneous_magnetizations_low_temperature_series_and_tc():
    # lowest excitation: one flipped spin costs 2 z J, so m = 1 - 2 exp(-2 z beta J) + ... (z = 4, 6)
    # next order: two neighbouring flips, relative weight O(exp(-4 beta J)) or smaller
    beta = np.array([1.5, 2.0])  # 1 - M still well above rounding
    rel = 10 * np.exp(-4 * beta)
    assert np.all(np.abs((1 - exact.onsager_magnetization(beta)) / (2 * np.exp(-8 * beta)) - 1) < rel)
    assert np.all(np.abs((1 - exact.triangular_magnetization(beta)) / (2 * np.exp(-12 * beta)) - 1) < rel)
    # the triangular formula vanishes exactly at Tc = 4/ln 3, with exponent 1/8
    bc = exact.TRIANGULAR_BETA_C
    assert exact.triangular_magnetization(bc * (1 - 1e-9)) == 0.0
    t = np.array([1e-6, 1e-8])
    mm = exact.triangular_magnetization(bc / (1 - t))
    assert math.log(mm[0] / mm[1]) / math.log(t[0] / t[1]) == pytest.approx(0.125, rel=1e-3)
