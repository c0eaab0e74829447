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

import html
import importlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

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
    """One reproduced number beside its exact or published value.

    Rows built with :meth:`Row.measured` (or given ``value``, ``error`` and ``reference_value``)
    carry the numbers and derive ``ok`` from them: ``|value - reference_value| <= tolerance`` with
    ``tolerance = sigmas * error + allowance`` (the allowance is the stated finite-size or systematic
    margin), and the tolerance is shown in the row.  Rows with text only keep the ``ok`` they are given.
    """

    quantity: str
    reproduced: str
    reference: str
    source: str = ""
    ok: bool = True
    value: float | None = None
    error: float | None = None
    reference_value: float | None = None
    sigmas: float = 3.0
    allowance: float = 0.0

    def __post_init__(self):
        if self.value is not None and self.reference_value is not None:
            err = 0.0 if self.error is None else float(self.error)
            if err < 0 or self.sigmas < 0 or self.allowance < 0:
                raise ValueError(f"error, sigmas and allowance must be >= 0, got {err}, {self.sigmas}, "
                                 f"{self.allowance}")
            diff = abs(float(self.value) - float(self.reference_value))
            self.ok = bool(diff <= self.tolerance)

    @property
    def tolerance(self) -> float | None:
        """``sigmas * error + allowance`` for a numeric row, None for a text-only row."""
        if self.value is None or self.reference_value is None:
            return None
        return self.sigmas * (0.0 if self.error is None else float(self.error)) + self.allowance

    @classmethod
    def measured(cls, quantity: str, value: float, error: float, reference_value: float, *,
                 sigmas: float = 3.0, allowance: float = 0.0, source: str = "") -> "Row":
        """A numeric row whose status follows from value, error, reference and tolerance.

        >>> r = Row.measured("energy", -1.1063, 0.0036, -1.1090, sigmas=3, allowance=0.001)
        >>> r.ok, round(r.tolerance, 4)
        (True, 0.0118)
        >>> Row.measured("T_c", 3.462, 0.027, 3.641, sigmas=3).ok     # 6.6 standard errors away
        False
        """
        from ..stats import Estimate

        tol = sigmas * error + allowance
        reproduced = str(Estimate(float(value), float(error)))
        reference = (f"{reference_value:.6g}; tolerance {sigmas:g} x {error:.2g}"
                     + (f" + {allowance:.2g}" if allowance else "") + f" = {tol:.2g}")
        return cls(quantity, reproduced, reference, source, value=float(value), error=float(error),
                   reference_value=float(reference_value), sigmas=float(sigmas), allowance=float(allowance))


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
    """Run the reproductions and write ``index.md`` and ``index.html`` into ``out_dir``.

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


def _write_report(out: Path, results: list[Result], quick: bool) -> None:
    from .. import __version__

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
