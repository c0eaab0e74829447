"""Job descriptions a sweep runs at each point: a lattice run, or any picklable function.

A task is called as ``task(params, seed)`` and returns a dict of results: floats, ints, NumPy arrays
or :class:`physdl.stats.Estimate`.  ``task.spec()`` is a JSON-able description of its fixed settings;
together with the grid and the sweep seed it identifies a sweep, so a store written by another sweep
definition is refused.
"""

from __future__ import annotations

import inspect
import numbers
from dataclasses import asdict, dataclass, field

from .._validate import check_choice, check_int

__all__ = ["Task", "LatticeRun", "FunctionTask", "DatasetChains", "as_task"]


class Task:
    """Base class: ``required`` names the parameters every point must give."""

    name: str = "task"
    required: tuple[str, ...] = ()
    allowed: tuple[str, ...] | None = None  # None: any parameter name

    def spec(self) -> dict:
        raise NotImplementedError

    def check_point(self, params: dict, index: int) -> None:
        missing = [k for k in self.required if k not in params]
        if missing:
            raise ValueError(f"grid point {index} ({params}) is missing the parameter(s) {missing} "
                             f"that task {self.name!r} needs")
        if self.allowed is not None:
            unknown = [k for k in params if k not in self.allowed]
            if unknown:
                raise ValueError(f"grid point {index} has parameter(s) {unknown} that task {self.name!r} does "
                                 f"not take; it takes {list(self.allowed)}")

    def __call__(self, params: dict, seed: int) -> dict:
        raise NotImplementedError


_LATTICE_MODELS = ("ising", "edwards_anderson")


@dataclass
class LatticeRun(Task):
    """A Monte Carlo run of :class:`physdl.lattice.Simulation` at each point.

    Each point gives ``L`` (or ``shape``) and ``T`` (or ``beta``); ``J``, ``h`` and ``chain`` may vary
    too.  The fixed settings are this object's fields.  For ``model="edwards_anderson"`` the point's
    seed draws the disorder as well, so a grid over ``sample`` (any integer) is a disorder average.

    Returns the observables of :meth:`Simulation.run` as Estimates (``energy``,
    ``abs_magnetization``, ``m2``, ``m4``, ``specific_heat``, ``susceptibility``, ``binder``), the
    autocorrelation times and the energy series.

    ``storage="auto"`` (the default) lets :class:`~physdl.lattice.Simulation` choose at each point:
    multi-spin wherever it applies, byte otherwise; ``"byte"`` reproduces sweeps made before that
    default (the two storages draw different random numbers).
    """

    model: str = "ising"
    geometry: str = "square"
    update: str = "metropolis"
    storage: str = "auto"
    sweeps: int = 1000
    burn_in: int = 100
    measure_every: int = 1
    couplings: str = "pm"
    backend: str | None = None
    name: str = field(default="lattice_run", init=False)

    def __post_init__(self):
        check_choice(self.model, "model", _LATTICE_MODELS)
        check_choice(self.storage, "storage", ("auto", "byte", "multispin"))
        check_int(self.sweeps, "sweeps", minimum=1, maximum=10**12)
        check_int(self.burn_in, "burn_in", minimum=0, maximum=10**12)
        check_int(self.measure_every, "measure_every", minimum=1, maximum=10**9)

    required = ()
    allowed = ("L", "shape", "T", "beta", "J", "h", "chain", "sample")

    def spec(self) -> dict:
        d = asdict(self)
        d["kind"] = "LatticeRun"
        return d

    def check_point(self, params: dict, index: int) -> None:
        super().check_point(params, index)
        if ("L" in params) == ("shape" in params):
            raise ValueError(f"grid point {index} ({params}) must give exactly one of 'L' or 'shape'")
        if ("T" in params) == ("beta" in params):
            raise ValueError(f"grid point {index} ({params}) must give exactly one of 'T' or 'beta'")

    def _shape(self, params):
        if "shape" in params:
            return tuple(params["shape"])
        L = params["L"]
        nd = {"chain": 1, "square": 2, "triangular": 2, "cubic": 3}[self.geometry]
        return (L,) * nd

    def __call__(self, params: dict, seed: int) -> dict:
        from ..lattice import EdwardsAnderson, Ising, Simulation

        shape = self._shape(params)
        J, h = params.get("J", 1.0), params.get("h", 0.0)
        if self.model == "ising":
            model = Ising(shape, geometry=self.geometry, J=J, h=h)
        else:
            model = EdwardsAnderson(shape, geometry=self.geometry, couplings=self.couplings, J=J, h=h, seed=seed)
        kw = {"beta": params["beta"]} if "beta" in params else {"T": params["T"]}
        sim = Simulation(model, update=self.update, storage=self.storage, seed=seed,
                         chain=params.get("chain", 0), backend=self.backend, **kw)
        res = sim.run(self.sweeps, burn_in=self.burn_in, measure_every=self.measure_every)
        out = {k: getattr(res, k) for k in ("energy", "abs_magnetization", "m2", "m4", "specific_heat",
                                            "susceptibility", "binder")}
        for k in ("tau_energy", "tau_abs_m"):
            v = getattr(res, k)
            out[k] = v if not isinstance(v, numbers.Real) else float(v)
        out["energy_series"] = res.energy_series
        out["beta"] = float(res.beta)
        return out


