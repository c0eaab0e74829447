"""Tour entry for chapter 11.1: RBM variational Monte Carlo against exact diagonalisation (eq. 11.3-11.5).

The computation is ``physdl.quantum._cli.compute``, shared with ``physdl quantum [--quick]``.
"""

from __future__ import annotations

from pathlib import Path

from . import Result, Row, reproduction


@reproduction("quantum_vmc", "RBM variational Monte Carlo vs exact diagonalisation (eq. 11.3-11.5)")
def quantum_vmc_tour(out: Path, quick: bool, progress: bool) -> Result:
    from ..quantum._cli import TITLE, compute

    res = compute(out, quick=quick, progress=progress)
    return Result(TITLE, res["text"], [Row(*r) for r in res["rows"]], [res["png"]])
