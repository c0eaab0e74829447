"""Every update samples the exact Boltzmann distribution: chi-square of sampled energies against
full enumeration (physdl.lattice.enumerate) on 3x3 and 4x4 tori and other tiny systems."""

from __future__ import annotations

import numpy as np
import pytest

from physdl import lattice
from physdl.lattice.enumerate import enumerate_couplings, enumerate_ising

from .helpers import chi2_energies

P_MIN = 1e-3


def _levels(model, beta):
    if isinstance(model, lattice.SherringtonKirkpatrick):
        ens = enumerate_couplings(model.matrix, model.h)
    elif model.uniform:
        ens = enumerate_ising(model.shape, geometry=model.geometry, J=model.J, h=model.h)
    else:
        n, z = model.n_sites, model.z
        Jm = np.zeros((n, n))
        np.add.at(Jm, (np.repeat(np.arange(n), z), model.neighbours().reshape(-1)), model.bond_couplings())
        ens = enumerate_couplings(0.5 * (Jm + Jm.T), model.fields())
    # Boltzmann weight of each distinct level, g(E) exp(-beta E) (eq. 5.81), normalised
    levels, inv = np.unique(ens.energies, return_inverse=True)
    logw = np.log(ens.counts.astype(np.float64)) - beta * ens.energies
    w = np.bincount(inv, weights=np.exp(logw - logw.max()))
    return levels, w / w.sum()


def _sample_energies(model, beta, n, every, **kw):
    sim = lattice.Simulation(model, beta=beta, seed=2024, backend="cpp", **kw)
    res = sim.run(n * every, burn_in=200, measure_every=every)
    return res.energy_series * model.n_sites


CASES = [
    # (id, model, beta, keywords, measure_every)
    ("metropolis-4x4", lattice.Ising((4, 4)), 0.4, dict(update="metropolis"), 3),
    ("heat_bath-4x4", lattice.Ising((4, 4)), 0.4, dict(update="heat_bath"), 3),
    ("multispin-metropolis-4x4", lattice.Ising((4, 4)), 0.4, dict(update="metropolis", storage="multispin"), 3),
    ("multispin-heat_bath-4x4", lattice.Ising((4, 4)), 0.4, dict(update="heat_bath", storage="multispin"), 3),
    ("wolff-4x4", lattice.Ising((4, 4)), 0.4, dict(update="wolff"), 3),
    ("swendsen_wang-4x4", lattice.Ising((4, 4)), 0.4, dict(update="swendsen_wang"), 3),
    ("metropolis-field-4x4", lattice.Ising((4, 4), J=0.8, h=0.3), 0.5, dict(update="metropolis"), 3),
    ("heat_bath-field-4x4", lattice.Ising((4, 4), J=0.8, h=-0.3), 0.5, dict(update="heat_bath"), 3),
    ("multispin-metropolis-field-4x4", lattice.Ising((4, 4), J=0.8, h=0.3), 0.5,
     dict(update="metropolis", storage="multispin"), 3),
    ("multispin-heat_bath-field-4x4", lattice.Ising((4, 4), J=0.8, h=-0.3), 0.5,
     dict(update="heat_bath", storage="multispin"), 3),
    ("multispin-metropolis-2x8", lattice.Ising((2, 8)), 0.3, dict(update="metropolis", storage="multispin"), 3),
    ("metropolis-sequential-3x3", lattice.Ising((3, 3)), 0.4, dict(update="metropolis", sweep="sequential"), 3),
    ("heat_bath-sequential-3x3", lattice.Ising((3, 3)), 0.4, dict(update="heat_bath", sweep="sequential"), 3),
    ("wolff-3x3", lattice.Ising((3, 3)), 0.4, dict(update="wolff"), 3),
    ("swendsen_wang-3x3", lattice.Ising((3, 3)), 0.4, dict(update="swendsen_wang"), 3),
    # checkerboard Metropolis is reducible on the 3x3 triangular torus (test below): sequential sweeps
    ("metropolis-sequential-triangular-3x3", lattice.Ising((3, 3), geometry="triangular"), 0.25,
     dict(update="metropolis", sweep="sequential"), 3),
    ("heat_bath-triangular-3x3", lattice.Ising((3, 3), geometry="triangular"), 0.25, dict(update="heat_bath"), 3),
    ("wolff-triangular-3x3", lattice.Ising((3, 3), geometry="triangular"), 0.25, dict(update="wolff"), 3),
    ("swendsen_wang-triangular-3x3", lattice.Ising((3, 3), geometry="triangular"), 0.25,
     dict(update="swendsen_wang"), 3),
    ("metropolis-triangular-3x6", lattice.Ising((3, 6), geometry="triangular"), 0.25, dict(update="metropolis"), 3),
    ("metropolis-cubic-2x2x4", lattice.Ising((2, 2, 4), geometry="cubic"), 0.2, dict(update="metropolis"), 3),
    ("wolff-cubic-2x2x4", lattice.Ising((2, 2, 4), geometry="cubic"), 0.2, dict(update="wolff"), 3),
    ("heat_bath-chain-12", lattice.Ising((12,), geometry="chain", h=0.2), 0.7, dict(update="heat_bath"), 3),
    ("swendsen_wang-chain-12", lattice.Ising((12,), geometry="chain"), 0.7, dict(update="swendsen_wang"), 3),
    ("metropolis-bond-couplings-4x4",
     lattice.Ising((4, 4), J=np.random.default_rng(1).uniform(0.3, 1.2, (4, 4, 2)),
                   h=np.random.default_rng(2).normal(0, 0.3, (4, 4))), 0.6, dict(update="metropolis"), 3),
    ("wolff-bond-couplings-4x4", lattice.Ising((4, 4), J=np.random.default_rng(1).uniform(0.3, 1.2, (4, 4, 2))),
     0.6, dict(update="wolff"), 3),
    ("swendsen_wang-bond-couplings-3x3",
     lattice.Ising((3, 3), J=np.random.default_rng(3).uniform(0.3, 1.2, (3, 3, 2))), 0.6,
     dict(update="swendsen_wang"), 3),
    ("metropolis-ea-gaussian-4x4", lattice.EdwardsAnderson((4, 4), couplings="gaussian", seed=1), 1.0,
     dict(update="metropolis"), 3),
    ("heat_bath-ea-pm-4x4", lattice.EdwardsAnderson((4, 4), couplings="pm", seed=2), 0.8, dict(update="heat_bath"), 3),
    ("metropolis-sk-12", lattice.SherringtonKirkpatrick(12, seed=4), 1.2, dict(update="metropolis"), 2),
    ("heat_bath-sk-12", lattice.SherringtonKirkpatrick(12, seed=5, h=0.2), 1.2, dict(update="heat_bath"), 2),
]


