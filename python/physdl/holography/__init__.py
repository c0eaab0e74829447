"""Holography: spacetime as a neural network (book ch. 12).

The bulk scalar field's equation of motion, discretised in the emergent coordinate eta, is a deep
network whose weights are the metric ``h(eta)`` (eq. 12.5-12.8); boundary data enter through the
AdS/CFT dictionary (eq. 12.9-12.10, 12.22-12.24) and the black-hole horizon condition is the output
(eq. 12.11-12.12).  Training the network on positive and negative boundary data solves the inverse
problem for the metric: :func:`ads_schwarzschild_data` reproduces ``h = 3 coth(3 eta)`` (sec. 12.3.1),
:func:`qcd_data` is the lattice-QCD chiral condensate of Table 12.1 (sec. 12.4).

Forward pass, hand-derived adjoint and Adam epochs run in one C++ call (``physdl._core.holography``,
Numba twin in ``_numba.py``), many independent trials at once.
"""

from __future__ import annotations

from .data import (QCD_CONDENSATE, QCD_LAMBDA, QCD_R, QCD_TABLE_12_2, ads_schwarzschild_data,
                   ads_schwarzschild_metric, qcd_condensate_curve, qcd_data)
from .experiments import AdSResult, QCDResult, ads_schwarzschild_experiment, qcd_experiment
from .network import HORIZONS, INPUT_MAPS, OUTPUTS, FitResult, HolographicNetwork

__all__ = [
    "HolographicNetwork", "FitResult", "INPUT_MAPS", "HORIZONS", "OUTPUTS",
    "ads_schwarzschild_metric", "ads_schwarzschild_data", "qcd_condensate_curve", "qcd_data",
    "QCD_CONDENSATE", "QCD_TABLE_12_2", "QCD_LAMBDA", "QCD_R",
    "ads_schwarzschild_experiment", "qcd_experiment", "AdSResult", "QCDResult",
]
