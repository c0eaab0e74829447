"""Tour entry: phase-transition detection (book ch. 8) at quick settings."""

from __future__ import annotations

from pathlib import Path

from . import Result, Row, reproduction


def _rows(res: dict) -> list[Row]:
    """Rows from ``run_phases``' result: the triangular T_c, the thermometer's beta_c, the 3-unit network."""
    from ..phases import BETA_C_SQUARE, BOOK_TABLE_8_1, TC_TRIANGULAR

    rows = []
    for kind, r in res["classifier"].items():
        t, e = r["Tc_triangular"], r["Tc_triangular_err"]
        # 3 bootstrap errors plus a stated finite-size allowance of 2% of T_c (the quick lattice is small)
        rows.append(Row.measured(f"triangular T_c from square-lattice {kind.upper()} (L={res['settings']['classifier_L']}) "
                                 "vs 4/ln 3", t, e, TC_TRIANGULAR, sigmas=3, allowance=0.02 * TC_TRIANGULAR,
                                 allowance_reason="2%: finite size", source="exact"))
    classes = res["settings"]["thermometer_classes"]
    for L, per in res["thermometer"].items():
        peak = per["exact_specific_heat_peak"]
        book = BOOK_TABLE_8_1.get(int(L))
        for kind in ("cnn", "fc"):
            for grid, r in per.get(kind, {}).items():
                lo, hi = (float(x) for x in grid.split("-"))
                # the estimate is the finite-size specific-heat peak: compare with its exact value, within
                # 4 bootstrap errors plus the rule's interpolation allowance (a fifth of the class spacing)
                ref = (f"{peak:.4f} finite-L C peak (Kaufman); {BETA_C_SQUARE:.6f} exact"
                       + (f"; book {book[0 if kind == 'cnn' else 1]:.4f}" if book else ""))
                rows.append(Row.measured(
                    f"thermometer beta_c {kind.upper()} L={L} (class-grid centre {r['grid_centre']:.2f})",
                    r["beta_c"], r["beta_c_err"], peak, sigmas=4, allowance=0.2 * (hi - lo) / (classes - 1),
                    allowance_reason="a fifth of the class spacing", reference_text=ref, source="Kaufman / Table 8.1"))
    c = res["three_unit"]["max_abs_corr_u_m"]
    # |corr| <= 1: "close to 1" is the goal of a margin 0.2 from 1
    rows.append(Row.measured("3-unit network (eq. 8.11): max |corr(u_i, m)|", c, 0.0, 1.0, allowance=0.2,
                             allowance_reason="goal: close to 1, Fig. 8.3", source="book", fmt=".3f"))
    return rows


@reproduction("phases", "Detecting the Ising phase transition with neural networks (ch. 8)")
def phases(out: Path, quick: bool, progress: bool) -> Result:
    from ..phases.run import run_phases

    # The tour always uses the quick phases settings; `physdl phases` runs the full ones.
    res = run_phases(out / "phases", quick=True, progress=progress, networks=("fc", "cnn"))
    rows = _rows(res)
    figures = [Path(f) for f in res["figures"]]
    # figures live in a subfolder; the report references them relative to the tour folder
    rel = []
    for f in figures:
        target = out / f"phases_{f.name}"
        target.write_bytes(f.read_bytes())
        rel.append(target)
    summary = ("Square-lattice phase classifier applied to the triangular lattice (Fig. 8.1), the thermometer's "
               "last-layer weights (Fig. 8.2) and the beta_c from the specific heat it learned (Table 8.1), and the three hidden "
               "units of eq. 8.9 against the magnetisation (Fig. 8.3). Quick settings; `physdl phases` runs the "
               "full ones. beta_c is the peak of the specific heat the thermometer learned (the divergence of "
               "neighbouring classes under its own outputs), measured on two class grids with different centres.\n\n"
               + res["beta_c_table"])
    return Result("Detecting the Ising phase transition with neural networks (ch. 8)", summary, rows, rel)