@pytest.mark.parametrize("name,model,beta,kw,every", CASES, ids=[c[0] for c in CASES])
def test_energy_distribution_matches_enumeration(name, model, beta, kw, every):
    levels, probs = _levels(model, beta)
    e = _sample_energies(model, beta, 30_000, every, **kw)
    p, nbins = chi2_energies(e, levels, probs)
    assert nbins >= 3
    assert p > P_MIN, f"{name}: chi-square p = {p:.2e} over {nbins} bins"


def test_chi_square_detects_a_wrong_temperature():
    """The test has power: samples at beta = 0.4 are rejected against the beta = 0.44 distribution."""
    model = lattice.Ising((4, 4))
    levels, probs = _levels(model, 0.44)
    e = _sample_energies(model, 0.4, 30_000, 3, update="metropolis")
    p, _ = chi2_energies(e, levels, probs)
    assert p < 1e-6


def test_parallel_tempering_samples_each_temperature():
    model = lattice.Ising((4, 4))
    betas = [0.2, 0.3, 0.4, 0.5]
    pt = lattice.ParallelTempering(model, betas, seed=8, exchange_every=2, backend="cpp")
    results = pt.run(15_000, burn_in=100)
    assert np.all(results[0].extra["swap_acceptance"] > 0.2)
    for b, r in zip(betas, results):
        levels, probs = _levels(model, b)
        p, _ = chi2_energies(r.energy_series * model.n_sites, levels, probs)
        assert p > P_MIN, f"beta={b}: p = {p:.2e}"


def test_parallel_tempering_backends_identical():
    model = lattice.Ising((4, 4))
    out = []
    for be in ("cpp", "numba"):
        pt = lattice.ParallelTempering(model, [0.3, 0.4, 0.5], seed=8, backend=be)
        res = pt.run(50)
        out.append((np.stack([r.energy_series for r in res]), pt.replicas[1].spins))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])


def _sweep_matrix(model, beta, update):
    """Exact transition matrix of one checkerboard sweep over all 2^N states (tiny N only)."""
    import itertools

    nbr = model.neighbours()
    order, off = model.colouring("checkerboard")
    n = model.n_sites
    states = np.array(list(itertools.product([-1, 1], repeat=n)))
    code = ((states > 0) * (1 << np.arange(n)[::-1])).sum(axis=1)
    assert np.array_equal(code, np.arange(2**n))
    T = np.eye(2**n)
    for c in range(off.size - 1):
        Tc = np.zeros((2**n, 2**n))
        sites = order[off[c]:off[c + 1]]
        loc = states[:, nbr[sites]].sum(axis=2)  # (states, sites)
        s = states[:, sites]
        if update == "metropolis":
            p_new = np.minimum(1.0, np.exp(-beta * 2 * s * loc))  # flip probability
        else:
            p_up = 1.0 / (1.0 + np.exp(-2 * beta * loc))
            p_new = np.where(s > 0, 1 - p_up, p_up)  # probability that the spin ends opposite
        for flips in itertools.product([0, 1], repeat=sites.size):
            f = np.array(flips, bool)
            prob = np.prod(np.where(f, p_new, 1 - p_new), axis=1)
            target = code ^ (f * (1 << (n - 1 - sites))).sum()
            np.add.at(Tc, (np.arange(2**n), target), prob)
        T = T @ Tc
    return T


@pytest.mark.parametrize("update,reducible", [("metropolis", True), ("heat_bath", False)])
def test_checkerboard_on_3x3_triangular_is_stationary_and_why_metropolis_uses_sequential(update, reducible):
    """Both checkerboard kernels keep the Boltzmann distribution stationary (pi T = pi), but the
    deterministic flips of Metropolis (dE <= 0 accepted with probability 1) make its sweep
    reducible on the 3x3 triangular torus, so a single chain does not sample pi: the test above
    uses sequential sweeps for Metropolis there."""
    model = lattice.Ising((3, 3), geometry="triangular")
    beta = 0.1
    T = _sweep_matrix(model, beta, update)
    np.testing.assert_allclose(T.sum(axis=1), 1.0, atol=1e-12)
    states = np.array(list(__import__("itertools").product([-1, 1], repeat=9))).reshape(-1, 3, 3)
    pi = np.exp(-beta * model.energy(states))
    pi /= pi.sum()
    np.testing.assert_allclose(pi @ T, pi, atol=1e-14)
    unit = int(np.sum(np.abs(np.linalg.eigvals(T)) > 1 - 1e-9))
    assert (unit > 1) == reducible, f"{unit} eigenvalues of modulus 1"
