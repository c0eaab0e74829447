"""Tensor networks (book ch. 11.2, eq. 11.8-11.13): contraction engine, MPS, MPO and DMRG.

* :func:`contract` / :class:`Expression`: einsum-style networks (letters or any hashable labels),
  the path from opt_einsum or cotengra, every pairwise step executed by the C++ core in one call
  (permute + BLAS ``?gemm``, batched products for shared and hyper indices), float32/64 and
  complex64/128; :meth:`Expression.batched` contracts one structure for many inputs in one call.
* :class:`MPS`: canonical forms, norms, overlaps, expectation values, SVD compression, amplitudes.
* :func:`ising_mpo`, :func:`heisenberg_mpo` and :func:`dmrg` (two-site) for spin chains.
* :func:`rbm_network`: the RBM -> tensor network mapping of eq. 11.8-11.13.

Examples
--------
>>> import numpy as np
>>> from physdl import tensornet as tn
>>> A = np.random.default_rng(0).normal(size=(3, 3))
>>> bool(np.isclose(float(tn.contract("ii->", A)), np.trace(A)))
True
"""

from .contract import Batched, Expression, Sliced, contract, contract_expression, parse_subscripts

__all__ = ["contract", "contract_expression", "Expression", "Batched", "Sliced", "parse_subscripts"]
from .dmrg import DMRGResult, dmrg
from .mpo import MPO, PAULI, heisenberg_mpo, ising_mpo, pauli_mpo
from .mps import MPS, TruncationInfo
from .rbm import rbm_amplitude_formula, rbm_amplitudes, rbm_mps, rbm_network

__all__ += ["MPS", "TruncationInfo", "MPO", "PAULI", "ising_mpo", "heisenberg_mpo", "dmrg", "DMRGResult",
            "rbm_network", "rbm_amplitudes", "rbm_amplitude_formula", "rbm_mps", "pauli_mpo"]
