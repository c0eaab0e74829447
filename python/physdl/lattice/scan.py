"""Temperature (and size) scans: one :class:`Simulation` per point, the estimates in one table.

:func:`scan` runs a model over a list of temperatures, for one or several lattice sizes, and returns
a :class:`ScanResult`: the estimates of every point (energy, |m|, specific heat, susceptibility,
Binder cumulant, with their errors), ``to_pandas()``, ``plot(observable)`` against T with one curve
per size, ``binder_crossing(L1, L2)`` and ``save``/``load``.

Point ``k`` of the scan (sizes outer, temperatures inner, in the order given) is the run
``Simulation(model(L), T=T, update=update, seed=seed, chain=k).run(sweeps, burn_in, measure_every)``,
so any single point can be reproduced without the scan.  :meth:`ScanResult.from_runs` makes the
same table from a list of :class:`RunResult` (e.g. those of :meth:`ParallelTempering.run`).

The function is also :func:`physdl.lattice.scan_temperatures` (``physdl.lattice.scan`` is this
module, so the function keeps a name that does not shadow it): ``lattice.scan_temperatures(...)``
and ``from physdl.lattice.scan import scan`` are the same function.

Examples
--------
>>> from physdl import lattice
>>> from physdl.lattice.scan import scan
>>> res = scan(lambda L: lattice.Ising((L, L)), [2.2, 2.4], sizes=[8], sweeps=200, burn_in=50,
...            update="wolff", seed=3)
>>> res.table["T"].tolist(), res.table["L"].tolist()
([2.2, 2.4], [8, 8])
"""

from __future__ import annotations

import math

import numpy as np

from .. import _progress
from .._validate import check_choice, check_int, check_seed
from ..stats import Estimate, format_value_error
from .models import Model
from .simulation import UPDATES, Simulation, is_spin_glass

__all__ = ["scan", "ScanResult", "OBSERVABLES"]

OBSERVABLES = ("energy", "abs_magnetization", "m2", "m4", "specific_heat", "susceptibility", "binder")
_LABELS = {"energy": "energy per site e", "abs_magnetization": "|m|", "m2": "<m^2>", "m4": "<m^4>",
           "specific_heat": "specific heat C", "susceptibility": "susceptibility chi",
           "binder": "Binder cumulant U"}
_KIND = "lattice/scan"


def _temperatures(values, name: str) -> np.ndarray:
    try:
        t = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a 1-d sequence of positive numbers") from None
    if t.ndim != 1 or t.size == 0 or not np.all(np.isfinite(t)) or not np.all(t > 0):
        raise ValueError(f"{name} must be a non-empty 1-d sequence of positive finite numbers, got {values!r}")
    return t


