"""The sweep store: one HDF5 file, one group per finished point, written from the client side.

Layout::

    /                attrs: kind = "physdl.sweep", definition (SHA-256 of the sweep definition),
                            definition_json, version
    /points/<key>    attrs: params (JSON), seed, index, seconds, worker, version,
                            scalars (JSON: floats, ints and Estimates), complete = 1 (written last)
    /points/<key>/<name>   one dataset per array result

A group without ``complete`` (a client killed while writing it) is not a finished point: a resumed
sweep deletes and recomputes it.
"""

from __future__ import annotations

import json
import numbers
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..stats import Estimate

__all__ = ["SweepStore", "SweepTable", "load_sweep"]

KIND = "physdl.sweep"


class StoreError(ValueError):
    """A sweep store that cannot be used (corrupt, foreign, or from another sweep definition)."""


def _encode_scalars(results: dict, where: str) -> tuple[str, dict]:
    scalars, arrays = {}, {}
    for name, v in results.items():
        if not isinstance(name, str) or not name or "/" in name:
            raise ValueError(f"{where}: result names must be non-empty strings without '/', got {name!r}")
        if isinstance(v, Estimate):
            scalars[name] = {"estimate": v.to_dict()}
        elif isinstance(v, (bool, np.bool_)):
            scalars[name] = {"bool": bool(v)}
        elif isinstance(v, numbers.Integral):
            scalars[name] = {"int": int(v)}
        elif isinstance(v, numbers.Real):
            scalars[name] = {"float": float(v)}
        elif isinstance(v, str):
            scalars[name] = {"str": v}
        else:
            a = np.asarray(v)
            if a.dtype == object or a.dtype.kind not in "biufc":
                raise TypeError(f"{where}: result {name!r} must be a number, an Estimate, a string or a numeric "
                                f"array, got {type(v).__name__}")
            arrays[name] = a
    return json.dumps(scalars), arrays


def _decode_scalars(text: str) -> dict:
    out = {}
    for name, d in json.loads(text).items():
        (tag, v), = d.items()
        out[name] = Estimate.from_dict(v) if tag == "estimate" else v
    return out


class SweepStore:
    """The HDF5 file of one sweep definition (opened per write, so a crash loses at most the points
    being written)."""

    def __init__(self, path, definition: str, definition_json: str):
        import h5py

        self.path = Path(path)
        self.definition = definition
        if self.path.exists():
            try:
                with h5py.File(self.path, "a") as f:
                    kind = f.attrs.get("kind")
                    if kind != KIND:
                        raise StoreError(f"{self.path}: not a physdl sweep store (kind {kind!r})")
                    if f.attrs.get("definition") != definition:
                        raise StoreError(
                            f"{self.path}: this store was written by a different sweep (other task settings, "
                            "grid or seed); give another `out` or delete it")
                    pts = f.require_group("points")
                    for key in [k for k in pts if not pts[k].attrs.get("complete", 0)]:
                        del pts[key]  # a point half-written when the client stopped
            except StoreError:
                raise
            except (OSError, KeyError, ValueError) as e:
                raise StoreError(f"{self.path}: cannot be read as a sweep store ({e})") from None
        else:
            from .. import __version__

            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp")
            with h5py.File(tmp, "w") as f:
                f.attrs["kind"] = KIND
                f.attrs["definition"] = definition
                f.attrs["definition_json"] = definition_json
                f.attrs["version"] = __version__
                f.create_group("points")
            os.replace(tmp, self.path)

    def done(self) -> set[str]:
        """Keys of the finished points."""
        import h5py

        with h5py.File(self.path, "r") as f:
            pts = f["points"]
            return {k for k in pts if pts[k].attrs.get("complete", 0)}

    def write(self, key: str, index: int, params: dict, seed: int, results: dict, seconds: float,
              worker: str) -> None:
        """Write one finished point (flushed, then fsynced)."""
        self.write_many([(key, index, params, seed, results, seconds, worker)])

    def write_many(self, points) -> None:
        """Write finished points ``(key, index, params, seed, results, seconds, worker)`` in one opening
        of the file and one fsync (points that finished together are committed together)."""
        import h5py

        from .. import __version__

        encoded = [(p, _encode_scalars(p[4], f"point {p[1]} ({p[2]})")) for p in points]
        if not encoded:
            return
        with h5py.File(self.path, "a") as f:
            pts = f["points"]
            for (key, index, params, seed, _, seconds, worker), (scalars, arrays) in encoded:
                if key in pts:
                    del pts[key]
                g = pts.create_group(key)
                for name, a in arrays.items():
                    g.create_dataset(name, data=a)
                g.attrs["params"] = json.dumps(params, sort_keys=True)
                g.attrs["seed"] = np.uint64(seed)
                g.attrs["index"] = int(index)
                g.attrs["seconds"] = float(seconds)
                g.attrs["worker"] = str(worker)
                g.attrs["version"] = __version__
                g.attrs["scalars"] = scalars
            f.flush()
            # each point's flag goes last, after its data reached the file
            for (key, *_), _enc in encoded:
                pts[key].attrs["complete"] = 1
        fd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass
