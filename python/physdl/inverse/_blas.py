"""The compiled ``physdl._core.inverse`` module, with SciPy's BLAS handed to the C++ core first.

The C++ solvers use ``physdl::nn::gemm`` (src/physdl/nn/blas.hpp), which calls the Fortran ``dgemm``
whose address the host sets; the nn engine's reader of ``scipy.linalg.cython_blas`` installs it.
"""

from __future__ import annotations

from .. import _backend
from ..nn._blas import ensure_blas

_state: dict[str, object] = {}


def core_inverse():
    """``physdl._core.inverse``, after installing SciPy's dgemm/sgemm in the core (once)."""
    core = _backend.module("cpp")
    if not _state.get("blas"):
        if not core.nn.has_blas():
            ensure_blas(core.nn)
        _state["blas"] = True
    return core.inverse