class FunctionTask(Task):
    """Any picklable function ``fn(seed=..., **params) -> dict`` as a task.

    The function is identified by its module and qualified name (and its source when available), so
    changing the function's code makes an old store refuse to resume.
    """

    def __init__(self, fn, required: tuple[str, ...] | None = None):
        if not callable(fn):
            raise TypeError(f"task must be a physdl task or a callable, got {type(fn).__name__}")
        self.fn = fn
        self.name = getattr(fn, "__qualname__", type(fn).__name__)
        if required is None:
            try:
                sig = inspect.signature(fn)
                required = tuple(p.name for p in sig.parameters.values()
                                 if p.default is inspect.Parameter.empty and p.name != "seed"
                                 and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
            except (TypeError, ValueError):
                required = ()
        self.required = tuple(required)

    def spec(self) -> dict:
        try:
            src = inspect.getsource(self.fn)
        except (OSError, TypeError):
            src = ""
        return {"kind": "FunctionTask", "module": getattr(self.fn, "__module__", ""), "name": self.name,
                "source": src}

    def __call__(self, params: dict, seed: int) -> dict:
        out = self.fn(seed=seed, **params)
        if not isinstance(out, dict):
            raise TypeError(f"task {self.name!r} must return a dict of results, got {type(out).__name__}")
        return out


def as_task(task) -> Task:
    """A :class:`Task` from a task or a plain callable."""
    if isinstance(task, Task):
        return task
    return FunctionTask(task)



@dataclass
class DatasetChains(Task):
    """The temperatures of :func:`physdl.lattice.ising_dataset` as sweep points.

    A point is ``{"T": t, "chain": i}``; it returns ``{"configs": (n_per_T, L, L) int8}`` from Wolff
    chain ``i`` of the data set's ``seed`` (the point's own sweep seed is not used), so the data set
    assembled from a sweep equals the serial one bit for bit.
    """

    geometry: str = "square"
    L: int = 16
    n_per_T: int = 200
    every: int = 2
    burn_in: int = 200
    seed: int = 0
    backend: str | None = None
    name: str = field(default="dataset_chains", init=False)

    required = ("T", "chain")
    allowed = ("T", "chain")

    def spec(self) -> dict:
        d = asdict(self)
        d["kind"] = "DatasetChains"
        return d

    def job(self, params: dict):
        from ..lattice.datasets import ChainJob

        return ChainJob(self.geometry, self.L, float(params["T"]), int(params["chain"]), self.n_per_T,
                        self.every, self.burn_in, self.seed, self.backend)

    def __call__(self, params: dict, seed: int) -> dict:
        return {"configs": self.job(params)()}
