"""Bad input raises clear errors before any kernel runs."""

from __future__ import annotations

import numpy as np
import pytest

import physdl
from physdl import lattice


@pytest.mark.parametrize("kw", [dict(T=0.0), dict(T=-1.0), dict(T=float("nan")), dict(beta=0.0), dict(beta=-0.2),
                                dict(beta=float("nan")), dict(beta=float("inf"))])
def test_bad_temperature(kw):
    with pytest.raises(ValueError, match="T|beta"):
        lattice.Simulation(lattice.Ising((4, 4)), **kw)


def test_beta_and_T_exclusive():
    with pytest.raises(TypeError, match="exactly one"):
        lattice.Simulation(lattice.Ising((4, 4)), beta=0.3, T=2.0)


def test_unknown_geometry_lists_valid_ones():
    with pytest.raises(ValueError, match="'chain', 'square', 'triangular', 'cubic'"):
        lattice.Ising((4, 4), geometry="hexagonal")


def test_unknown_update_lists_valid_ones():
    with pytest.raises(ValueError, match="'metropolis', 'heat_bath', 'wolff', 'swendsen_wang'"):
        lattice.Simulation(lattice.Ising((4, 4)), beta=0.3, update="glauber")


def test_unknown_storage():
    with pytest.raises(ValueError, match="'byte', 'multispin'"):
        lattice.Simulation(lattice.Ising((4, 4)), beta=0.3, storage="bits")


@pytest.mark.parametrize("shape,geometry", [((5, 4), "square"), ((4, 4, 3), "cubic"), ((7,), "chain"),
                                            ((6, 4), "triangular")])
def test_checkerboard_needs_even_or_multiple_of_three(shape, geometry):
    with pytest.raises(ValueError, match="even|divisible by 3"):
        lattice.Simulation(lattice.Ising(shape, geometry=geometry), beta=0.3, update="metropolis")
    # the cluster updates and sequential sweeps accept the same lattice
    lattice.Simulation(lattice.Ising(shape, geometry=geometry), beta=0.3, update="wolff")
    lattice.Simulation(lattice.Ising(shape, geometry=geometry), beta=0.3, sweep="sequential")


def test_multispin_restrictions():
    with pytest.raises(ValueError, match="even"):
        lattice.Simulation(lattice.Ising((6, 5)), beta=0.3, storage="multispin")
    with pytest.raises(ValueError, match="square"):
        lattice.Simulation(lattice.Ising((6, 6), geometry="triangular"), beta=0.3, storage="multispin")
    with pytest.raises(ValueError, match="uniform"):
        lattice.Simulation(lattice.Ising((4, 4), J=np.ones((4, 4, 2))), beta=0.3, storage="multispin")
    with pytest.raises(ValueError, match="metropolis"):
        lattice.Simulation(lattice.Ising((4, 4)), beta=0.3, storage="multispin", update="wolff")


@pytest.mark.parametrize("J,h", [(np.ones((4, 4)), 0.0), (np.ones((4, 4, 3)), 0.0), (1.0, np.zeros((4, 5))),
                                 (np.ones((4, 4, 2, 1)), 0.0)])
def test_coupling_arrays_of_wrong_shape(J, h):
    with pytest.raises(ValueError, match="J must have shape|h must have shape"):
        lattice.Ising((4, 4), J=J, h=h)


def test_coupling_arrays_must_be_finite():
    J = np.ones((4, 4, 2))
    J[1, 1, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        lattice.Ising((4, 4), J=J)


def test_cluster_updates_need_ferromagnet():
    with pytest.raises(ValueError, match="ferromagnetic"):
        lattice.Simulation(lattice.EdwardsAnderson((4, 4), seed=1), beta=0.3, update="wolff")
    with pytest.raises(ValueError, match="ferromagnetic"):
        lattice.Simulation(lattice.Ising((4, 4), h=0.1), beta=0.3, update="swendsen_wang")


def test_too_large_lattice_rejected_before_allocating():
    model = lattice.Ising((1 << 20, 1 << 20))  # no tables are built yet
    with pytest.raises(lattice.LatticeTooLarge, match="GiB"):
        lattice.Simulation(model, beta=0.3)
    with pytest.raises(MemoryError):
        lattice.Simulation(model, beta=0.3, storage="multispin")
    with pytest.raises(ValueError, match="too large"):
        lattice.SherringtonKirkpatrick(100_000)


def test_bad_run_arguments():
    sim = lattice.Simulation(lattice.Ising((4, 4)), beta=0.3)
    with pytest.raises(ValueError, match="multiple"):
        sim.run(10, measure_every=3)
    with pytest.raises(ValueError, match="sweeps"):
        sim.run(0)
    with pytest.raises(TypeError, match="sweeps"):
        sim.run(1.5)
    with pytest.raises(ValueError, match="seed"):
        lattice.Simulation(lattice.Ising((4, 4)), beta=0.3, seed=-1)
    with pytest.raises(ValueError, match="backend"):  # byte storage never runs on the device
        lattice.Simulation(lattice.Ising((4, 4)), beta=0.3, storage="byte", backend="cuda")
    with pytest.raises(ValueError, match="backend='cuda' runs storage='multispin' only"):
        lattice.Simulation(lattice.Ising((4, 4)), beta=0.3, update="wolff", backend="cuda")
    with pytest.raises(TypeError, match="model"):
        lattice.Simulation("ising", beta=0.3)
    with pytest.raises(ValueError, match="shape"):
        lattice.Ising((4, 4), geometry="cubic")
    with pytest.raises(ValueError, match="betas"):
        lattice.ParallelTempering(lattice.Ising((4, 4)), [0.3])


@pytest.mark.skipif(not physdl.backends()["cpp"].available, reason="needs the cpp backend")
def test_kernel_entry_points_guard_indices():
    core = physdl._backend.module("cpp").lattice
    s = np.ones(4, np.int8)
    nbr = np.array([[1, 5], [0, 2], [1, 3], [2, 0]], np.int32)  # 5 is out of range
    e, m = np.zeros(1), np.zeros(1, np.int64)
    with pytest.raises(ValueError, match="outside"):
        core.byte_sweeps(s, nbr, True, 1.0, 0.0, np.zeros(0), np.zeros(0), np.arange(4, dtype=np.int32),
                         np.array([0, 4], np.int64), 0, 0.3, np.zeros(6, np.uint64), 1, 0, 0, 1, 1, e, m)
    with pytest.raises(ValueError, match="wrong size"):
        core.multispin_sweeps(np.zeros(3, np.uint64), 4, 4, 0, np.zeros(10, np.uint64), 1.0, 0.0, 1, 0, 0, 1, 1, e, m)
