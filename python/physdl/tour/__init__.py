"""The tour: a registry of the book's reproductions, run in sequence into one report.

Each reproduction is a function ``f(out_dir, quick, progress) -> Result`` registered with
:func:`reproduction`.  Later areas add theirs by importing this module and decorating a function;
the list of modules to import is ``TOUR_MODULES``.

Examples
--------
>>> from physdl.tour import registry
>>> "box_muller" in registry()
True
"""

from __future__ import annotations

import dataclasses
import html
import importlib
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .._validate import check_choice

# Modules whose import registers reproductions, in the order the report lists them.
TOUR_MODULES = [
    "physdl.tour.random_tour",
    "physdl.tour.sampling_tour",
    "physdl.tour.lattice_tour",
    "physdl.tour.nn_tour",
    "physdl.tour.phases_tour",
    "physdl.tour.dynamics_tour",
    "physdl.tour.holography_tour",
    "physdl.tour.tensornet_tour",
    "physdl.tour.inverse_tour",
    "physdl.tour.ebm_tour",
    "physdl.tour.quantum_tour",
    "physdl.tour.generative_tour",
]


@dataclass
class Row:
    """One reproduced number beside its exact or published value, with the basis of its status.

    A row is one of two kinds, and its ``ok`` is never a default:

    * numeric (built with :meth:`Row.measured`, or given ``value`` and ``reference_value``): ``ok`` is
      derived, ``|value - reference_value| <= tolerance`` with ``tolerance = sigmas * error + allowance``,
      where ``error`` is the value's statistical error (0 for a deterministic computation) and the
      allowance is the stated finite-size, systematic or rounding margin (``allowance_reason`` says which).
      The tolerance is written into the reference text of the row; an ``ok`` passed by hand is ignored.
    * check (built with :meth:`Row.check`): ``ok`` is an explicit boolean computed from the comparison
      stated in ``comparison`` (an exact count against an enumeration, a bit-for-bit equality, a ratio
      against a stated goal); the comparison is written into the reference text.

    A row with neither numbers nor an explicit boolean and its comparison raises.

    >>> Row("energy", "-1.1", "-1.1")
    Traceback (most recent call last):
        ...
    TypeError: Row 'energy': give value and reference_value (use Row.measured) or an explicit ok=True/False with the comparison it comes from (use Row.check)
    """

    quantity: str
    reproduced: str
    reference: str
    source: str = ""
    ok: bool | None = None
    value: float | None = None
    error: float | None = None
    reference_value: float | None = None
    sigmas: float = 3.0
    allowance: float = 0.0
    allowance_reason: str = ""
    comparison: str = ""

    def __post_init__(self):
        if self.value is not None or self.reference_value is not None:
            if self.value is None or self.reference_value is None:
                raise ValueError(f"Row {self.quantity!r}: a numeric row needs both value and reference_value")
            self.value = float(self.value)
            self.reference_value = float(self.reference_value)
            self.error = 0.0 if self.error is None else float(self.error)
            self.sigmas, self.allowance = float(self.sigmas), float(self.allowance)
            # a NaN error (an error that could not be estimated) leaves the row off, like a NaN value
            if not (all(math.isfinite(x) and x >= 0 for x in (self.sigmas, self.allowance))
                    and (math.isnan(self.error) or (math.isfinite(self.error) and self.error >= 0))):
                raise ValueError(f"error, sigmas and allowance must be finite and >= 0, got {self.error}, "
                                 f"{self.sigmas}, {self.allowance}")
            if not math.isfinite(self.reference_value):
                raise ValueError(f"Row {self.quantity!r}: reference_value must be finite, got {self.reference_value}")
            # a NaN value (nothing measured) or tolerance compares False: the row is off, never ok by default
            self.ok = bool(abs(self.value - self.reference_value) <= self.tolerance)
            if "tolerance" not in self.reference:
                self.reference = (self.reference + "; " if self.reference else "") + self._tolerance_text()
            return
        if self.error is not None:
            raise ValueError(f"Row {self.quantity!r}: an error without value and reference_value")
        if not isinstance(self.ok, (bool, np.bool_)):
            raise TypeError(f"Row {self.quantity!r}: give value and reference_value (use Row.measured) or an "
                            "explicit ok=True/False with the comparison it comes from (use Row.check)")
        if not self.comparison.strip():
            raise ValueError(f"Row {self.quantity!r}: a check row states the comparison its ok comes from "
                             "(comparison=...)")
        self.ok = bool(self.ok)
        if self.comparison not in self.reference:
            self.reference = (self.reference + "; " if self.reference else "") + f"ok if {self.comparison}"

    @property
    def numeric(self) -> bool:
        """True for a row whose status is derived from value, error, reference and tolerance."""
        return self.value is not None

    @property
    def tolerance(self) -> float | None:
        """``sigmas * error + allowance`` for a numeric row, None for a check row."""
        if self.value is None or self.reference_value is None:
            return None
        return self.sigmas * (0.0 if self.error is None else float(self.error)) + self.allowance

    @property
    def basis(self) -> str:
        """What the status follows from: the tolerance of a numeric row, the comparison of a check row."""
        if self.numeric:
            return (f"|{self.value:.6g} - {self.reference_value:.6g}| <= {self._tolerance_text()}")
        return self.comparison

    def _tolerance_text(self) -> str:
        parts = []
        if self.error:
            parts.append(f"{self.sigmas:g} x {self.error:.2g}")
        if self.allowance or not parts:
            reason = f" ({self.allowance_reason})" if self.allowance_reason else ""
            parts.append(f"{self.allowance:.2g}{reason}")
        return "tolerance " + " + ".join(parts) + f" = {self.tolerance:.2g}"

    _FLOATS = ("value", "error", "reference_value", "sigmas", "allowance")

    def to_dict(self) -> dict:
        """Plain dict of the row's fields (non-finite numbers as the strings "nan", "inf"), with the
        derived ``ok`` and ``tolerance`` and the ``basis`` of the status; :meth:`from_dict` rebuilds the
        row, deriving ``ok`` again from the numbers of a numeric row."""
        d = dataclasses.asdict(self)
        for k in self._FLOATS:
            if d[k] is not None and not math.isfinite(d[k]):
                d[k] = repr(float(d[k]))
        tol = self.tolerance
        d["tolerance"] = None if tol is None else (tol if math.isfinite(tol) else repr(tol))
        d["basis"] = self.basis
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Row":
        """Inverse of :meth:`to_dict` (the derived entries are recomputed, not read)."""
        names = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        for k in cls._FLOATS:
            if isinstance(kw.get(k), str):
                kw[k] = float(kw[k])
        if kw.get("value") is not None:
            kw["ok"] = None  # a numeric row's status is derived again, never read
        return cls(**kw)

    def __repr__(self) -> str:
        return f"Row({self.quantity!r}: {self.reproduced} vs {self.reference} [{'ok' if self.ok else 'OFF'}])"

    @classmethod
    def measured(cls, quantity: str, value: float, error: float, reference_value: float, *,
                 sigmas: float = 3.0, allowance: float = 0.0, allowance_reason: str = "", source: str = "",
                 reference_text: str | None = None, detail: str = "", fmt: str | None = None) -> "Row":
        """A numeric row whose status follows from value, error, reference and tolerance.

        ``error`` is the statistical error of ``value`` (0 for a deterministic computation);
        ``allowance`` the stated finite-size or systematic margin and ``allowance_reason`` why;
        ``reference_text`` replaces the printed reference value (the tolerance is appended to it) and
        ``detail`` is appended to the printed value; ``fmt`` (a format spec) prints a value without
        error (a deterministic computation) to the digits its comparison needs.

        >>> r = Row.measured("energy", -1.1063, 0.0036, -1.1090, sigmas=3, allowance=0.001)
        >>> r.ok, round(r.tolerance, 4)
        (True, 0.0118)
        >>> Row.measured("T_c", 3.462, 0.027, 3.641, sigmas=3).ok     # 6.6 standard errors away
        False
        >>> Row.measured("P_2", 0.625, 0.0, 0.625, allowance=1e-12, allowance_reason="rounding").reference
        '0.625; tolerance 1e-12 (rounding) = 1e-12'
        """
        from ..stats import Estimate

        value, error = float(value), float(error)
        if error > 0 or math.isnan(error):
            reproduced = str(Estimate(value, error))
        elif fmt is not None:
            reproduced = format(value, fmt)
        else:  # a deterministic computation; tiny deviations in scientific form
            reproduced = f"{value:.6g}" if value == 0 or abs(value) >= 1e-4 else f"{value:.2e}"
        if detail:
            reproduced += f" ({detail})"
        ref = f"{float(reference_value):.6g}" if reference_text is None else reference_text
        return cls(quantity, reproduced, ref, source, value=value, error=error,
                   reference_value=float(reference_value), sigmas=float(sigmas), allowance=float(allowance),
                   allowance_reason=allowance_reason)

    @classmethod
    def check(cls, quantity: str, reproduced: str, reference: str, ok: bool, *, comparison: str,
              source: str = "") -> "Row":
        """A row whose ``ok`` is the explicit result of the stated ``comparison``.

        For what is not a number within a tolerance of a reference: an exact count against an
        enumeration, a bit-for-bit equality, a one-sided goal (a ratio or a p-value against a threshold).

        >>> Row.check("ground states", "6", "6 (enumeration)", 6 == 6, comparison="count == enumeration").reference
        '6 (enumeration); ok if count == enumeration'
        """
        return cls(quantity, reproduced, reference, source, ok=ok, comparison=comparison)


