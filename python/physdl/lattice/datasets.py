"""Ising data sets: configurations sampled over a temperature grid, cached as HDF5 (book sec. 8.2).

Used by the phase-transition networks of :mod:`physdl.phases` (which re-exports them), and by every
area that learns from Ising configurations (generative models, self-learning Monte Carlo), which is
why they live in the lattice engine and not in an application.

Random streams: the train/test split draws from the register entry ``"phases.dataset"`` (stream 11,
its historical value); the chains are lattice chains ``0 .. len(temperatures) - 1`` of the seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._validate import check_array, check_choice, check_float, check_int, check_seed
from ..io import load_run, read_params, save_run
from ..random import Generator
from ..random import streams as _streams
from .exact import SQUARE_TC, TRIANGULAR_TC

__all__ = ["DATASET_KIND", "DATASET_GEOMETRIES", "ChainJob", "IsingDataset", "ising_dataset"]

#: Kind tag of the HDF5 cache (unchanged since the data sets lived in physdl.phases).
DATASET_KIND = "phases/ising-dataset"
DATASET_GEOMETRIES = ("square", "triangular")


@dataclass(repr=False)
class IsingDataset:
    """Ising configurations with the temperature each was sampled at.

    Attributes
    ----------
    configs : int8 array (n, L, L) of +-1
    T : float64 array (n,)
    geometry : "square" or "triangular"
    L : int
    params : dict (sampling settings, seed, version)
    """

    configs: np.ndarray
    T: np.ndarray
    geometry: str
    L: int
    params: dict = field(default_factory=dict)

    @property
    def temperatures(self) -> np.ndarray:
        """The temperature grid (sorted unique temperatures)."""
        return np.unique(self.T)

    @property
    def magnetization(self) -> np.ndarray:
        """Magnetisation per spin of each configuration."""
        return self.configs.reshape(len(self.T), -1).mean(axis=1, dtype=np.float64)

    def __len__(self) -> int:
        return len(self.T)

    def to_dict(self) -> dict:
        """Plain dict of the data set: geometry, L, params, shapes and per-temperature counts and mean |m|
        (not the configurations; :meth:`save` writes those)."""
        temps = self.temperatures
        am = np.abs(self.magnetization)
        return {"geometry": self.geometry, "L": int(self.L), "n": len(self), "configs_shape": list(self.configs.shape),
                "temperatures": temps.tolist(), "count": [int(np.sum(self.T == t)) for t in temps],
                "mean_abs_m": [float(am[self.T == t].mean()) for t in temps], "params": dict(self.params)}

    def __repr__(self) -> str:
        temps = self.temperatures
        rng = f"[{temps.min():.4g}, {temps.max():.4g}]" if temps.size else "[]"
        return (f"IsingDataset({self.geometry}, L={self.L}, {len(self)} configs {self.configs.dtype}"
                f"{tuple(self.configs.shape)}, {temps.size} temperatures in {rng}, seed={self.params.get('seed')})")

    def save(self, path) -> None:
        """Write the configurations, temperatures and params to ``path`` (``.h5``/``.hdf5`` or ``.npz``)
        with kind ``"phases/ising-dataset"`` (the cache format of :func:`ising_dataset`)."""
        save_run(path, {"configs": self.configs, "T": self.T},
                 dict(self.params, geometry=self.geometry, L=int(self.L)), kind=DATASET_KIND)

    @classmethod
    def load(cls, path) -> "IsingDataset":
        """Read a data set written by :meth:`save` or cached by :func:`ising_dataset`; a file of another
        kind, edited or damaged, or holding other than +-1 spins of shape (n, L, L) is refused naming it."""
        from ..io import CorruptFileError

        arrays, p = load_run(path, kind=DATASET_KIND)
        try:
            L = check_int(p["L"], "L", minimum=1)
            geometry = check_choice(p["geometry"], "geometry", DATASET_GEOMETRIES)
            T = np.asarray(arrays["T"])
            temps = np.unique(T)
            n_per_T = T.size // max(1, temps.size)
            if T.size != temps.size * n_per_T or not np.array_equal(np.sort(T), np.repeat(temps, n_per_T)):
                raise ValueError("T must hold each temperature equally often")
        except (KeyError, TypeError, ValueError) as exc:
            raise CorruptFileError(f"{path}: not a valid Ising data set ({exc})") from None
        if not np.array_equal(T, np.repeat(temps, n_per_T)):  # a split: same checks without the ordering
            configs = arrays.get("configs")
            if configs is None or configs.dtype != np.int8 or configs.shape != (T.size, L, L) or \
                    np.any((configs != 1) & (configs != -1)):
                raise CorruptFileError(f"{path}: not a valid Ising data set (configs must be int8 +-1 of shape "
                                       f"{(T.size, L, L)})")
            return cls(configs, T, geometry, L, p)
        return cls(*_check_cached(path, arrays, temps, n_per_T, L), geometry, L, p)

    def plot(self, ax=None):
        """Mean |m| per temperature with its standard error (over the configurations at that T);
        returns the matplotlib Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        temps = self.temperatures
        idx = np.searchsorted(temps, self.T)
        am = np.abs(self.magnetization)
        cnt = np.bincount(idx, minlength=temps.size)
        mean = np.bincount(idx, am, minlength=temps.size) / cnt
        var = np.bincount(idx, (am - mean[idx]) ** 2, minlength=temps.size) / np.maximum(cnt - 1, 1)
        ax.errorbar(temps, mean, yerr=np.sqrt(var / cnt), marker="o", ms=3, capsize=2, label=f"L = {self.L}")
        ax.set_xlabel("temperature T")
        ax.set_ylabel("mean |m| per site")
        ax.set_title(f"Ising data set ({self.geometry}, L = {self.L})")
        ax.legend()
        return ax

    def split(self, test_fraction: float = 0.25, seed: int = 0):
        """Split into (train, test) datasets, stratified by temperature (Philox permutation)."""
        test_fraction = check_float(test_fraction, "test_fraction", positive=True)
        if test_fraction >= 1:
            raise ValueError(f"test_fraction must be < 1, got {test_fraction}")
        gen = Generator(check_seed(seed), stream=_streams.stream("phases.dataset"))
        order = gen.permutation(len(self))
        # stable sort by T keeps a random order within each temperature
        order = order[np.argsort(self.T[order], kind="stable")]
        test = np.zeros(len(self), bool)
        for t in self.temperatures:
            idx = order[self.T[order] == t]
            test[idx[: int(round(test_fraction * idx.size))]] = True
        sub = lambda m: IsingDataset(self.configs[m], self.T[m], self.geometry, self.L, dict(self.params))  # noqa: E731
        return sub(~test), sub(test)


