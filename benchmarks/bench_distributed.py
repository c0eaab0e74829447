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
    # about 1 s per point when timed (L = 256, multi-spin storage by default); a few ms in a plain test run
    return dist.LatticeRun(sweeps=40 if quick else 40000, burn_in=0), (4 if quick else 16)


def _pool_point(args):
    task, params, seed = args
    t0 = time.perf_counter()
    return task(params, seed), time.perf_counter() - t0


def _warm():
    __import__("physdl.lattice")


def test_sweep_speed_against_serial_and_process_pool(request, tmp_path, benchmark):
    """Serial loop once; then the ProcessPoolExecutor peer and the sweep alternated (three rounds when
    timed), both on already started workers with physdl imported (the pool through its initializer,
    the cluster through client.run), so the timings are the sweep, not process start-up or imports.
    The cluster is the one ``sweep(client=None)`` starts (``dist.local_cluster``)."""
    task, n = _setting(benchmark.disabled)
    rounds = 1 if benchmark.disabled else 3
    points = [{"L": 256, "T": float(t)} for t in np.linspace(1.8, 3.0, n)]
    seeds = [dist.point_seed(0, p) for p in points]

    t0 = time.perf_counter()
    serial = [task(p, s) for p, s in zip(points, seeds)]
    t_serial = time.perf_counter() - t0

    t_pool, t_sweep = [], []
    cluster = dist.local_cluster(2)
    client = distributed.Client(cluster)
    try:
        client.run(_warm)
        with ProcessPoolExecutor(2, initializer=_warm) as ex:
            list(ex.map(_pool_point, [(task, points[0], seeds[0])] * 2))  # both pool workers started
            for r in range(rounds):
                t0 = time.perf_counter()
                pool = list(ex.map(_pool_point, [(task, p, s) for p, s in zip(points, seeds)]))
                t_pool.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                if r == 0:
                    res = benchmark.pedantic(dist.sweep, args=(task, points, tmp_path / "bench0.h5"),
                                             kwargs=dict(seed=0, client=client, progress=False), rounds=1,
                                             iterations=1)
                else:
                    res = dist.sweep(task, points, tmp_path / f"bench{r}.h5", seed=0, client=client,
                                     progress=False)
                t_sweep.append(time.perf_counter() - t0)
                for i in range(n):
                    assert np.array_equal(res.table.results[i]["energy_series"], serial[i]["energy_series"])
                    assert np.array_equal(pool[i][0]["energy_series"], serial[i]["energy_series"])
    finally:
        client.close()
        cluster.close()

    per_point = t_serial / n
    tp, ts = float(np.median(t_pool)), float(np.median(t_sweep))
    ratios = [b / a for a, b in zip(t_pool, t_sweep)]
    print(f"\nsweep of {n} lattice points ({per_point:.2f} s each): serial {t_serial:.2f} s; "
          f"{rounds} alternated rounds: ProcessPool(2) " + ", ".join(f"{t:.2f}" for t in t_pool)
          + " s, physdl sweep on 2 workers " + ", ".join(f"{t:.2f}" for t in t_sweep)
          + f" s; medians: speed-up over serial {t_serial / ts:.2f}x (pool {t_serial / tp:.2f}x), "
          f"sweep / pool time " + ", ".join(f"{r:.3f}" for r in ratios) + f" (median {np.median(ratios):.3f})")


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
    cluster = dist.local_cluster(2)
    client = distributed.Client(cluster)
    try:
        client.run(_warm)
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
