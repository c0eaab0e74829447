"""Tour entry for chapter 11.1: RBM variational Monte Carlo against exact diagonalisation (eq. 11.3-11.5).

The computation is ``physdl.quantum._cli.compute``, shared with ``physdl quantum [--quick]``.
"""

from __future__ import annotations

from pathlib import Path

from . import Result, Row, reproduction


def _rows(raw, quick: bool) -> list[Row]:
    """Check rows from ``compute``'s (quantity, reproduced, reference, source, ok) tuples.

    ``compute`` returns text and its verdict, not the numbers, so these rows are checks whose stated
    comparison is the one ``compute`` makes: the relative error of the VMC energy against exact
    diagonalisation below its tolerance (5e-3 quick, 1e-3 full), or, for the RBM without the sign rule,
    above ten times it.
    """
    tol = 5e-3 if quick else 1e-3
    rows = []
    for quantity, reproduced, reference, source, ok in raw:
        unsigned = "cannot carry" in quantity
        comparison = (f"relative error against ED > {10 * tol:.0e}" if unsigned
                      else f"relative error against ED < {tol:.0e}")
        rows.append(Row.check(quantity, reproduced, reference, bool(ok), comparison=comparison, source=source))
    return rows


@reproduction("quantum_vmc", "RBM variational Monte Carlo vs exact diagonalisation (eq. 11.3-11.5)")
def quantum_vmc_tour(out: Path, quick: bool, progress: bool) -> Result:
    from ..quantum._cli import TITLE, compute

    res = compute(out, quick=quick, progress=progress)
    return Result(TITLE, res["text"], _rows(res["rows"], quick), [res["png"]])
