"""One geometry for the Monte Carlo models and the exact enumeration, on non-square shapes.

The references are independent: a neighbour table built here by looping over coordinates, the
energy of every state computed from the model's own neighbour table, and Monte Carlo samples
compared with the exact Boltzmann distribution of the enumeration (chi-square)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from physdl import lattice
from physdl.geometry import FORWARD, Lattice
from physdl.lattice.enumerate import (coupling_matrix, enumerate_ising, lattice_bonds, lattice_state_energies,
                                      state_spins)

from .helpers import chi2_energies

SHAPES = [((3, 4), "square"), ((2, 6), "square"), ((4, 6), "square"), ((3, 6), "triangular"),
          ((6, 3), "triangular"), ((2, 3, 4), "cubic"), ((5,), "chain")]


def _brute_adjacency(shape, geometry):
    """Coupling matrix by looping over coordinates and forward offsets (wrap-around)."""
    n = int(np.prod(shape))
    K = np.zeros((n, n))
    for x in itertools.product(*[range(s) for s in shape]):
        for off in FORWARD[geometry]:
            y = tuple((xi + o) % s for xi, o, s in zip(x, off, shape))
            i, j = np.ravel_multi_index(x, shape), np.ravel_multi_index(y, shape)
            if i != j:
                K[i, j] += 1
                K[j, i] += 1
    return K


@pytest.mark.parametrize("shape,geometry", SHAPES)
def test_model_enumeration_and_geometry_agree(shape, geometry):
    model = lattice.Ising(shape, geometry=geometry)
    n, z = model.n_sites, model.z
    Jm = np.zeros((n, n))
    np.add.at(Jm, (np.repeat(np.arange(n), z), model.neighbours().reshape(-1)), model.bond_couplings())
    K = coupling_matrix(shape, geometry)
    ref = _brute_adjacency(shape, geometry)
    np.testing.assert_array_equal(K, ref)
    np.testing.assert_array_equal(Jm, ref)
    np.testing.assert_array_equal(lattice_bonds(shape, geometry), Lattice(geometry, shape).bonds())
    np.testing.assert_array_equal(model.neighbours(), Lattice(geometry, shape).neighbours())


@pytest.mark.parametrize("shape,geometry", [((3, 4), "square"), ((2, 6), "square"), ((3, 5), "triangular"),
                                            ((2, 2, 3), "cubic")])
def test_every_state_energy_matches_the_model(shape, geometry):
    model = lattice.Ising(shape, geometry=geometry, J=0.7, h=0.2)
    n = model.n_sites
    E, M = lattice_state_energies(shape, geometry, J=0.7, h=0.2)
    spins = state_spins(np.arange(2**n), n).reshape((-1,) + shape)  # bit i = site i = C-order index
    np.testing.assert_allclose(E, model.energy(spins), atol=1e-10)
    np.testing.assert_array_equal(M, spins.reshape(2**n, -1).sum(axis=1))


def test_monte_carlo_on_a_non_square_shape_matches_enumeration():
    shape, beta = (2, 6), 0.45
    model = lattice.Ising(shape, J=1.0, h=0.15)
    ens = enumerate_ising(shape, J=1.0, h=0.15)
    levels, p = ens.level_probabilities(beta)
    sim = lattice.Simulation(model, beta=beta, update="metropolis", seed=77, backend="cpp")
    res = sim.run(30_000, burn_in=200, measure_every=3)
    pval, bins = chi2_energies(res.energy_series * model.n_sites, levels, p)
    assert bins >= 4
    assert pval > 1e-3, pval