def scan(model, temperatures, *, sizes=None, sweeps: int = 2000, burn_in: int = 200, measure_every: int = 1,
         update: str = "wolff", seed: int = 0, progress: bool = False, **simulation_kwargs) -> "ScanResult":
    """Run ``model`` at each temperature (and size) and collect the estimates.

    Parameters
    ----------
    model : Model or callable
        A lattice model (one size), or, with ``sizes``, a callable ``model(L)`` returning the model
        of linear size ``L`` (e.g. ``lambda L: Ising((L, L))``).
    temperatures : sequence of float
        Temperatures (> 0), in the order to run them.
    sizes : sequence of int, optional
        Linear sizes passed to ``model``; required when ``model`` is a callable.
    sweeps, burn_in, measure_every : int
        As for :meth:`Simulation.run`, the same at every point.
    update : str
        Update of every :class:`Simulation` (default ``"wolff"``).
    seed : int
        Seed of every run; point ``k`` (sizes outer, temperatures inner) runs as chain ``k``.
    progress : bool
        A progress bar over the points (only on a terminal: see :mod:`physdl._progress`).
    **simulation_kwargs
        Passed to every :class:`Simulation` (``storage``, ``sweep``, ``backend``, ``start``).

    Returns
    -------
    ScanResult
    """
    T = _temperatures(temperatures, "temperatures")
    update = check_choice(update, "update", UPDATES)
    seed = check_seed(seed)
    sweeps = check_int(sweeps, "sweeps", minimum=1)
    burn_in = check_int(burn_in, "burn_in", minimum=0)
    measure_every = check_int(measure_every, "measure_every", minimum=1)
    for k in ("seed", "chain", "T", "beta"):
        if k in simulation_kwargs:
            raise TypeError(f"scan sets {k!r} of every Simulation itself; do not pass it")
    if isinstance(model, Model):
        if sizes is not None:
            raise TypeError("sizes needs model to be a callable model(L), not a single model")
        models = [(int(model.shape[0]), model)]
    elif callable(model):
        if sizes is None:
            raise TypeError("a callable model needs sizes (the L passed to model(L))")
        Ls = [check_int(L, "sizes[i]", minimum=1) for L in np.atleast_1d(np.asarray(sizes)).tolist()]
        if not Ls or len(set(Ls)) != len(Ls):
            raise ValueError(f"sizes must be distinct positive integers, got {sizes!r}")
        models = []
        for L in Ls:
            m = model(L)
            if not isinstance(m, Model):
                raise TypeError(f"model({L}) must return a physdl.lattice model, got {type(m).__name__}")
            models.append((L, m))
    else:
        raise TypeError(f"model must be a physdl.lattice model or a callable model(L), got {type(model).__name__}")

    n = len(models) * T.size
    cols = {"L": np.empty(n, dtype=np.int64), "T": np.empty(n), "chain": np.arange(n, dtype=np.int64)}
    for o in OBSERVABLES:
        cols[o] = np.empty(n)
        cols[o + "_error"] = np.empty(n)
    with _progress.bar(total=n, progress=progress, desc="scan", unit="point") as pb:
        k = 0
        for L, m in models:
            for t in T.tolist():
                sim = Simulation(m, T=t, update=update, seed=seed, chain=k, **simulation_kwargs)
                r = sim.run(sweeps, burn_in=burn_in, measure_every=measure_every)
                cols["L"][k], cols["T"][k] = L, t
                for o in OBSERVABLES:
                    cols[o][k], cols[o + "_error"][k] = getattr(r, o)
                k += 1
                pb.update(1)
    params = {"sweeps": sweeps, "burn_in": burn_in, "measure_every": measure_every, "update": update,
              "seed": seed, "model": repr(models[0][1]) if len(models) == 1 else repr(model),
              "simulation": {k: v for k, v in simulation_kwargs.items() if isinstance(v, (str, int, float))},
              "spin_glass": bool(is_spin_glass(models[0][1]))}
    return ScanResult(cols, params)