@dataclass
class Result:
    title: str
    summary: str
    rows: list[Row] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    def to_dict(self) -> dict:
        """Plain dict: title, summary, rows (:meth:`Row.to_dict`), figure file names, seconds, ok."""
        return {"title": self.title, "summary": self.summary, "rows": [r.to_dict() for r in self.rows],
                "figures": [str(f) for f in self.figures], "seconds": float(self.seconds), "ok": self.ok}

    @classmethod
    def from_dict(cls, d: dict) -> "Result":
        return cls(d["title"], d["summary"], [Row.from_dict(r) for r in d["rows"]],
                   [Path(f) for f in d.get("figures", [])], float(d.get("seconds", 0.0)))

    def __repr__(self) -> str:
        off = sum(not r.ok for r in self.rows)
        return (f"Result({self.title!r}: {len(self.rows)} rows, {len(self.rows) - off} ok, {off} off, "
                f"{len(self.figures)} figures, {self.seconds:.1f} s)")


@dataclass(frozen=True)
class Reproduction:
    name: str
    title: str
    func: Callable[[Path, bool, bool], Result]


_REGISTRY: dict[str, Reproduction] = {}


def reproduction(name: str, title: str):
    """Decorator registering ``func(out_dir, quick, progress) -> Result`` under ``name``."""

    def deco(func):
        _REGISTRY[name] = Reproduction(name, title, func)
        return func

    return deco


