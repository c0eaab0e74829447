"""Brute-force enumeration against hand counts, the book's L = 3 table and an independent state loop."""

import itertools
import math

import numpy as np
import pytest

from physdl.lattice.enumerate import (
    boltzmann_probabilities,
    coupling_matrix,
    energy_chi_square,
    enumerate_couplings,
    enumerate_ising,
    lattice_bonds,
    lattice_state_energies,
    spins_to_states,
    state_energies,
    state_spins,
)


def _reference_energy(spins_xy, geometry, J, h):
    """Energy of one configuration by explicit neighbour sums with np.roll (independent of bit tricks)."""
    s = spins_xy  # lattice array of the given shape (array axes, the last fastest)
    if geometry == "chain":
        e = -J * np.sum(s * np.roll(s, -1, 0))
    elif geometry == "square":
        e = -J * np.sum(s * np.roll(s, -1, 0) + s * np.roll(s, -1, 1))
    elif geometry == "triangular":
        diag = np.roll(np.roll(s, -1, 0), -1, 1)
        e = -J * np.sum(s * np.roll(s, -1, 0) + s * np.roll(s, -1, 1) + s * diag)
    else:
        e = -J * sum(np.sum(s * np.roll(s, -1, a)) for a in range(3))
    return e - h * s.sum()


@pytest.mark.parametrize(
    "shape, geometry",
    [((5,), "chain"), ((3, 3), "square"), ((2, 3), "square"), ((3, 2), "triangular"),
     ((3, 3), "triangular"), ((2, 2, 2), "cubic"), ((2, 3, 2), "cubic")],
)
def test_density_of_states_matches_state_by_state_reference(shape, geometry):
    J, h = 0.7, 0.3
    n = math.prod(shape)
    ens = enumerate_ising(shape, geometry, J=J, h=h)
    ref = {}
    for bits in itertools.product([0, 1], repeat=n):  # test-side loop: the independent reference
        spins = 2 * np.array(bits[::-1]) - 1  # bits[::-1][i] is bit i of the state
        s = spins.reshape(shape)  # C order: site i is the flat index of the lattice array
        key = (round(float(_reference_energy(s, geometry, J, h)), 9), int(spins.sum()))
        ref[key] = ref.get(key, 0) + 1
    got = {(round(float(e), 9), int(m)): int(c) for e, m, c in zip(ens.energies, ens.magnetizations, ens.counts)}
    assert got == ref
    assert ens.n_states == 2**n


def test_book_three_site_chain_table():
    # book, column of ch. 5: L = 3 periodic chain, E = -3 for the two aligned states, +1 for six others
    ens = enumerate_ising((3,), "chain")
    levels, g = ens.energy_levels()
    assert levels.tolist() == [-3.0, 1.0] and g.tolist() == [2, 6]


def test_square_4x4_known_degeneracies():
    # 4x4 torus: 2 ground states (E = -32), 32 single flips (E = -24): flipping one spin breaks 4 bonds
    levels, g = enumerate_ising((4, 4)).energy_levels()
    assert levels[0] == -32 and g[0] == 2
    assert levels[1] == -24 and g[1] == 32
    assert g.sum() == 2**16


def test_general_couplings_match_lattice():
    for shape, geom in [((4, 4), "square"), ((3, 3), "triangular"), ((6,), "chain")]:
        a = enumerate_ising(shape, geom, J=1.3, h=-0.4)
        b = enumerate_couplings(coupling_matrix(shape, geom, J=1.3), h=-0.4)
        beta = np.array([0.1, 0.4, 1.0])
        ta, tb = a.thermodynamics(beta), b.thermodynamics(beta)
        for key in ta:
            np.testing.assert_allclose(ta[key], tb[key], rtol=1e-12, atol=1e-12)


def test_random_couplings_thermodynamics_against_direct_sum():
    rng = np.random.default_rng(5)
    n = 8
    J = rng.normal(size=(n, n))
    J = (J + J.T) / 2
    h = rng.normal(size=n)
    e = state_energies(J, h)
    spins = state_spins(np.arange(2**n), n).astype(float)
    e_direct = np.array([-sum(J[i, j] * s[i] * s[j] for i in range(n) for j in range(i + 1, n)) - h @ s
                         for s in spins])
    np.testing.assert_allclose(e, e_direct, atol=1e-12)
    beta = 0.8
    w = np.exp(-beta * (e_direct - e_direct.min()))
    p = w / w.sum()
    ens = enumerate_couplings(J, h)
    th = ens.thermodynamics(beta)
    m = spins.mean(axis=1)
    assert th["energy"] == pytest.approx((p * e_direct).sum() / n, rel=1e-12)
    var = (p * e_direct**2).sum() - (p * e_direct).sum() ** 2
    assert th["specific_heat"] == pytest.approx(beta**2 * var / n, rel=1e-9)
    assert th["abs_m"] == pytest.approx((p * abs(m)).sum(), rel=1e-12)
    assert th["m4"] == pytest.approx((p * m**4).sum(), rel=1e-12)
    assert th["log_z"] == pytest.approx(np.log(np.exp(-beta * e_direct).sum()), rel=1e-12)