class ScanResult:
    """The estimates of a temperature/size scan as one table.

    Attributes
    ----------
    table : dict of str -> ndarray
        Columns ``L``, ``T``, ``chain`` and, for each observable of :data:`OBSERVABLES`, the value
        column ``<name>`` and its standard error ``<name>_error``; one row per point.
    params : dict
        Sweeps, burn-in, update, seed and the model of the scan.
    """

    def __init__(self, table: dict, params: dict):
        self.table = {k: np.asarray(v) for k, v in table.items()}
        self.params = dict(params)

    @classmethod
    def from_runs(cls, runs, L: int, params: dict | None = None) -> "ScanResult":
        """One table of a list of :class:`RunResult` of one lattice size, e.g. the per-temperature
        results of :meth:`ParallelTempering.run`, so that they print, plot, save and go to pandas
        like a scan.  Row ``k`` is ``runs[k]`` (column ``chain`` = k, the position in the list; ``T``
        = 1 / beta).

        >>> from physdl import lattice
        >>> pt = lattice.ParallelTempering(lattice.Ising((6, 6)), [0.3, 0.4, 0.5], seed=1)
        >>> res = ScanResult.from_runs(pt.run(200, burn_in=20), L=6)
        >>> res.sizes, res.table["T"].round(4).tolist()
        ([6], [3.3333, 2.5, 2.0])
        """
        from .simulation import RunResult

        runs = list(runs)
        if not runs or not all(isinstance(r, RunResult) for r in runs):
            raise TypeError("runs must be a non-empty sequence of physdl.lattice.RunResult")
        L = check_int(L, "L", minimum=1)
        n = len(runs)
        cols = {"L": np.full(n, L, dtype=np.int64), "T": np.array([1.0 / r.beta for r in runs]),
                "chain": np.arange(n, dtype=np.int64)}
        for o in OBSERVABLES:
            cols[o] = np.array([getattr(r, o).value for r in runs], dtype=np.float64)
            cols[o + "_error"] = np.array([getattr(r, o).error for r in runs], dtype=np.float64)
        p = {"sweeps": int(runs[0].sweeps), "measure_every": int(runs[0].measure_every), "source": "runs",
             "spin_glass": bool(runs[0].spin_glass)}
        p.update(params or {})
        return cls(cols, p)

    @property
    def sizes(self) -> list[int]:
        """The linear sizes of the scan, in order."""
        return list(dict.fromkeys(self.table["L"].tolist()))

    @property
    def temperatures(self) -> np.ndarray:
        """The distinct temperatures of the scan, sorted."""
        return np.unique(self.table["T"])

    def estimate(self, observable: str, L: int | None = None) -> tuple[np.ndarray, Estimate]:
        """``(T, Estimate)`` of ``observable`` for size ``L`` (sorted by T; the array-valued estimate
        is the curve with its error band)."""
        check_choice(observable, "observable", OBSERVABLES)
        sel = self._rows(L)
        order = np.argsort(self.table["T"][sel], kind="stable")
        idx = np.flatnonzero(sel)[order]
        return self.table["T"][idx], Estimate(self.table[observable][idx], self.table[observable + "_error"][idx])

    def _rows(self, L):
        if L is None:
            if len(self.sizes) != 1:
                raise ValueError(f"this scan has sizes {self.sizes}: give L")
            return np.ones(self.table["T"].size, dtype=bool)
        L = check_int(L, "L", minimum=1)
        if L not in self.sizes:
            raise ValueError(f"L must be one of the scanned sizes {self.sizes}, got {L}")
        return self.table["L"] == L

    def to_dict(self) -> dict:
        """Plain dict: ``{"params": ..., "table": {column: list}}``."""
        return {"params": dict(self.params), "table": {k: v.tolist() for k, v in self.table.items()}}

    def to_pandas(self):
        """The table as a pandas DataFrame (one row per point); needs pandas."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("ScanResult.to_pandas needs pandas, which is not installed "
                              "(pip install pandas); ScanResult.table holds the same columns as NumPy arrays") from None
        return pd.DataFrame({k: v for k, v in self.table.items()})

    def __repr__(self) -> str:
        T = self.temperatures
        return (f"ScanResult(sizes={self.sizes}, {T.size} temperatures in [{T.min():.6g}, {T.max():.6g}], "
                f"update={self.params.get('update')!r}, sweeps={self.params.get('sweeps')}, "
                f"seed={self.params.get('seed')})")

    def __str__(self) -> str:
        """The table, rounded to the errors: e, |m| and U; for a spin glass (``params["spin_glass"]``)
        e and C only -- the ferromagnetic |m| and U are no order parameter there (the replica overlap
        of :mod:`physdl.lattice.spinglass` is)."""
        if self.params.get("spin_glass"):
            cols, heads = ("energy", "specific_heat"), ("e", "C")
        else:
            cols, heads = ("energy", "abs_magnetization", "binder"), ("e", "|m|", "U")
        lines = [repr(self), f"{'L':>4} {'T':>8}  " + " ".join(f"{h:>20}" for h in heads)]
        for i in range(self.table["T"].size):
            f = [format_value_error(self.table[o][i], self.table[o + "_error"][i]) for o in cols]
            lines.append(f"{self.table['L'][i]:>4} {self.table['T'][i]:>8.5g}  " + " ".join(f"{x:>20}" for x in f))
        return "\n".join(lines)

    def plot(self, observable: str | None = None, ax=None):
        """``observable`` against T with error bars, one curve per size; returns the matplotlib Axes.

        The default is the Binder cumulant, or the energy for a spin glass (``params["spin_glass"]``),
        whose ferromagnetic Binder cumulant is no order parameter."""
        if observable is None:
            observable = "energy" if self.params.get("spin_glass") else "binder"
        check_choice(observable, "observable", OBSERVABLES)
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        for L in self.sizes:
            T, est = self.estimate(observable, L)
            ax.errorbar(T, est.value, yerr=est.error, marker="o", ms=3, capsize=2, label=f"L = {L}")
        ax.set_xlabel("temperature T")
        ax.set_ylabel(_LABELS[observable])
        ax.set_title(f"{_LABELS[observable]} against T")
        ax.legend()
        return ax

    def binder_crossing(self, L1: int, L2: int, *, n_points: int = 4, degree: int = 2,
                        n_bootstrap: int = 400, seed: int = 0) -> Estimate:
        """Temperature where the Binder cumulants of sizes ``L1`` and ``L2`` cross, with its error.

        The difference ``U_L1(T) - U_L2(T)`` at the temperatures both sizes share is fitted, near
        its first sign change, by a polynomial of ``degree`` (1 or 2) through the ``n_points``
        temperatures closest to the change (weights 1/error^2); the crossing is its root in that
        interval.  The error is the standard deviation of the root over ``n_bootstrap`` parametric
        resamples of the per-point values from their errors (independent normal errors; fixed
        ``seed``).  Raises ``ValueError`` when the curves do not cross within the scanned range.
        """
        L1, L2 = check_int(L1, "L1", minimum=1), check_int(L2, "L2", minimum=1)
        degree = check_int(degree, "degree", minimum=1, maximum=2)
        n_points = check_int(n_points, "n_points", minimum=degree + 1)
        n_bootstrap = check_int(n_bootstrap, "n_bootstrap", minimum=2)
        seed = check_seed(seed)
        if L1 == L2:
            raise ValueError(f"L1 and L2 must differ, got {L1} twice")
        T1, u1 = self.estimate("binder", L1)
        T2, u2 = self.estimate("binder", L2)
        T, i1, i2 = np.intersect1d(T1, T2, return_indices=True)
        if T.size < n_points:
            raise ValueError(f"sizes {L1} and {L2} share {T.size} temperatures; binder_crossing needs n_points = "
                             f"{n_points}")
        d = np.asarray(u1.value)[i1] - np.asarray(u2.value)[i2]
        s = np.hypot(np.asarray(u1.error)[i1], np.asarray(u2.error)[i2])
        if not np.all(np.isfinite(d)) or not np.all(np.isfinite(s)) or np.any(s <= 0):
            raise ValueError("binder_crossing needs finite Binder values with positive errors at every shared T")
        change = np.flatnonzero(np.sign(d[:-1]) != np.sign(d[1:]))
        if change.size == 0:
            raise ValueError(f"the Binder cumulants of L = {L1} and L = {L2} do not cross in "
                             f"T = [{T[0]:.6g}, {T[-1]:.6g}]")
        j = int(change[0])
        lo, hi = T[j], T[j + 1]
        mid = 0.5 * (lo + hi)
        near = np.sort(np.argsort(np.abs(T - mid), kind="stable")[:n_points])
        x = T[near] - mid
        w = 1.0 / s[near]

        def root(y):
            c = np.polynomial.polynomial.polyfit(x, y, degree, w=w)
            r = np.polynomial.polynomial.polyroots(c)
            r = r[np.abs(r.imag) < 1e-12].real + mid
            if r.size == 0:
                return math.nan
            return float(r[np.argmin(np.abs(r - mid))])

        t0 = root(d[near])
        if not math.isfinite(t0):
            raise ValueError(f"the fitted Binder difference of L = {L1}, {L2} has no real root near T = {mid:.6g}")
        rng = np.random.default_rng(seed)
        ys = d[near] + s[near] * rng.standard_normal((n_bootstrap, near.size))
        roots = np.array([root(y) for y in ys])  # one small fit per resample, not per site or sample
        roots = roots[np.isfinite(roots)]
        err = float(np.std(roots, ddof=1)) if roots.size > 1 else math.nan
        return Estimate(t0, err, n=int(roots.size))

    def save(self, path):
        """Write the scan to ``path`` (``.h5``/``.hdf5`` or ``.npz``) through :func:`physdl.io.save_run`,
        with kind ``"lattice/scan"``, its parameters, seed and the physdl version."""
        from .. import io

        io.save_run(path, dict(self.table), self.params, kind=_KIND)

    @classmethod
    def load(cls, path) -> "ScanResult":
        """Read a scan written by :meth:`save`; a file of another kind, edited or damaged is refused
        with a ``ValueError`` naming it."""
        from .. import io

        arrays, params = io.load_run(path, kind=_KIND)
        need = {"L", "T", "chain"} | set(OBSERVABLES) | {o + "_error" for o in OBSERVABLES}
        n = np.size(arrays.get("T", []))
        if set(arrays) != need or any(np.ndim(arrays[k]) != 1 or np.size(arrays[k]) != n for k in need):
            raise io.CorruptFileError(f"{path}: not a valid scan file (columns {sorted(arrays)}, "
                                      f"expected {sorted(need)} of one length)")
        return cls(arrays, params)
