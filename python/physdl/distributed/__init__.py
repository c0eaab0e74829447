"""Parameter sweeps on Dask: temperatures, sizes, disorder samples and hyperparameters.

:func:`sweep` runs a task at every point of a grid on a ``dask.distributed`` cluster (a
``LocalCluster`` sized to this machine by default, any ``Client`` or scheduler address when given),
writes each finished point to one HDF5 store at once, skips the points already in the store when run
again (resume), and retries points whose worker died.  Each point's seed is derived from the sweep's
seed and the point's parameters only, so a point's result does not depend on which worker ran it, in
what order, or on how many workers there were: the store equals a serial run's bit for bit.

Examples
--------
>>> from physdl import distributed as dist
>>> pts = dist.grid(L=[8, 16], T=[2.0, 2.5])
>>> len(pts), pts[0]
(4, {'L': 8, 'T': 2.0})
>>> dist.point_seed(7, {"L": 8, "T": 2.0}) == dist.point_seed(7, {"T": 2.0, "L": 8})
True
"""

from __future__ import annotations

from .datasets import DatasetRunner
from .store import SweepStore, SweepTable, load_sweep
from .sweep import SweepResult, gpu_cluster, grid, local_cluster, point_key, point_seed, sweep
from .tasks import DatasetChains, FunctionTask, LatticeRun, Task, as_task

__all__ = [
    "sweep", "grid", "point_seed", "point_key", "SweepResult", "gpu_cluster", "local_cluster",
    "Task", "LatticeRun", "FunctionTask", "DatasetChains", "as_task", "DatasetRunner",
    "SweepStore", "SweepTable", "load_sweep",
]


def run_spec(path, *, scheduler: str | None = None, workers: int | None = None, serial: bool = False,
             progress: bool = True) -> SweepResult:
    """Run the sweep described by a TOML file (the ``physdl sweep SPEC.toml`` command).

    The file gives ``out`` (the store, relative to the file), ``seed``, a ``[task]`` table
    (``kind = "lattice"`` and the :class:`LatticeRun` settings) and either a ``[grid]`` table of axes
    or a list of ``[[points]]``::

        out = "ising-scan.h5"
        seed = 1
        [task]
        kind = "lattice"
        sweeps = 2000
        burn_in = 200
        [grid]
        L = [16, 32]
        T = [2.0, 2.2, 2.4]
    """
    from .spec import run_spec as _run

    return _run(path, scheduler=scheduler, workers=workers, serial=serial, progress=progress)


__all__.append("run_spec")
