"""Storage chosen by default: multi-spin exactly where it runs (square Ising, uniform J and h, even
sides, Metropolis or heat bath, checkerboard), byte elsewhere; explicit choices honoured; default
runs agree with Kaufman's exact finite-torus energy."""

from __future__ import annotations

import numpy as np
import pytest

from physdl import lattice
from physdl.distributed import LatticeRun
from physdl.lattice.exact import kaufman_thermodynamics
from physdl.lattice.simulation import multispin_unsupported


@pytest.mark.parametrize("backend", ["cpp", "numba"])
@pytest.mark.parametrize("model", [lattice.Ising((8, 8)), lattice.Ising((4, 130)), lattice.Ising((2, 2)),
                                   lattice.Ising((6, 6), h=0.3), lattice.Ising((6, 6), J=-1.0),
                                   lattice.Ising((8, 8), geometry="square", J=0.5, h=-0.2)], ids=repr)
@pytest.mark.parametrize("update", ["metropolis", "heat_bath"])
def test_default_is_multispin_where_it_runs(model, update, backend):
    sim = lattice.Simulation(model, beta=0.4, update=update, backend=backend)
    assert sim.storage == "multispin" and sim.storage_auto
    assert "storage='multispin' (auto)" in repr(sim)
    assert multispin_unsupported(model, update) is None
    assert sim.run(4).extra["storage"] == "multispin"


BYTE_CASES = [
    (lattice.Ising((8, 8)), dict(update="wolff"), "update"),
    (lattice.Ising((8, 8)), dict(update="swendsen_wang"), "update"),
    (lattice.Ising((8, 8)), dict(sweep="sequential"), "checkerboard"),
    (lattice.Ising((6, 6), geometry="triangular"), {}, "square"),
    (lattice.Ising((4, 4, 4)), {}, "square"),
    (lattice.Ising((8,)), {}, "square"),
    (lattice.Ising((8, 7)), dict(sweep="sequential"), "checkerboard"),
    (lattice.Ising((6, 5)), dict(update="heat_bath", sweep="sequential"), "checkerboard"),
    (lattice.Ising((6, 6), J=np.ones((6, 6, 2))), {}, "uniform"),
    (lattice.Ising((6, 6), h=np.full((6, 6), 0.1)), {}, "uniform"),
    (lattice.EdwardsAnderson((6, 6), seed=1), {}, "uniform"),
    (lattice.SherringtonKirkpatrick(8, seed=1), {}, "square"),
]


@pytest.mark.parametrize("model,kw,why", BYTE_CASES, ids=lambda x: repr(x) if not isinstance(x, str) else x)
def test_default_is_byte_where_multispin_cannot_run(model, kw, why):
    sim = lattice.Simulation(model, beta=0.4, **kw)
    assert sim.storage == "byte" and sim.storage_auto
    assert "storage='byte' (auto)" in repr(sim)
    reason = multispin_unsupported(model, sim.update, sim.sweep)
    assert reason is not None and why in reason
    with pytest.raises(ValueError, match="multispin"):  # the same reason refuses it when asked for
        lattice.Simulation(model, beta=0.4, storage="multispin", **kw)


def test_odd_sides_on_the_checkerboard_still_refused():
    with pytest.raises(ValueError, match="even"):  # byte checkerboard needs even sides too
        lattice.Simulation(lattice.Ising((8, 7)), beta=0.4)


def test_explicit_storage_is_honoured_and_byte_runs_are_unchanged():
    m = lattice.Ising((12, 12))
    for name in ("byte", "multispin"):
        sim = lattice.Simulation(m, beta=0.42, seed=7, storage=name)
        assert sim.storage == name and not sim.storage_auto and "(auto)" not in repr(sim)
    assert lattice.Simulation(m, beta=0.42, storage="auto").storage_auto
    with pytest.raises(ValueError, match="storage"):
        lattice.Simulation(m, beta=0.42, storage="bits")
    # explicit byte storage: the numbers of the releases whose default it was, bit for bit
    for update, want in (("metropolis", [-148, -172, -204]), ("heat_bath", [-168, -172, -220])):
        for backend in ("cpp", "numba"):
            r = lattice.Simulation(m, beta=0.42, seed=7, update=update, storage="byte", backend=backend).run(
                50, burn_in=5)
            np.testing.assert_array_equal(np.rint(r.energy_series[:3] * 144), want)
    # the default run is the explicit multi-spin run
    a = lattice.Simulation(m, beta=0.42, seed=7).run(30)
    b = lattice.Simulation(m, beta=0.42, seed=7, storage="multispin").run(30)
    np.testing.assert_array_equal(a.energy_series, b.energy_series)


def test_save_and_load_keep_the_chosen_storage(tmp_path):
    sim = lattice.Simulation(lattice.Ising((8, 8)), beta=0.4, seed=2)
    sim.run(10)
    sim.save(tmp_path / "s")
    back = lattice.Simulation.load(tmp_path / "s")
    assert back.storage == "multispin"
    sim.run(10)
    back.run(10)
    np.testing.assert_array_equal(back.spins, sim.spins)


def test_parallel_tempering_keeps_byte_by_default_and_none_picks():
    m = lattice.Ising((8, 8))
    pt = lattice.ParallelTempering(m, [0.3, 0.4, 0.5], seed=3)
    assert all(r.storage == "byte" for r in pt.replicas)
    pt2 = lattice.ParallelTempering(m, [0.3, 0.4, 0.5], seed=3, storage=None)
    assert all(r.storage == "multispin" for r in pt2.replicas)
    res = pt2.run(50)
    assert len(res) == 3 and np.all(pt2.attempted > 0)
    ea = lattice.ParallelTempering(lattice.EdwardsAnderson((4, 4), seed=1), [0.5, 1.0], seed=3, storage=None)
    assert all(r.storage == "byte" for r in ea.replicas)


def test_lattice_run_task_defaults_to_auto():
    assert LatticeRun().storage == "auto" and LatticeRun().spec()["storage"] == "auto"
    with pytest.raises(ValueError, match="storage"):
        LatticeRun(storage="bits")
    out = LatticeRun(sweeps=20, burn_in=2)({"L": 6, "T": 2.5}, seed=4)
    ref = lattice.Simulation(lattice.Ising((6, 6)), T=2.5, seed=4, storage="multispin").run(20, burn_in=2)
    np.testing.assert_array_equal(out["energy_series"], ref.energy_series)


@pytest.mark.parametrize("update", ["metropolis", "heat_bath"])
def test_default_run_matches_kaufman_energy(update):
    L, sweeps = 16, 40_000
    for i, beta in enumerate((0.35, 0.4407)):
        sim = lattice.Simulation(lattice.Ising((L, L)), beta=beta, update=update, seed=500 + i, backend="cpp")
        assert sim.storage == "multispin"
        res = sim.run(sweeps, burn_in=2000)
        e = float(kaufman_thermodynamics(beta, L)["energy"])
        assert abs(res.energy.value - e) < 4 * res.energy.error, (update, beta, res.energy, e)
        assert res.energy.error < 0.005
