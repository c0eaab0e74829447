"""The compiled ``physdl._core.inverse`` module, with SciPy's BLAS handed to the C++ core first.

The C++ solvers use ``physdl::nn::gemm`` (src/physdl/nn/blas.hpp), which calls the Fortran ``dgemm``
whose address the host sets.  Here that address is read from ``scipy.linalg.cython_blas`` (the same
capsules the nn engine uses), without importing the Python nn package.
"""

from __future__ import annotations

import ctypes

from .. import _backend

_state: dict[str, object] = {}


def _capsule_address(capsule) -> int:
    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype = ctypes.c_char_p
    get_name.argtypes = [ctypes.py_object]
    get_ptr = ctypes.pythonapi.PyCapsule_GetPointer
    get_ptr.restype = ctypes.c_void_p
    get_ptr.argtypes = [ctypes.py_object, ctypes.c_char_p]
    return int(get_ptr(capsule, get_name(capsule)) or 0)


def core_inverse():
    """``physdl._core.inverse``, after installing SciPy's dgemm/sgemm in the core (once)."""
    core = _backend.module("cpp")
    if not _state.get("blas"):
        if not core.nn.has_blas():
            try:
                from scipy.linalg import cython_blas

                capi = cython_blas.__pyx_capi__
                d, s = _capsule_address(capi["dgemm"]), _capsule_address(capi["sgemm"])
            except Exception as exc:  # pragma: no cover - depends on the SciPy build
                raise RuntimeError(
                    "physdl.inverse needs SciPy's BLAS (scipy.linalg.cython_blas) for the cpp backend and could "
                    f"not read it: {exc}. Reinstall scipy, or use backend='numba'.") from exc
            if d and s:
                core.nn.set_blas(d, s)
        _state["blas"] = True
    return core.inverse
