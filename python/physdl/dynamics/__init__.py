"""Dynamical systems and neural networks (book ch. 9): symplectic integrators, Lyapunov exponents and
the reversible network.

A deep network whose layers are time steps of an equation of motion is a discretised dynamical system
(eq. 9.3-9.6); whether the discretisation keeps the symplectic structure (eq. 9.12-9.26) decides whether
energy errors stay bounded over many layers, and the Lyapunov exponents say how strongly a perturbation
of the input grows through them.  Kernels: ``physdl._core.dynamics`` (OpenMP over initial states), Numba
twins in ``_numba.py``.

Examples
--------
>>> import numpy as np
>>> from physdl import dynamics
>>> q, p, E = dynamics.integrate("pendulum", "leapfrog", [[1.0]], [[0.0]], dt=0.1, steps=1000)
>>> bool(abs(E[0, -1] - E[0, 0]) < 1e-2)
True
"""

from __future__ import annotations

from .integrators import (METHODS, SYSTEMS, energy, henon_heiles_lyapunov, integrate, lorenz_lyapunov,
                          standard_map_lyapunov)
from .hamiltonian import HamiltonianNetwork
from .resnet import HamiltonianInspiredNet, ResNet
from .revnet import RevNet

__all__ = ["SYSTEMS", "METHODS", "energy", "integrate", "lorenz_lyapunov", "standard_map_lyapunov", "henon_heiles_lyapunov", "RevNet",
           "HamiltonianNetwork", "ResNet", "HamiltonianInspiredNet"]
