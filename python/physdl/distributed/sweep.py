"""The sweep driver: seeds per point, a Dask cluster, one store, resume and retries."""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import math
import numbers
import os
import time
from dataclasses import dataclass
from pathlib import Path

from .._progress import enabled as _progress_enabled
from .._validate import check_int, check_seed
from .store import SweepStore, SweepTable, load_sweep
from .tasks import Task, as_task

__all__ = ["grid", "point_key", "point_seed", "sweep", "SweepResult", "gpu_cluster"]


def _canonical_value(v, where):
    if isinstance(v, (bool, str)) or v is None:
        return v
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real):
        f = float(v)
        if not math.isfinite(f):
            raise ValueError(f"{where} must be finite, got {v!r}")
        return f
    if isinstance(v, (list, tuple)):
        return [_canonical_value(x, where) for x in v]
    raise TypeError(f"{where} must be a number, string, bool or a list of them, got {type(v).__name__}")


def _canonical(params: dict, index: int) -> dict:
    if not isinstance(params, dict) or not params:
        raise TypeError(f"grid point {index} must be a non-empty dict of parameters, got {params!r}")
    out = {}
    for k, v in params.items():
        if not isinstance(k, str) or not k.isidentifier():
            raise ValueError(f"grid point {index}: parameter names must be identifiers, got {k!r}")
        out[k] = _canonical_value(v, f"grid point {index} parameter {k!r}")
    return out


def _text(params: dict) -> str:
    return json.dumps(params, sort_keys=True, separators=(",", ":"))


def point_key(params: dict) -> str:
    """Stable name of a point in the store (independent of the order of the parameters)."""
    return hashlib.blake2b(_text(_canonical(params, 0)).encode(), digest_size=8).hexdigest()


def point_seed(seed: int, params: dict) -> int:
    """The point's seed: a 64-bit hash of the sweep seed and the point's parameters (not its index).

    Examples
    --------
    >>> point_seed(1, {"T": 2.0}) != point_seed(2, {"T": 2.0})
    True
    """
    seed = check_seed(seed)
    h = hashlib.blake2b(seed.to_bytes(8, "little") + _text(_canonical(params, 0)).encode(), digest_size=8)
    return int.from_bytes(h.digest(), "little")


def grid(**axes) -> list[dict]:
    """The product of the given parameter axes, as a list of points (last axis fastest).

    Examples
    --------
    >>> grid(L=[8], T=[2.0, 2.5])
    [{'L': 8, 'T': 2.0}, {'L': 8, 'T': 2.5}]
    """
    if not axes:
        raise ValueError("grid needs at least one parameter axis")
    names, values = [], []
    for k, v in axes.items():
        if isinstance(v, (str, bytes)) or not hasattr(v, "__iter__"):
            v = [v]
        v = list(v)
        if not v:
            raise ValueError(f"grid axis {k!r} is empty")
        names.append(k)
        values.append(v)
    return [dict(zip(names, combo)) for combo in itertools.product(*values)]


@dataclass
class SweepResult:
    """What a call to :func:`sweep` did: the table of all finished points and what it computed."""

    table: SweepTable
    computed: int
    skipped: int
    seconds: float
    path: Path


def _run_point(task: Task, params: dict, seed: int, threads: int):
    """Executed on a worker: one point with the kernels' threads set for this worker."""
    import physdl

    old = physdl.get_num_threads()
    physdl.set_num_threads(threads)
    t0 = time.perf_counter()
    try:
        out = task(dict(params), seed)
    finally:
        physdl.set_num_threads(old)
    try:
        from distributed import get_worker

        worker = get_worker().address
    except (ImportError, ValueError):
        worker = f"pid {os.getpid()}"
    return out, time.perf_counter() - t0, worker


# Scheduler settings of the clusters physdl starts.  A sweep's points are long and of similar length,
# so each worker is handed one point at a time (worker-saturation 1.0): with Dask's default of 1.1 a
# one-thread worker holds a second point in reserve, and at the end of a sweep one worker can still
# hold two points while the other is idle (measured on 16 points of 0.5-0.8 s on two workers: 1.10-1.18x
# a ProcessPoolExecutor's time with the default, 1.04-1.09x with 1.0).  The workers' statistical
# profiler (a stack sample every 10 ms) is off: it competes with the kernels for the cores.
_CLUSTER_CONFIG = {"distributed.scheduler.worker-saturation": 1.0,
                   "distributed.worker.profile.enabled": False}


