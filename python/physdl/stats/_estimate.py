"""The estimate type: value, standard error and, where they apply, variance, tau_int and n."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def format_value_error(value: float, error: float, digits: int = 2) -> str:
    """``value ± error`` with the error to ``digits`` significant digits and the value to match.

    The rule every estimate of physdl prints by (``str``/``repr`` of :class:`Estimate`, result
    objects, scan tables): the error is rounded to ``digits`` (default 2) significant digits, and
    the value is rounded to the same decimal place, so ``-1.040213, 0.002614`` prints as
    ``-1.0402 ± 0.0026``.  Errors of 10 or more print as integers at that place
    (``12345 ± 67``); a zero error prints the value to 6 significant digits;
    non-finite numbers print as they are.

    Examples
    --------
    >>> format_value_error(3.14159, 0.0123)
    '3.142 ± 0.012'
    >>> format_value_error(12345.0, 67.0)
    '12345 ± 67'
    >>> format_value_error(-1.040213, 0.002614)
    '-1.0402 ± 0.0026'
    """
    v, e = float(value), float(error)
    if not math.isfinite(v) or not math.isfinite(e):
        return f"{v!r} ± {e!r}"
    if e <= 0.0:
        return f"{v:.6g} ± 0"
    exp = math.floor(math.log10(e)) - (digits - 1)
    if round(e, -exp) >= 10.0 ** (exp + digits):  # 0.00996 -> 0.010: the rounded error gained a digit
        exp += 1
    if exp >= 0:
        q = 10.0 ** exp
        return f"{round(v / q) * q:.0f} ± {round(e / q) * q:.0f}"
    nd = -exp
    return f"{v:.{nd}f} ± {e:.{nd}f}"


@dataclass(frozen=True)
class Estimate:
    """A value with its standard error and, where they apply, more about the sample.

    Attributes
    ----------
    value : float
        The estimate (for jackknife estimates, the bias-corrected value).
    error : float
        Its standard error.
    variance : float or None
        Variance of the underlying samples, when the estimate is a mean.
    tau : float or None
        Integrated autocorrelation time of the samples, in samples.
    tau_error : float or None
        Standard error of ``tau``.
    n : int or None
        Number of samples behind the estimate.

    ``value, error = estimate`` unpacks; ``format(est, ".4f")`` formats both numbers; ``repr`` rounds
    the value to its error (two significant digits of the error).

    ``value`` and ``error`` may also be arrays of one shape (a curve with its error band, e.g. an
    output per temperature): the estimate then prints element by element and ``to_dict`` gives lists.
    """

    value: float
    error: float
    variance: float | None = None
    tau: float | None = None
    tau_error: float | None = None
    n: int | None = None

    def __iter__(self):
        return iter((self.value, self.error))

    @property
    def is_array(self) -> bool:
        """True for an array-valued estimate (a curve with its error band)."""
        return np.ndim(self.value) > 0

    def __format__(self, spec):
        if not spec:
            return str(self)
        if self.is_array:
            v, e = np.ravel(self.value), np.ravel(self.error)
            return "[" + ", ".join(f"{format(a, spec)} ± {format(b, spec)}" for a, b in zip(v, e)) + "]"
        return f"{format(self.value, spec)} ± {format(self.error, spec)}"

    def __str__(self) -> str:
        if self.is_array:
            v, e = np.ravel(self.value), np.ravel(self.error)
            items = [format_value_error(a, b) for a, b in zip(v[:6], e[:6])]
            more = f", ... ({v.size} values)" if v.size > 6 else ""
            return "[" + ", ".join(items) + more + "]"
        return format_value_error(self.value, self.error)

    def __repr__(self) -> str:
        extra = []
        if self.tau is not None:
            t = format_value_error(self.tau, self.tau_error) if self.tau_error is not None else f"{self.tau:.3g}"
            extra.append(f"tau={t}")
        if self.n is not None:
            extra.append(f"n={self.n}")
        tail = (", " + ", ".join(extra)) if extra else ""
        return f"Estimate({self}{tail})"

    def __float__(self) -> float:
        return float(self.value)

    @property
    def relative_error(self) -> float:
        """``error / |value|`` (inf for a zero value)."""
        if self.is_array:
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(np.asarray(self.value) != 0, np.abs(np.asarray(self.error) / self.value), np.inf)
        return abs(self.error / self.value) if self.value != 0 else math.inf

    def within(self, reference, n_sigma: float = 3.0) -> bool:
        """True when ``|value - reference| <= n_sigma * error`` (element by element for arrays: all)."""
        if self.is_array:
            return bool(np.all(np.abs(np.asarray(self.value) - np.asarray(reference, dtype=np.float64))
                               <= n_sigma * np.asarray(self.error)))
        return abs(self.value - float(reference)) <= n_sigma * self.error

    def to_dict(self) -> dict:
        """Plain dict of the fields that are set (for JSON and HDF5 attributes; arrays become lists)."""
        if self.is_array:
            d = {"value": np.asarray(self.value, dtype=np.float64).tolist(),
                 "error": np.asarray(self.error, dtype=np.float64).tolist()}
            if self.n is not None:
                d["n"] = int(self.n)
            return d
        d = {"value": float(self.value), "error": float(self.error)}
        for k in ("variance", "tau", "tau_error"):
            v = getattr(self, k)
            if v is not None:
                d[k] = float(v)
        if self.n is not None:
            d["n"] = int(self.n)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Estimate":
        """Inverse of :meth:`to_dict`."""
        keys = {"value", "error", "variance", "tau", "tau_error", "n"}
        unknown = set(d) - keys
        if unknown or "value" not in d or "error" not in d:
            raise ValueError(f"an Estimate dict needs 'value' and 'error' and only {sorted(keys)}, got {sorted(d)}")
        if isinstance(d["value"], (list, tuple)):
            d = dict(d, value=np.asarray(d["value"], dtype=np.float64), error=np.asarray(d["error"], dtype=np.float64))
        return cls(**d)
