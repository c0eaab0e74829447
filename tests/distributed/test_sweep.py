"""Sweeps on Dask: equal to the serial loop bit for bit on 1 and 2 workers and in any order, a killed
worker loses nothing, a stopped sweep resumes with only the missing points, bad input is refused."""

import os
import random
import signal

import numpy as np
import pytest

from physdl import distributed as dist
from physdl.distributed.spec import SpecError
from physdl.distributed.store import StoreError
from physdl.lattice import Ising, Simulation
from physdl.stats import Estimate

distributed = pytest.importorskip("distributed")

# Dask's cluster teardown leaves sockets and event-loop objects for the garbage collector; their
# ResourceWarnings are Dask's, not physdl's (physdl's own code still runs under filterwarnings=error).
pytestmark = [pytest.mark.filterwarnings("ignore::ResourceWarning"),
              pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")]

TASK = dist.LatticeRun(sweeps=120, burn_in=10)
POINTS = dist.grid(L=[4, 6], T=[1.5, 2.0, 2.5, 3.0])


@pytest.fixture(scope="module")
def client():
    cluster = dist.local_cluster(2)  # the cluster sweep(client=None) starts
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    return dist.sweep(TASK, POINTS, tmp_path_factory.mktemp("s") / "serial.h5", seed=3, client="serial",
                      progress=False).table


def same_tables(a, b):
    assert a.params == b.params
    assert np.array_equal(a.seeds, b.seeds)
    for ra, rb in zip(a.results, b.results):
        assert ra.keys() == rb.keys()
        for k in ra:
            if isinstance(ra[k], np.ndarray):
                assert np.array_equal(ra[k], rb[k]), k
            else:
                assert ra[k] == rb[k], k
    return True


def _nap(i):
    import time

    time.sleep(0.4)
    return i


def test_local_cluster_hands_each_worker_one_point_at_a_time(client):
    """With Dask's default worker-saturation (1.1) a one-thread worker is sent a second task to hold in
    reserve; physdl's clusters keep the rest queued on the scheduler, so no worker sits on a point
    while another is idle at the end of a sweep."""
    import time

    futs = client.map(_nap, range(6), pure=False)
    try:
        deadline = time.time() + 10
        while time.time() < deadline:
            processing = client.run_on_scheduler(
                lambda dask_scheduler: sorted(len(ws.processing) for ws in dask_scheduler.workers.values()))
            if sum(processing) >= 2:
                break
            time.sleep(0.02)
        queued = client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.queued))
        assert processing == [1, 1] and queued == 4, (processing, queued)
        assert client.gather(futs) == list(range(6))
    finally:
        client.cancel(futs)


def test_local_cluster_checks_its_arguments():
    with pytest.raises(ValueError, match="n_workers"):
        dist.local_cluster(0)
    with pytest.raises(ValueError, match="threads_per_worker"):
        dist.local_cluster(1, threads_per_worker=0)


def test_serial_point_is_an_independent_lattice_run(serial):
    # point 0 recomputed by hand with its derived seed: the sweep adds nothing to the physics
    p, seed = serial.params[0], int(serial.seeds[0])
    res = Simulation(Ising((p["L"], p["L"])), T=p["T"], seed=seed).run(120, burn_in=10)
    assert serial.results[0]["energy"] == res.energy
    assert np.array_equal(serial.results[0]["energy_series"], res.energy_series)
    assert isinstance(serial.results[0]["specific_heat"], Estimate)


def test_two_workers_and_shuffled_order_equal_serial(client, serial, tmp_path):
    r2 = dist.sweep(TASK, POINTS, tmp_path / "w2.h5", seed=3, client=client, progress=False)
    assert r2.computed == 8 and same_tables(r2.table, serial)
    shuffled = POINTS[:]
    random.Random(1).shuffle(shuffled)
    r3 = dist.sweep(TASK, shuffled, tmp_path / "shuf.h5", seed=3, client=client, progress=False).table
    order = [shuffled.index(p) for p in POINTS]
    for i, j in enumerate(order):  # same point, same result, whatever its position
        assert r3.params[j] == serial.params[i]
        assert np.array_equal(r3.results[j]["energy_series"], serial.results[i]["energy_series"])


def test_one_worker_equals_serial(serial, tmp_path):
    r1 = dist.sweep(TASK, POINTS, tmp_path / "w1.h5", seed=3, workers=1, progress=False)
    assert same_tables(r1.table, serial)


def test_killed_worker_loses_nothing(client, serial, tmp_path):
    pids = client.run(os.getpid)
    killed = []

    def kill_one(i, params, res):
        if not killed:
            pid = next(iter(pids.values()))
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    r = dist.sweep(TASK, POINTS, tmp_path / "kill.h5", seed=3, client=client, progress=False, callback=kill_one)
    assert killed and r.computed == 8
    assert same_tables(r.table, serial)
    client.wait_for_workers(2, timeout=60)


