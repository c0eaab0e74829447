"""The result of :meth:`PhaseClassifier.scan`: mean network output per temperature, as a dict that
also prints, saves, loads and plots itself."""

from __future__ import annotations

import numpy as np

from .. import io
from ..stats import Estimate, format_value_error

__all__ = ["PhaseScan"]

_KIND = "phases/classifier-scan"


class PhaseScan(dict):
    """``{"T", "output", "per_config"}`` of a classifier scan (a dict, as before), with

    - ``to_dict()``: lists of the temperatures, mean outputs and their errors, and ``per_config``;
    - a short ``repr`` (sizes, the output range and the level crossing);
    - ``save(path)`` / ``PhaseScan.load(path)`` through :mod:`physdl.io` (kind
      ``"phases/classifier-scan"``, parameters, physdl version);
    - ``plot(ax=None, Tc=None)``: P(disordered) against T with error bars.

    ``T`` holds the sorted temperatures, ``output`` an array :class:`~physdl.stats.Estimate` (mean
    output and standard error per temperature) and ``per_config`` every configuration's output.
    """

    def __init__(self, T, output: Estimate, per_config, params: dict | None = None):
        super().__init__(T=np.asarray(T, dtype=np.float64), output=output,
                         per_config=np.asarray(per_config, dtype=np.float64))
        self.params = dict(params or {})

    def crossing(self, level: float = 0.5) -> float:
        """Temperature where the mean output first crosses ``level`` (linear interpolation; NaN if never)."""
        y = np.asarray(self["output"].value)
        T = self["T"]
        above = y >= level
        idx = np.flatnonzero(above[1:] != above[:-1])
        if idx.size == 0:
            return float("nan")
        k = int(idx[0])
        return float(T[k] + (level - y[k]) * (T[k + 1] - T[k]) / (y[k + 1] - y[k]))

    def to_dict(self) -> dict:
        out = self["output"]
        return {"T": self["T"].tolist(), "output": np.asarray(out.value, dtype=np.float64).tolist(),
                "output_error": np.asarray(out.error, dtype=np.float64).tolist(),
                "per_config": self["per_config"].tolist(), "params": dict(self.params)}

    def __repr__(self) -> str:
        T, out = self["T"], self["output"]
        v, e = np.asarray(out.value), np.asarray(out.error)
        ends = (f", output {format_value_error(v[0], e[0])} at T={T[0]:.4g} .. "
                f"{format_value_error(v[-1], e[-1])} at T={T[-1]:.4g}") if T.size else ""
        return (f"PhaseScan({T.size} temperatures, {self['per_config'].size} configurations{ends}, "
                f"crossing(0.5)={self.crossing():.4g})")

    def save(self, path) -> None:
        """Write to ``path`` (``.h5``/``.hdf5`` or ``.npz``) with kind ``"phases/classifier-scan"``."""
        out = self["output"]
        io.save_run(path, {"T": self["T"], "output": np.asarray(out.value, dtype=np.float64),
                           "output_error": np.asarray(out.error, dtype=np.float64),
                           "per_config": self["per_config"]}, dict(self.params, n=out.n), kind=_KIND)

    @classmethod
    def load(cls, path) -> "PhaseScan":
        """Read a scan written by :meth:`save`; another kind, an edited or damaged file, or arrays of
        inconsistent shapes are refused with a ``ValueError`` naming the file."""
        arrays, params = io.load_run(path, kind=_KIND)
        need = {"T", "output", "output_error", "per_config"}
        if set(arrays) != need:
            raise io.CorruptFileError(f"{path}: not a valid classifier scan (entries {sorted(arrays)}, "
                                      f"expected {sorted(need)})")
        T = arrays["T"]
        if T.ndim != 1 or arrays["output"].shape != T.shape or arrays["output_error"].shape != T.shape or \
                arrays["per_config"].ndim != 1 or np.any(np.diff(T) <= 0):
            raise io.CorruptFileError(f"{path}: not a valid classifier scan (T must be 1-d and increasing, "
                                      "output and output_error of its shape)")
        params = dict(params)
        n = params.pop("n", None)
        return cls(T, Estimate(arrays["output"], arrays["output_error"], n=n), arrays["per_config"], params)

    def plot(self, ax=None, Tc: float | None = None):
        """Mean P(disordered) against T with error bars (and ``Tc`` as a vertical line); returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        out = self["output"]
        ax.errorbar(self["T"], out.value, yerr=out.error, marker="o", ms=3, capsize=2, label="network output")
        ax.axhline(0.5, color="grey", lw=0.8, ls="--", label="level 0.5")
        if Tc is not None:
            ax.axvline(float(Tc), color="k", lw=0.8, ls=":", label=f"T_c = {float(Tc):.4g}")
        ax.set_xlabel("temperature T")
        ax.set_ylabel("P(disordered)")
        ax.set_ylim(-0.05, 1.05)
        ax.set_title("classifier output against T")
        ax.legend()
        return ax