def registry() -> dict[str, Reproduction]:
    """All registered reproductions (importing the tour modules first)."""
    for mod in TOUR_MODULES:
        importlib.import_module(mod)
    return dict(_REGISTRY)


def run_tour(out_dir="physdl-tour", quick: bool = False, only=None, progress: bool = True) -> list[Result]:
    """Run the reproductions and write ``index.md``, ``index.html`` and ``report.npz`` (the rows, for
    :func:`load_report`) into ``out_dir``.

    Parameters
    ----------
    out_dir : path-like
        Output folder (created).
    quick : bool
        Small settings (minutes on a laptop) instead of the full ones.
    only : list of str, optional
        Names of the reproductions to run (default: all).
    progress : bool
        Show progress bars.
    """
    reg = registry()
    names = list(reg)
    if only is not None:
        names = [check_choice(n, "only", list(reg)) for n in only]
        if not names:
            raise ValueError("only must name at least one reproduction")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    for name in names:
        rep = reg[name]
        if progress:
            print(f"[physdl tour] {rep.title}", flush=True)
        t0 = time.perf_counter()
        res = rep.func(out, quick, progress)
        res.seconds = time.perf_counter() - t0
        results.append(res)
    _write_report(out, results, quick)
    return results


_REPORT_KIND = "tour/report"


