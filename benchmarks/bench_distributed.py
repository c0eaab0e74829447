"""Sweep throughput on this machine: a 16-point scan of independent lattice runs, serial loop vs
``physdl.distributed.sweep`` on a 2-worker LocalCluster vs a hand-written
``concurrent.futures.ProcessPoolExecutor`` (the peer a user would write), in one run; and the
per-point overhead of the sweep machinery (store write, seeds, bookkeeping) on trivial points.

Run with timings:  python -m pytest benchmarks/bench_distributed.py --benchmark-enable -s
Every variant's results are checked equal to the serial loop's, bit for bit.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from physdl import distributed as dist

distributed = pytest.importorskip("distributed")

# Dask's cluster teardown leaves sockets and event-loop objects for the garbage collector; their
# ResourceWarnings are Dask's, not physdl's (physdl's own code still runs under filterwarnings=error).
pytestmark = [pytest.mark.filterwarnings("ignore::ResourceWarning"),
              pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")]


def _setting(quick):
    # about 1 s per point when timed; a few ms in a plain test run
    return dist.LatticeRun(sweeps=40 if quick else 40000, burn_in=0), (4 if quick else 16)


def _pool_point(args):
    task, params, seed = args
    t0 = time.perf_counter()
    return task(params, seed), time.perf_counter() - t0


def test_sweep_speed_against_serial_and_process_pool(request, tmp_path, benchmark):
    task, n = _setting(benchmark.disabled)
    points = [{"L": 48, "T": float(t)} for t in np.linspace(1.8, 3.0, n)]
    seeds = [dist.point_seed(0, p) for p in points]

    t0 = time.perf_counter()
    serial = [task(p, s) for p, s in zip(points, seeds)]
    t_serial = time.perf_counter() - t0

    t0 = time.perf_counter()
    with ProcessPoolExecutor(2) as ex:
        pool = list(ex.map(_pool_point, [(task, p, s) for p, s in zip(points, seeds)]))
    t_pool = time.perf_counter() - t0

    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    client = distributed.Client(cluster)
    try:
        # started workers with physdl imported (as after a sweep's first points): the timing below is the
        # sweep, not the cluster start or the first import
        client.run(lambda: __import__("physdl.lattice"))
        t0 = time.perf_counter()
        res = benchmark.pedantic(dist.sweep, args=(task, points, tmp_path / "bench.h5"),
                                 kwargs=dict(seed=0, client=client, progress=False), rounds=1, iterations=1)
        t_sweep = time.perf_counter() - t0
    finally:
        client.close()
        cluster.close()

    for i in range(n):
        assert np.array_equal(res.table.results[i]["energy_series"], serial[i]["energy_series"])
        assert np.array_equal(pool[i][0]["energy_series"], serial[i]["energy_series"])
    per_point = t_serial / n
    print(f"\nsweep of {n} lattice points ({per_point:.2f} s each): serial {t_serial:.2f} s, "
          f"ProcessPool(2) {t_pool:.2f} s, physdl sweep on 2 workers {t_sweep:.2f} s; "
          f"speed-up over serial {t_serial / t_sweep:.2f}x, sweep / pool time {t_sweep / t_pool:.2f}")


def test_sweep_overhead_per_point(request, tmp_path, benchmark):
    n = 20 if benchmark.disabled else 200

    def nothing(i, seed):
        return {"i": i}

    points = dist.grid(i=list(range(n)))
    t0 = time.perf_counter()
    res = benchmark.pedantic(dist.sweep, args=(nothing, points, tmp_path / "o.h5"),
                             kwargs=dict(client="serial", progress=False), rounds=1, iterations=1)
    per = (time.perf_counter() - t0) / n
    assert res.computed == n and [r["i"] for r in res.table.results] == list(range(n))
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    client = distributed.Client(cluster)
    try:
        client.run(lambda: __import__("physdl.lattice"))
        t0 = time.perf_counter()
        res2 = dist.sweep(nothing, points, tmp_path / "o2.h5", client=client, progress=False)
        per_dask = (time.perf_counter() - t0) / n
    finally:
        client.close()
        cluster.close()
    assert [r["i"] for r in res2.table.results] == list(range(n))
    print(f"\nsweep machinery overhead: {per * 1e3:.2f} ms per point in this process (seed, store write with "
          f"fsync, bookkeeping); {per_dask * 1e3:.2f} ms per point of wall time through a 2-worker LocalCluster "
          "(submission, scheduling, result transfer, store)")