def local_cluster(n_workers: int | None = None, *, threads_per_worker: int = 1):
    """The ``dask.distributed.LocalCluster`` a sweep starts when given no client: ``n_workers``
    worker processes (default: one per core) of ``threads_per_worker`` threads, each worker handed
    one point at a time.  Start it yourself to reuse it across sweeps (``Client(local_cluster())``).

    The same scheduler setting helps on any cluster whose points are long: set
    ``distributed.scheduler.worker-saturation: 1.0`` in the Dask configuration of its scheduler.
    """
    import dask
    import distributed

    n = check_int(n_workers if n_workers is not None else max(1, os.cpu_count() or 1), "n_workers",
                  minimum=1, maximum=4096)
    t = check_int(threads_per_worker, "threads_per_worker", minimum=1, maximum=4096)
    with dask.config.set(_CLUSTER_CONFIG):
        return distributed.LocalCluster(n_workers=n, threads_per_worker=t, processes=True,
                                        dashboard_address=":0", silence_logs=logging.ERROR)


def gpu_cluster(devices):
    """A local Dask cluster with one worker process per GPU.

    Worker ``k`` sees only device ``devices[k]`` (``CUDA_VISIBLE_DEVICES`` is set in its environment
    before it starts, so its kernels run on that card as device 0) and runs one point at a time.  On a
    cluster of GPU nodes, ``dask_cuda.LocalCUDACluster`` (the dask-cuda package) does the same per node.

    Parameters
    ----------
    devices : sequence of int
        CUDA device indices, each at most once.  The sweep sets each worker's CPU threads for the
        kernels to cores // workers.
    """
    import distributed

    if isinstance(devices, (str, bytes)) or not hasattr(devices, "__iter__"):
        raise TypeError(f"devices must be a list of CUDA device indices, got {devices!r}")
    devs = [check_int(d, "devices[]", minimum=0, maximum=1023) for d in devices]
    if not devs:
        raise ValueError("devices is empty: a GPU cluster needs at least one device")
    if len(set(devs)) != len(devs):
        raise ValueError(f"devices must not repeat a device, got {devs}")
    scheduler = {"cls": distributed.Scheduler, "options": {"dashboard_address": ":0"}}
    workers = {f"gpu{d}": {"cls": distributed.Nanny,
                           "options": {"nthreads": 1, "env": {"CUDA_VISIBLE_DEVICES": str(d)},
                                       "silence_logs": logging.ERROR}}
               for d in devs}
    import dask

    with dask.config.set(_CLUSTER_CONFIG):
        return distributed.SpecCluster(workers=workers, scheduler=scheduler, silence_logs=logging.ERROR)


def _cuda_devices() -> list[int]:
    try:
        from .. import _cuda
    except ImportError:
        return []
    try:
        n, _ = _cuda.device_count()
    except Exception:  # noqa: BLE001 - no driver: no devices
        return []
    return list(range(int(n)))


