"""Ising data sets generated through a sweep: each temperature's chain is a point on the cluster."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from .._validate import check_int
from .sweep import local_cluster, sweep
from .tasks import DatasetChains

__all__ = ["DatasetRunner"]


class DatasetRunner:
    """A ``runner`` for :func:`physdl.lattice.ising_dataset` that runs the temperatures as a sweep.

    Each temperature's Wolff chain is one point of :func:`sweep` on a Dask cluster; its random numbers
    depend only on the data set's seed and the chain's index, so the data set equals the serial one
    bit for bit whatever the number of workers.  The cluster (a ``LocalCluster`` when ``client`` is
    None) is started at the first data set and reused until :meth:`close`; use the runner as a
    context manager.  While a data set is generated its points are kept in a sweep store under
    ``workdir``, so an interrupted generation resumes; the store is removed once the data set is
    assembled unless ``keep_store``.

    Parameters
    ----------
    workdir : path, optional
        Folder of the sweep stores (default: a temporary folder).
    client : None, "serial", str or dask.distributed.Client
        As in :func:`sweep`.
    workers : int, optional
        Worker processes of the local cluster (default: one per core).
    keep_store : bool

    Examples
    --------
    >>> from physdl.lattice import ising_dataset
    >>> with DatasetRunner(client="serial") as run:
    ...     ds = ising_dataset("square", 8, [2.0, 3.0], 4, 1, 10, seed=1, progress=False, runner=run)
    >>> ds.configs.shape
    (8, 8, 8)
    """

    def __init__(self, workdir=None, *, client=None, workers: int | None = None, retries: int = 3,
                 keep_store: bool = False, timeout: float = 10.0):
        if workers is not None:
            workers = check_int(workers, "workers", minimum=1, maximum=4096)
        self.workers = workers
        self.retries = check_int(retries, "retries", minimum=0, maximum=100)
        self.keep_store = bool(keep_store)
        self.timeout = timeout
        self._tmp = None
        if workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="physdl-datasets-")
            workdir = self._tmp.name
        self.workdir = Path(workdir)
        self._given = client
        self._client = None
        self._cluster = None

    def _get_client(self):
        if self._given is not None:
            return self._given
        if self._client is None:
            import distributed

            n = self.workers if self.workers is not None else max(1, os.cpu_count() or 1)
            self._cluster = local_cluster(n)
            self._client = distributed.Client(self._cluster)
        return self._client

    def __call__(self, jobs, progress: bool = True):
        if not jobs:
            return []
        j0 = jobs[0]
        task = DatasetChains(j0.geometry, j0.L, j0.n_per_T, j0.every, j0.burn_in, j0.seed, j0.backend)
        for j in jobs:
            if task.job({"T": j.T, "chain": j.chain}) != j:
                raise ValueError("DatasetRunner: all chains of one data set must share geometry, L, n_per_T, "
                                 "every, burn_in, seed and backend")
        points = [{"T": j.T, "chain": j.chain} for j in jobs]
        name = hashlib.sha256(json.dumps([task.spec(), points], sort_keys=True).encode()).hexdigest()[:16]
        self.workdir.mkdir(parents=True, exist_ok=True)
        out = self.workdir / f"dataset-sweep-{name}.h5"
        res = sweep(task, points, out, client=self._get_client(), retries=self.retries, progress=progress,
                    timeout=self.timeout)
        configs = [r["configs"] for r in res.table.results]
        if not self.keep_store:
            out.unlink(missing_ok=True)
        return configs

    def close(self) -> None:
        """Stop the local cluster this runner started (a given client is left open)."""
        if self._client is not None:
            self._client.close()
            self._cluster.close()
            self._client = self._cluster = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
