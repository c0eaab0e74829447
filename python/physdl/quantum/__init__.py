"""Quantum many-body states (book ch. 11.1): spins 1/2, Pauli-string operators, exact diagonalisation.

The engine part: :class:`SpinHilbert` (sectors of total S^z, ranking in C++), :class:`PauliSum` with
the models of eq. 11.5 in Pauli units (:func:`transverse_field_ising`, :func:`heisenberg`,
:func:`j1j2`) on any :class:`physdl.geometry.Lattice`, connected elements from a C++ kernel (Numba
twin), sparse matrices and :func:`ground_state` by Lanczos.  The application, variational Monte Carlo
with RBM wave functions, is :mod:`physdl.quantum.vmc`.

Examples
--------
>>> from physdl.geometry import Lattice
>>> from physdl import quantum
>>> H = quantum.transverse_field_ising(Lattice("chain", 8), h=1.0)
>>> e0 = quantum.ground_state(H, quantum.SpinHilbert(8)).energies[0]
>>> round(float(e0), 6)
-10.251662
"""

from .ed import EDResult, expectation, ground_state, local_energies, zz_correlations
from .hilbert import SpinHilbert
from .operators import PauliSum, heisenberg, j1j2, memory_estimate, transverse_field_ising

__all__ = ["SpinHilbert", "PauliSum", "transverse_field_ising", "heisenberg", "j1j2", "memory_estimate",
           "EDResult", "ground_state", "expectation", "zz_correlations", "local_energies"]
