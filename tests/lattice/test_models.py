"""Model construction: neighbour tables and energies against the independent enumeration module,
disorder statistics, configurations, and the 1D chain against its transfer matrix."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from physdl import lattice
from physdl.lattice.enumerate import coupling_matrix, state_energies
from physdl.lattice.exact import chain_thermodynamics


def _matrix(model):
    n, z = model.n_sites, model.z
    Jm = np.zeros((n, n))
    np.add.at(Jm, (np.repeat(np.arange(n), z), model.neighbours().reshape(-1)), model.bond_couplings())
    return Jm


@pytest.mark.parametrize("shape,geometry", [((7,), "chain"), ((2,), "chain"), ((3, 4), "square"), ((2, 5), "square"),
                                            ((3, 6), "triangular"), ((2, 3, 4), "cubic")])
def test_neighbour_table_matches_enumeration_bonds(shape, geometry):
    model = lattice.Ising(shape, geometry=geometry)
    Jm = _matrix(model)
    np.testing.assert_array_equal(Jm, Jm.T)
    K = coupling_matrix(shape, geometry)  # one geometry: the same numbering and bonds
    np.testing.assert_array_equal(Jm, K)


@pytest.mark.parametrize("shape,geometry", [((3, 4), "square"), ((3, 3), "triangular"), ((2, 2, 3), "cubic")])
def test_colour_classes_are_independent_sets(shape, geometry):
    model = lattice.Ising(tuple(2 * s if geometry != "triangular" and s % 2 else s for s in shape), geometry=geometry)
    order, off = model.colouring("checkerboard")
    colour = np.empty(model.n_sites, int)
    for c in range(off.size - 1):
        colour[order[off[c]:off[c + 1]]] = c
    assert np.all(colour[model.neighbours()] != colour[:, None])
    assert sorted(order.tolist()) == list(range(model.n_sites))


def test_energy_function_matches_enumeration_with_bond_couplings():
    rng = np.random.default_rng(3)
    model = lattice.Ising((3, 4), J=rng.normal(size=(3, 4, 2)), h=rng.normal(size=(3, 4)))
    states = rng.integers(0, 2**12, 50)
    spins = ((states[:, None] >> np.arange(12)) & 1) * 2 - 1
    ref = state_energies(_matrix(model), model.fields(), states)
    np.testing.assert_allclose(model.energy(spins.reshape(-1, 3, 4)), ref, atol=1e-12)


def test_edwards_anderson_disorder():
    pm = lattice.EdwardsAnderson((32, 32), couplings="pm", seed=1)
    vals = pm.J.reshape(-1)
    assert set(np.unique(vals).tolist()) == {-1.0, 1.0}
    assert stats.binomtest(int((vals > 0).sum()), vals.size).pvalue > 1e-3
    g = lattice.EdwardsAnderson((8, 8, 8), geometry="cubic", couplings="gaussian", J=2.0, seed=2)
    assert g.J.shape == (8, 8, 8, 3)
    assert stats.kstest(g.J.reshape(-1) / 2.0, "norm").pvalue > 1e-3
    assert not g.ferromagnetic


def test_sherrington_kirkpatrick_couplings():
    sk = lattice.SherringtonKirkpatrick(400, seed=3)
    M = sk.matrix
    np.testing.assert_array_equal(M, M.T)
    assert np.all(np.diag(M) == 0)
    off = M[np.triu_indices(400, 1)] * np.sqrt(400)
    assert stats.kstest(off, "norm").pvalue > 1e-3


def test_configurations_are_int8_samples():
    sim = lattice.Simulation(lattice.Ising((8, 10)), beta=0.3, update="wolff", seed=4)
    conf = sim.configurations(5, every=2, burn_in=10)
    assert conf.shape == (5, 8, 10) and conf.dtype == np.int8
    assert set(np.unique(conf).tolist()) <= {-1, 1}
    np.testing.assert_array_equal(conf[-1], sim.spins)
    ms = lattice.Simulation(lattice.Ising((4, 130)), beta=0.3, storage="multispin", seed=4)
    c2 = ms.configurations(3)
    assert c2.shape == (3, 4, 130) and c2.dtype == np.int8


def test_chain_against_transfer_matrix():
    model = lattice.Ising((64,), geometry="chain", J=1.0, h=0.25)
    beta = 0.8
    res = lattice.Simulation(model, beta=beta, update="heat_bath", seed=6, backend="cpp").run(20_000, burn_in=500)
    ex = chain_thermodynamics(64, beta, J=1.0, h=0.25)
    assert abs(res.energy.value - float(ex["energy"])) < 4 * res.energy.error
    assert abs(res.specific_heat.value - float(ex["specific_heat"])) < 4 * res.specific_heat.error
    m = np.mean(res.magnetization_series)
    assert m > 0.3  # the field orders the chain


def test_spin_glass_parallel_tempering_runs_and_reports():
    model = lattice.EdwardsAnderson((6, 6), couplings="pm", seed=7)
    pt = lattice.ParallelTempering(model, np.linspace(0.3, 1.5, 6), seed=2)
    res = pt.run(400, burn_in=50)
    assert len(res) == 6
    # lower temperature, lower energy
    e = [r.energy.value for r in res]
    assert all(a > b for a, b in zip(e, e[1:]))
    assert np.all(res[0].extra["swap_acceptance"] > 0)