def _client(client, workers, n_todo, timeout, gpus=None):
    """(client, cluster_we_started, threads per worker)."""
    try:
        import distributed
    except ImportError as e:  # pragma: no cover - dask is a dependency
        raise ImportError("physdl.distributed needs dask[distributed]: pip install 'dask[distributed]'") from e
    cores = os.cpu_count() or 1
    if client is None and gpus:
        cluster = gpu_cluster(gpus)
        return distributed.Client(cluster), cluster, max(1, cores // len(gpus))
    if client is None:
        n = workers if workers is not None else max(1, min(cores, n_todo))
        cluster = local_cluster(n)
        return distributed.Client(cluster), cluster, max(1, cores // n)
    if isinstance(client, str):
        try:
            c = distributed.Client(client, timeout=timeout)
        except (OSError, TimeoutError) as e:
            raise ConnectionError(f"client: cannot reach the Dask scheduler at {client!r} within {timeout} s ({e})") from None
        return c, "client", 1
    if isinstance(client, distributed.Client):
        return client, None, 1
    raise TypeError(f"client must be None, 'serial', a scheduler address or a dask.distributed.Client, "
                    f"got {type(client).__name__}")


def sweep(task, points, out, *, seed: int = 0, client=None, workers: int | None = None, retries: int = 3,
          progress: bool = True, callback=None, timeout: float = 10.0, gpus=None) -> SweepResult:
    """Run ``task`` at every point of ``points`` and write each finished point to the store ``out``.

    Parameters
    ----------
    task : physdl.distributed.Task or callable
        A :class:`LatticeRun` (or another task), or a picklable function ``fn(seed=..., **params)``
        returning a dict of numbers, Estimates and arrays.
    points : list of dict
        The grid (see :func:`grid`); every point must give the parameters the task needs.
    out : path
        The HDF5 store.  If it exists and was written by the same sweep (same task settings, points
        and seed), only the missing points are computed; a store of another sweep is refused.
    seed : int
        Sweep seed; point ``p`` runs with ``point_seed(seed, p)``.
    client : None, "serial", str or dask.distributed.Client
        ``None`` starts a LocalCluster of ``workers`` processes (default: one per core, at most one per
        point) with the kernels' threads set so that workers x threads = cores; ``"serial"`` runs in
        this process; a string is a scheduler address; a Client is used as it is.
    retries : int
        Times a point is resubmitted when its worker dies or it raises.
    callback : callable, optional
        ``callback(index, params, results)`` after each point is written; an exception it raises
        stops the sweep (the points written so far stay in the store).
    gpus : None, "auto" or list of int
        With ``client=None``: one worker process per listed CUDA device (see :func:`gpu_cluster`).
        ``None`` means ``"auto"`` when the task runs on ``backend="cuda"`` (every visible device) and
        no GPU workers otherwise.

    Returns
    -------
    SweepResult
    """
    task = as_task(task)
    seed = check_seed(seed)
    retries = check_int(retries, "retries", minimum=0, maximum=100)
    if workers is not None:
        workers = check_int(workers, "workers", minimum=1, maximum=4096)
    if gpus is None and getattr(task, "backend", None) == "cuda":
        gpus = "auto"
    if isinstance(gpus, str):
        if gpus != "auto":
            raise ValueError(f"gpus must be None, 'auto' or a list of device indices, got {gpus!r}")
        gpus = _cuda_devices()
        if not gpus and client is None:
            raise RuntimeError("the task runs on backend='cuda' but no CUDA device is visible; "
                               "give backend='cpp' or run where a GPU is")
    elif gpus is not None:
        if not hasattr(gpus, "__iter__"):
            raise TypeError(f"gpus must be None, 'auto' or a list of device indices, got {gpus!r}")
        gpus = [check_int(d, "gpus[]", minimum=0, maximum=1023) for d in gpus]
        if not gpus:
            raise ValueError("gpus is empty: give None, 'auto' or at least one device index")
    if gpus and client is not None and client != "serial":
        raise ValueError("gpus applies only to the local cluster (client=None); on your own cluster start "
                         "one worker per GPU (e.g. dask_cuda.LocalCUDACluster) and pass its Client")
    if not isinstance(points, (list, tuple)):
        raise TypeError(f"points must be a list of dicts (see physdl.distributed.grid), got {type(points).__name__}")
    if not points:
        raise ValueError("points is empty: a sweep needs at least one point")
    if out is None or not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"out must be a path to the sweep's HDF5 store, got {out!r}")
    canon = [_canonical(p, i) for i, p in enumerate(points)]
    for i, p in enumerate(canon):
        task.check_point(p, i)
    keys = [hashlib.blake2b(_text(p).encode(), digest_size=8).hexdigest() for p in canon]
    if len(set(keys)) != len(keys):
        dup = next(i for i, k in enumerate(keys) if keys.index(k) != i)
        raise ValueError(f"grid point {dup} ({canon[dup]}) appears more than once")
    definition_obj = {"task": task.spec(), "points": canon, "seed": seed}
    definition_json = json.dumps(definition_obj, sort_keys=True)
    definition = hashlib.sha256(definition_json.encode()).hexdigest()
    store = SweepStore(out, definition, definition_json)
    done = store.done()
    todo = [i for i, k in enumerate(keys) if k not in done]
    seeds = [point_seed(seed, p) for p in canon]
    t0 = time.perf_counter()

    bar = None
    if _progress_enabled(progress) and todo:  # off when stderr is not a terminal (physdl._progress)
        from tqdm.auto import tqdm

        bar = tqdm(total=len(todo), desc="sweep", unit="point", leave=False)

    def finish(done_points):
        """Commit points that finished together (one store write), then report each."""
        store.write_many([(keys[i], i, canon[i], seeds[i], res, sec, worker) for i, res, sec, worker in done_points])
        for i, res, _, _ in done_points:
            if bar is not None:
                bar.update(1)
            if callback is not None:
                callback(i, canon[i], res)

    computed = 0
    try:
        if client == "serial":
            import physdl

            for i in todo:
                res, sec, worker = _run_point(task, canon[i], seeds[i], physdl.get_num_threads())
                finish([(i, res, sec, worker)])
                computed += 1
        elif todo:
            from distributed import as_completed

            c, owned, threads = _client(client, workers, len(todo), timeout, gpus)
            futures, index_of = [], {}
            try:
                for i in todo:
                    f = c.submit(_run_point, task, canon[i], seeds[i], threads, retries=retries, pure=False,
                                 key=f"physdl-sweep-{definition[:12]}-{keys[i]}")
                    futures.append(f)
                    index_of[f.key] = i
                # results are gathered in the background as points finish (not one round trip each);
                # the points that finished since the last write are committed together
                for batch in as_completed(futures, with_results=True).batches():
                    finish([(index_of[fut.key], *out) for fut, out in batch])
                    computed += len(batch)
            finally:
                if futures:
                    c.cancel(futures)
                if owned is not None:
                    cluster = getattr(c, "cluster", None)
                    c.close()
                    if owned != "client" and cluster is not None:
                        cluster.close()
    finally:
        if bar is not None:
            bar.close()
    return SweepResult(load_sweep(out), computed, len(points) - len(todo), time.perf_counter() - t0, Path(out))

