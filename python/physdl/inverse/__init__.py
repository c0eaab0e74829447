"""Inverse problems and sparse modelling (book ch. 7 and its column, eq. 7.2-7.17).

* :mod:`~physdl.inverse.linear`: least squares, the Moore-Penrose inverse (eq. 7.10 at alpha = 0),
  :class:`Tikhonov` for many alphas from one SVD with the filter factors of eq. 7.9-7.10, the
  smoothness penalty of eq. 7.6 by the standard-form transformation, and alpha by Morozov's
  discrepancy principle, the L-curve corner or GCV; :func:`picard` plot data.
* :mod:`~physdl.inverse.problems`: the backward heat equation, Shaw's and Phillips' Fredholm problems with
  their exact solutions.
* :mod:`~physdl.inverse.lasso`: the LASSO (eq. 7.15) in scikit-learn's scaling
  1/(2n)||y - X b||^2 + alpha ||b||_1 by coordinate descent, FISTA or ADMM (C++ with Numba twins),
  duality-gap stopping, non-negativity, the path and cross-validated alpha.
* :mod:`~physdl.inverse.continuation`: sparse-modelling analytic continuation of imaginary-time
  Green's functions in the IR basis (eq. 7.16-7.17).

Examples
--------
>>> import numpy as np
>>> from physdl.inverse import Tikhonov, shaw
>>> p = shaw(32)
>>> t = Tikhonov(p.J, p.y_exact)
>>> x = t.solve(1e-10)
>>> bool(np.linalg.norm(x - p.x_exact) / np.linalg.norm(p.x_exact) < 0.1)
True
"""

from __future__ import annotations

from .continuation import (IRBasis, SpMResult, SpMScan, add_noise, bosonic_kernel, elbow, fermionic_kernel,
                           gaussian_mixture, green_function, insulator_spectrum, ir_basis, metal_spectrum,
                           semicircle, spectral_error, spm_continuation, spm_lambda_scan)
from .lasso import (LassoCVResult, LassoPath, LassoResult, alpha_grid, alpha_max, kkt_violation, lasso, lasso_cv,
                    lasso_objective, lasso_path)
from .linear import Tikhonov, difference_operator, least_squares, picard, pseudo_inverse
from .problems import InverseProblem, backward_heat, phillips, phillips_data, shaw

__all__ = [
    "least_squares", "pseudo_inverse", "difference_operator", "Tikhonov", "picard",
    "InverseProblem", "backward_heat", "shaw", "phillips", "phillips_data",
    "lasso", "lasso_path", "lasso_cv", "lasso_objective", "kkt_violation", "alpha_max", "alpha_grid",
    "LassoResult", "LassoPath", "LassoCVResult",
    "fermionic_kernel", "bosonic_kernel", "semicircle", "gaussian_mixture", "insulator_spectrum", "metal_spectrum",
    "green_function", "add_noise", "IRBasis", "ir_basis", "SpMResult", "SpMScan", "spm_continuation",
    "spm_lambda_scan", "elbow", "spectral_error",
]