@dataclass(frozen=True)
class ChainJob:
    """One temperature of :func:`ising_dataset`: a Wolff chain (``chain`` = its index in the grid).

    Calling it returns the ``(n_per_T, L, L)`` int8 configurations; it is picklable, so a runner may
    send it to another process.
    """

    geometry: str
    L: int
    T: float
    chain: int
    n_per_T: int
    every: int
    burn_in: int
    seed: int
    backend: str | None = None

    def __call__(self) -> np.ndarray:
        from .models import Ising
        from .simulation import Simulation

        model = Ising(shape=(self.L, self.L), geometry=self.geometry)
        sim = Simulation(model, T=self.T, update="wolff", seed=self.seed, chain=self.chain, backend=self.backend)
        return sim.configurations(self.n_per_T, every=self.every, burn_in=self.burn_in)


def _serial_runner(jobs, progress):
    from .._progress import bar

    desc = f"{jobs[0].geometry} L={jobs[0].L} configurations" if jobs else "configurations"
    return [job() for job in bar(jobs, desc=desc, progress=progress, leave=False)]


def ising_dataset(
    geometry: str = "square",
    L: int = 16,
    temperatures=None,
    n_per_T: int = 200,
    every: int = 2,
    burn_in: int = 200,
    seed: int = 0,
    path=None,
    progress: bool = True,
    backend: str | None = None,
    runner=None,
) -> IsingDataset:
    """Sample Ising configurations over a temperature grid (book sec. 8.2, steps 1-4).

    Each temperature is an independent Wolff chain (chain number = its index in the grid) started
    from a random configuration; ``burn_in`` sweeps are discarded, then ``n_per_T`` configurations
    are kept ``every`` sweeps apart (a Wolff sweep flips about L*L spins).

    Parameters
    ----------
    geometry : {"square", "triangular"}
        Eq. 8.7 or eq. 8.8 (J = 1, periodic L x L).
    L : int
        Linear size (>= 4).
    temperatures : array_like, optional
        Temperature grid (> 0). Default: 20 points spanning [0.5, 1.5] T_c of the geometry.
    n_per_T, every, burn_in : int
    seed : int
    path : str or Path, optional
        HDF5 (``.h5``) cache: reused when it holds the same settings; otherwise written.
    progress : bool
    backend : {None, "cpp", "numba"}
    runner : callable, optional
        How the temperatures' chains are run: ``runner(jobs, progress)`` gets a list of
        :class:`ChainJob` (one per temperature, each a picklable callable returning that temperature's
        configurations) and returns their results in the same order.  Default: one after the other in
        this process.  :func:`physdl.distributed.dataset_runner` runs them as a Dask sweep; the data set
        is the same bit for bit, because each chain's random numbers depend only on ``seed`` and its
        index in the grid.

    Returns
    -------
    IsingDataset
    """
    from .. import __version__

    geometry = check_choice(geometry, "geometry", DATASET_GEOMETRIES)
    L = check_int(L, "L", minimum=4, maximum=4096)
    tc = SQUARE_TC if geometry == "square" else TRIANGULAR_TC
    if temperatures is None:
        temperatures = np.linspace(0.5 * tc, 1.5 * tc, 20)
    temps = check_array(temperatures, "temperatures", dtype=np.float64, ndim=1, finite=True)
    if temps.size == 0:
        raise ValueError("temperatures must not be empty")
    if np.any(temps <= 0):
        raise ValueError(f"temperatures must all be > 0, got min {temps.min()}")
    n_per_T = check_int(n_per_T, "n_per_T", minimum=1)
    every = check_int(every, "every", minimum=1)
    burn_in = check_int(burn_in, "burn_in", minimum=0)
    seed = check_seed(seed)
    params = {"geometry": geometry, "L": L, "temperatures": [float(t) for t in temps], "n_per_T": n_per_T,
              "every": every, "burn_in": burn_in, "seed": seed, "update": "wolff"}
    if path is not None:
        path = Path(path)
        if path.is_file():
            meta = read_params(path)
            if meta.get("kind") != DATASET_KIND:
                raise ValueError(f"{path} holds {meta.get('kind')!r}, not an Ising dataset; choose another path")
            old = meta["params"]
            diff = sorted(k for k in params if old.get(k) != params[k])
            if diff:
                raise ValueError(f"{path} holds a data set with other settings ({', '.join(diff)}: "
                                 f"{[old.get(k) for k in diff]} vs {[params[k] for k in diff]}); "
                                 "delete it or choose another path")
            arrays, p = load_run(path, kind=DATASET_KIND)
            return IsingDataset(*_check_cached(path, arrays, temps, n_per_T, L), geometry, L, p)

    jobs = [ChainJob(geometry, L, float(t), i, n_per_T, every, burn_in, seed, backend)
            for i, t in enumerate(temps)]
    if runner is None:
        runner = _serial_runner
    elif not callable(runner):
        raise TypeError(f"runner must be a callable runner(jobs, progress), got {type(runner).__name__}")
    parts = runner(jobs, progress)
    if not isinstance(parts, (list, tuple)) or len(parts) != len(jobs):
        raise ValueError(f"runner must return one array per temperature ({len(jobs)}), "
                         f"got {type(parts).__name__} of length {len(parts) if hasattr(parts, '__len__') else '?'}")
    configs = np.empty((temps.size * n_per_T, L, L), np.int8)
    for i, part in enumerate(parts):
        part = np.asarray(part)
        if part.shape != (n_per_T, L, L) or part.dtype != np.int8:
            raise ValueError(f"runner returned configurations of {part.dtype} {part.shape} for temperature {i}, "
                             f"expected int8 {(n_per_T, L, L)}")
        configs[i * n_per_T:(i + 1) * n_per_T] = part
    T = np.repeat(temps, n_per_T)
    params["physdl_version"] = __version__
    ds = IsingDataset(configs, T, geometry, L, params)
    if path is not None:
        save_run(path, {"configs": configs, "T": T}, params, kind=DATASET_KIND)
    return ds


def _check_cached(path, arrays, temps, n_per_T, L):
    """(configs, T) of a cache file, checked against its settings; ValueError naming the file."""
    from ..io import CorruptFileError

    def bad(what):
        return CorruptFileError(f"{path}: not a valid Ising data set cache: {what}; delete it to resample")

    if "configs" not in arrays or "T" not in arrays:
        raise bad("missing 'configs' or 'T'")
    configs, T = arrays["configs"], arrays["T"]
    n = temps.size * n_per_T
    if configs.dtype != np.int8 or configs.shape != (n, L, L):
        raise bad(f"configs must be int8 of shape {(n, L, L)}, got {configs.dtype} {configs.shape}")
    nbad = int(np.count_nonzero((configs != 1) & (configs != -1)))
    if nbad:
        raise bad(f"configs must hold spins +1/-1 only; {nbad} other values")
    if T.dtype != np.float64 or T.shape != (n,):
        raise bad(f"T must be float64 of shape ({n},), got {T.dtype} {T.shape}")
    if not np.array_equal(T, np.repeat(temps, n_per_T)):
        raise bad("T does not match the temperatures of its settings")
    return configs, T