def test_level_probabilities_sum_to_one_and_match_weights():
    ens = enumerate_ising((3, 3))
    levels, p = ens.level_probabilities([0.2, 0.6])
    assert p.shape == (2, levels.size)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-14)
    lv, g = ens.energy_levels()
    w = g * np.exp(-0.6 * (lv - lv.min()))
    np.testing.assert_allclose(p[1], w / w.sum(), rtol=1e-12)


def test_bond_counts_and_site_convention():
    b = lattice_bonds((2, 3), "triangular")  # shape (Ly, Lx) = (2, 3): site x + 3 y
    assert b.shape == (18, 2)
    # site (y=0, x=2) = 2: forward neighbours (y, x) = (1, 2) = 5, (0, 0) = 0, (1, 0) = 3
    assert sorted(b[b[:, 0] == 2, 1].tolist()) == [0, 3, 5]
    assert lattice_bonds((2, 2, 2), "cubic").shape == (24, 2)


def test_state_spins_bit_convention():
    assert state_spins([0b101], 3).tolist() == [[1, -1, 1]]


def test_bad_input():
    with pytest.raises(ValueError, match="geometry must be one of"):
        enumerate_ising((3, 3), "hexagonal")
    with pytest.raises(ValueError, match="too large"):
        enumerate_ising((6, 6))
    with pytest.raises(ValueError, match="2-dimensional shape"):
        enumerate_ising((3,), "square")
    with pytest.raises(ValueError, match="symmetric"):
        enumerate_couplings(np.triu(np.ones((3, 3)), 1))
    with pytest.raises(ValueError, match="too large"):
        enumerate_couplings(np.zeros((30, 30)))
    with pytest.raises(ValueError, match="finite"):
        enumerate_couplings(np.full((3, 3), np.nan))
    with pytest.raises(ValueError, match="beta"):
        enumerate_ising((2, 2)).thermodynamics(np.nan)
    with pytest.raises(ValueError, match="h must"):
        enumerate_couplings(np.zeros((3, 3)), h=np.zeros(4))


def test_lattice_state_energies_consistent_with_density_of_states():
    for shape, geom in [((3, 3), "triangular"), ((2, 2, 3), "cubic"), ((4, 3), "square")]:
        E, M = lattice_state_energies(shape, geom, J=0.9, h=0.25)
        ens = enumerate_ising(shape, geom, J=0.9, h=0.25)
        keys, counts = np.unique(np.stack([np.round(E, 9), M]), axis=1, return_counts=True)
        ref = {(round(float(e), 9), int(m)): int(c) for e, m, c in zip(ens.energies, ens.magnetizations, ens.counts)}
        assert {(float(k[0]), int(k[1])): int(c) for k, c in zip(keys.T, counts)} == ref
        # and with the general-coupling energies, state by state
        np.testing.assert_allclose(E, state_energies(coupling_matrix(shape, geom, J=0.9), 0.25), atol=1e-12)


def test_spins_to_states_roundtrip_and_lattice_layout():
    rng = np.random.default_rng(3)
    states = rng.integers(0, 2**12, size=50).astype(np.uint64)
    np.testing.assert_array_equal(spins_to_states(state_spins(states, 12)), states)
    # a lattice array indexed [y, x], flattened in C order: site x + Lx*y
    lat = -np.ones((3, 4), dtype=np.int8)
    lat[1, 2] = 1  # y = 1, x = 2 -> site 2 + 4*1 = 6
    assert int(spins_to_states(lat.reshape(1, -1))[0]) == 1 << 6


def test_energy_chi_square_detects_wrong_temperature():
    ens = enumerate_ising((3, 3))
    lv, p = ens.level_probabilities(0.4)
    rng = np.random.default_rng(12)
    good = rng.choice(lv, size=50_000, p=p)
    stat, dof, pval = energy_chi_square(good, ens, 0.4)
    assert pval > 1e-3 and dof >= 3
    _, pw = ens.level_probabilities(0.45)
    wrong = rng.choice(lv, size=50_000, p=pw[0] if pw.ndim > 1 else pw)
    assert energy_chi_square(wrong, ens, 0.4)[2] < 1e-6
    with pytest.raises(ValueError, match="not an energy level"):
        energy_chi_square(np.array([-17.5]), ens, 0.4)
    np.testing.assert_allclose(boltzmann_probabilities(np.array([0.0, 1.0]), 2.0),
                               [1 / (1 + math.exp(-2)), math.exp(-2) / (1 + math.exp(-2))])