def save_report(path, results: list[Result], quick: bool) -> None:
    """Write tour results to ``path`` (``.h5``/``.hdf5`` or ``.npz``) through :func:`physdl.io.save_run`
    (kind ``"tour/report"``, the settings and the physdl version).  :func:`run_tour` writes
    ``report.npz`` beside ``index.md``; :func:`load_report` reads it back."""
    from .. import io

    io.save_run(path, {}, {"quick": bool(quick), "results": [r.to_dict() for r in results]}, kind=_REPORT_KIND)


def load_report(path) -> tuple[list[Result], bool]:
    """``(results, quick)`` of a report written by :func:`save_report`.  Each numeric row's status is
    derived again from its value, error, reference and tolerance; another kind, an edited or damaged
    file is refused with a ``ValueError`` naming it."""
    from .. import io

    _, p = io.load_run(path, kind=_REPORT_KIND)
    try:
        return [Result.from_dict(r) for r in p["results"]], bool(p["quick"])
    except (KeyError, TypeError, ValueError) as exc:
        raise io.CorruptFileError(f"{path}: not a valid tour report ({exc})") from None


def _write_report(out: Path, results: list[Result], quick: bool) -> None:
    from .. import __version__

    save_report(out / "report.npz", results, quick)

    mode = "quick" if quick else "full"
    md = [f"# physdl tour ({mode} settings)", "", f"physdl {__version__}", ""]
    md += ["| reproduction | quantity | reproduced | exact / published | source | ok |",
           "|---|---|---|---|---|---|"]
    for r in results:
        for row in r.rows:
            cells = (r.title, row.quantity, row.reproduced, row.reference, row.source, "yes" if row.ok else "NO")
            md.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    for r in results:
        md += ["", f"## {r.title}", "", r.summary, "", f"({r.seconds:.1f} s)"]
        for fig in r.figures:
            md += ["", f"![{r.title}]({fig.name})"]
    (out / "index.md").write_text("\n".join(md) + "\n")

    e = html.escape
    h = ["<!doctype html><html><head><meta charset='utf-8'><title>physdl tour</title>",
         "<style>body{font-family:sans-serif;max-width:60em;margin:auto}table{border-collapse:collapse}"
         "td,th{border:1px solid #999;padding:3px 8px}img{max-width:100%}</style></head><body>",
         f"<h1>physdl tour ({mode} settings)</h1><p>physdl {e(__version__)}</p>",
         "<table><tr><th>reproduction</th><th>quantity</th><th>reproduced</th><th>exact / published</th>"
         "<th>source</th><th>ok</th></tr>"]
    for r in results:
        for row in r.rows:
            h.append("<tr>" + "".join(f"<td>{e(str(x))}</td>" for x in (
                r.title, row.quantity, row.reproduced, row.reference, row.source, "yes" if row.ok else "NO")) + "</tr>")
    h.append("</table>")
    for r in results:
        h.append(f"<h2>{e(r.title)}</h2><p>{e(r.summary)}</p><p>({r.seconds:.1f} s)</p>")
        for fig in r.figures:
            h.append(f"<img src='{e(fig.name)}' alt='{e(r.title)}'>")
    h.append("</body></html>")
    (out / "index.html").write_text("\n".join(h) + "\n")