class SweepTable:
    """A finished (or partial) sweep as one table: parameters and results of every point, by index.

    Attributes
    ----------
    params : list of dict
    results : list of dict
        Estimates, numbers and arrays of each point.
    seeds, seconds : ndarray
    definition : dict
        The task spec, grid and seed of the sweep.
    """

    params: list
    results: list
    seeds: np.ndarray
    seconds: np.ndarray
    index: np.ndarray
    definition: dict

    def __len__(self) -> int:
        return len(self.params)

    def column(self, name: str) -> list:
        """One parameter or result of every point (parameters first)."""
        if self.params and name in self.params[0]:
            return [p[name] for p in self.params]
        if not all(name in r for r in self.results):
            have = sorted(set(self.params[0]) | set(self.results[0])) if self.params else []
            raise KeyError(f"no parameter or result {name!r} in every point; have {have}")
        return [r[name] for r in self.results]

    def values(self, name: str) -> np.ndarray:
        """Values of a numeric or Estimate column."""
        return np.array([float(v.value) if isinstance(v, Estimate) else float(v) for v in self.column(name)])

    def errors(self, name: str) -> np.ndarray:
        """Errors of an Estimate column."""
        col = self.column(name)
        if not all(isinstance(v, Estimate) for v in col):
            raise TypeError(f"column {name!r} is not a column of Estimates")
        return np.array([v.error for v in col])

    def where(self, **fixed) -> "SweepTable":
        """The points whose parameters equal ``fixed``."""
        keep = [i for i, p in enumerate(self.params) if all(p.get(k) == v for k, v in fixed.items())]
        return SweepTable([self.params[i] for i in keep], [self.results[i] for i in keep], self.seeds[keep],
                          self.seconds[keep], self.index[keep], self.definition)

    def plot(self, x: str, y: str, by: str | None = None, ax=None, **kw):
        """Error-bar plot of result ``y`` against parameter ``x``, one line per value of ``by``."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        groups = sorted({p[by] for p in self.params}, key=str) if by else [None]
        for gval in groups:
            t = self.where(**{by: gval}) if by else self
            xs = np.array([float(v) for v in t.column(x)])
            order = np.argsort(xs)
            ys = t.values(y)[order]
            try:
                es = t.errors(y)[order]
            except TypeError:
                es = None
            ax.errorbar(xs[order], ys, yerr=es, marker="o", ms=3, capsize=2,
                        label=None if by is None else f"{by}={gval}", **kw)
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        if by:
            ax.legend()
        return ax


def _to_scan(self):
    """The points of a lattice sweep (parameters ``L`` and ``T`` or ``beta``, results with the
    observables of :data:`physdl.lattice.scan.OBSERVABLES` as Estimates) as a
    :class:`physdl.lattice.scan.ScanResult`: ``to_pandas()``, ``plot(observable)`` against T per size,
    ``binder_crossing(L1, L2)``, ``save``/``load``, the same code as :func:`physdl.lattice.scan.scan`'s."""
    from ..lattice.scan import OBSERVABLES, ScanResult

    if not self.params:
        raise ValueError("the sweep has no finished points")
    T = []
    for k, p in enumerate(self.params):
        if "L" not in p or not ("T" in p or "beta" in p):
            raise ValueError(f"point {k} ({p}) has no L and T (or beta): to_scan needs a lattice sweep over them")
        T.append(float(p["T"]) if "T" in p else 1.0 / float(p["beta"]))
    table = {"L": np.array([int(p["L"]) for p in self.params]), "T": np.array(T),
             "chain": np.array([int(p.get("chain", i)) for i, p in zip(self.index, self.params)])}
    for name in OBSERVABLES:
        table[name] = self.values(name)
        table[name + "_error"] = self.errors(name)
    task = self.definition.get("task", {})
    params = {"update": task.get("update"), "sweeps": task.get("sweeps"), "burn_in": task.get("burn_in"),
              "seed": self.definition.get("seed"), "model": task.get("model"), "task": task,
              "point_seeds": self.seeds.tolist()}
    return ScanResult(table, params)


SweepTable.to_scan = _to_scan


def load_sweep(path) -> SweepTable:
    """Read a sweep store as a :class:`SweepTable` (points in grid order); errors name the file."""
    import h5py

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such sweep store")
    try:
        with h5py.File(p, "r") as f:
            if f.attrs.get("kind") != KIND:
                raise StoreError(f"{p}: not a physdl sweep store (kind {f.attrs.get('kind')!r})")
            definition = json.loads(f.attrs["definition_json"])
            rows = []
            for key, g in f["points"].items():
                if not g.attrs.get("complete", 0):
                    continue
                res = _decode_scalars(g.attrs["scalars"])
                for name, ds in g.items():
                    res[name] = ds[()]
                rows.append((int(g.attrs["index"]), json.loads(g.attrs["params"]), res,
                             int(g.attrs["seed"]), float(g.attrs["seconds"])))
    except StoreError:
        raise
    except (OSError, KeyError, ValueError, TypeError) as e:
        raise StoreError(f"{p}: cannot be read as a sweep store ({e})") from None
    rows.sort(key=lambda r: r[0])
    return SweepTable([r[1] for r in rows], [r[2] for r in rows], np.array([r[3] for r in rows], np.uint64),
                      np.array([r[4] for r in rows]), np.array([r[0] for r in rows], np.int64), definition)