def test_stopped_sweep_resumes_with_missing_points_only(serial, tmp_path):
    out = tmp_path / "stop.h5"

    class Stop(Exception):
        pass

    def stop_after_three(i, params, res):
        if stop_after_three.n == 2:
            raise Stop
        stop_after_three.n += 1

    stop_after_three.n = 0
    with pytest.raises(Stop):
        dist.sweep(TASK, POINTS, out, seed=3, client="serial", progress=False, callback=stop_after_three)
    assert len(dist.load_sweep(out)) == 3
    r = dist.sweep(TASK, POINTS, out, seed=3, client="serial", progress=False)
    assert (r.computed, r.skipped) == (5, 3)
    assert same_tables(r.table, serial)


def test_half_written_point_is_recomputed(serial, tmp_path):
    import h5py

    out = tmp_path / "half.h5"
    dist.sweep(TASK, POINTS, out, seed=3, client="serial", progress=False)
    with h5py.File(out, "a") as f:
        key = next(iter(f["points"]))
        del f["points"][key].attrs["complete"]
    r = dist.sweep(TASK, POINTS, out, seed=3, client="serial", progress=False)
    assert r.computed == 1 and same_tables(r.table, serial)


def test_function_task_and_table(tmp_path):
    def square(x, seed):
        return {"y": Estimate(float(x * x), 0.1), "seed_low": seed % 1000}

    r = dist.sweep(square, dist.grid(x=[1, 2, 3]), tmp_path / "f.h5", client="serial", progress=False)
    assert np.array_equal(r.table.values("y"), [1.0, 4.0, 9.0])
    assert np.array_equal(r.table.errors("y"), [0.1] * 3)
    ax = r.table.plot("x", "y")
    assert len(ax.lines) >= 1


@pytest.mark.parametrize("points,match", [([], "empty"), ([{"L": 4}], "T"), ([{"L": 4, "T": 2.0, "q": 1}], "q"),
                                          ([{"L": 4, "T": float("nan")}], "finite"),
                                          ([{"L": 4, "T": 2.0}, {"T": 2.0, "L": 4}], "more than once")])
def test_bad_points_are_refused(points, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        dist.sweep(TASK, points, tmp_path / "bad.h5", client="serial", progress=False)
    assert not (tmp_path / "bad.h5").exists()


def test_store_of_another_sweep_is_refused(tmp_path):
    out = tmp_path / "a.h5"
    dist.sweep(TASK, POINTS[:2], out, seed=3, client="serial", progress=False)
    with pytest.raises(StoreError, match="different sweep"):
        dist.sweep(TASK, POINTS[:2], out, seed=4, client="serial", progress=False)
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5 at all")
    with pytest.raises(StoreError, match="junk.h5"):
        dist.sweep(TASK, POINTS[:2], junk, client="serial", progress=False)
    with pytest.raises(StoreError, match="junk.h5"):
        dist.load_sweep(junk)


def test_unreachable_scheduler_is_a_clear_error(tmp_path):
    with pytest.raises(ConnectionError, match="127.0.0.1:9"):
        dist.sweep(TASK, POINTS[:1], tmp_path / "u.h5", client="tcp://127.0.0.1:9", timeout=1, progress=False)


def test_cli_sweep_spec(tmp_path, serial):
    from physdl.cli import main

    spec = tmp_path / "scan.toml"
    spec.write_text('out = "scan.h5"\nseed = 3\n[task]\nkind = "lattice"\nsweeps = 120\nburn_in = 10\n'
                    '[grid]\nL = [4, 6]\nT = [1.5, 2.0, 2.5, 3.0]\n')
    assert main(["sweep", str(spec), "--serial", "--no-progress"]) == 0
    assert same_tables(dist.load_sweep(tmp_path / "scan.h5"), serial)
    bad = tmp_path / "bad.toml"
    bad.write_text('out = "x.h5"\n[task]\nkind = "nope"\n[grid]\nL = [4]\n')
    assert main(["sweep", str(bad), "--serial"]) == 2
    with pytest.raises(SpecError, match="bad.toml"):
        dist.run_spec(bad, serial=True)


def test_sweep_table_as_a_scan_shares_the_scan_helpers(serial, tmp_path):
    """A lattice sweep's table becomes a lattice ScanResult: same values and errors per point, the
    scan's Binder crossing and a save/load round trip."""
    from physdl.lattice.scan import OBSERVABLES, ScanResult

    sc = serial.to_scan()
    assert sc.sizes == [4, 6] and sc.params["seed"] == 3 and sc.params["sweeps"] == TASK.sweeps
    for k, (p, r) in enumerate(zip(serial.params, serial.results)):
        row = np.flatnonzero((sc.table["L"] == p["L"]) & (sc.table["T"] == p["T"]))
        assert row.size == 1
        for name in OBSERVABLES:
            assert sc.table[name][row[0]] == r[name].value and sc.table[name + "_error"][row[0]] == r[name].error
    sc.save(tmp_path / "scan.h5")
    back = ScanResult.load(tmp_path / "scan.h5")
    assert np.array_equal(back.table["binder"], sc.table["binder"])
    with pytest.raises(ValueError, match="L and T"):
        dist.sweep(lambda i, seed: {"i": i}, dist.grid(i=[1]), tmp_path / "f.h5", client="serial",
                   progress=False).table.to_scan()
