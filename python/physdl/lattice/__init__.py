"""Lattice Monte Carlo (book ch. 5 and 8.1): Ising, Edwards-Anderson and SK models, Metropolis,
heat bath, Wolff and Swendsen-Wang updates, multi-spin coding, parallel tempering, replica overlaps
of spin glasses and tuned temperature ladders, temperature/size scans.

``physdl.lattice.scan`` is the scan module; its function is ``physdl.lattice.scan_temperatures``
(the same object as ``physdl.lattice.scan.scan``), returning a :class:`ScanResult`.

Examples
--------
>>> from physdl import lattice
>>> sim = lattice.Simulation(lattice.Ising((16, 16)), beta=0.3, update="wolff", seed=1)
>>> res = sim.run(sweeps=200, burn_in=50)
>>> -2.0 < res.energy.value < 0.0
True
"""

from __future__ import annotations

from . import datasets, enumerate, exact, scan, spinglass, transition
from .datasets import IsingDataset, ising_dataset
from .models import (GEOMETRIES, SQUARE_TC, TRIANGULAR_TC, EdwardsAnderson, Ising, Model,
                     SherringtonKirkpatrick)
from .simulation import (STORAGES, SWEEPS, UPDATES, Estimate, LatticeTooLarge, ParallelTempering, RunResult,
                         Simulation, analyse, is_spin_glass, multispin_unsupported, pack_multispin,
                         unpack_multispin)
from .scan import ScanResult
from .scan import scan as scan_temperatures  # physdl.lattice.scan stays the module
from .spinglass import (OverlapResult, OverlapTempering, TunedLadder, disorder_average, geometric_ladder,
                        overlap_analysis, overlap_run, overlap_tempering, overlaps, same_disorder, tuned_ladder)

__all__ = [
    "GEOMETRIES", "UPDATES", "STORAGES", "SWEEPS", "SQUARE_TC", "TRIANGULAR_TC",
    "Model", "Ising", "EdwardsAnderson", "SherringtonKirkpatrick",
    "Simulation", "ParallelTempering", "RunResult", "Estimate", "LatticeTooLarge", "analyse",
    "multispin_unsupported", "is_spin_glass", "pack_multispin", "unpack_multispin",
    "exact", "enumerate", "datasets", "transition",
    "IsingDataset", "ising_dataset", "spinglass", "overlaps", "overlap_analysis", "overlap_run",
    "overlap_tempering", "OverlapResult", "OverlapTempering", "same_disorder", "geometric_ladder", "tuned_ladder",
    "TunedLadder", "disorder_average", "scan", "scan_temperatures", "ScanResult",
]
