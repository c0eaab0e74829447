"""Hand SciPy's BLAS ``dgemm``/``sgemm`` to the C++ core once, at import time.

``scipy.linalg.cython_blas`` exports Fortran-interface function pointers as PyCapsules; their
addresses are passed to ``physdl._core.nn.set_blas``.  A C++ host application calls
``physdl::nn::set_blas`` with its own BLAS's ``dgemm_``/``sgemm_`` instead.
"""

from __future__ import annotations

import ctypes

try:  # loaded eagerly so that threadpoolctl limits set after `import physdl.nn` reach this BLAS
    from scipy.linalg import cython_blas as _cython_blas
except ImportError:  # pragma: no cover
    _cython_blas = None

_state: dict[str, object] = {}


def _capsule_address(capsule) -> int:
    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype = ctypes.c_char_p
    get_name.argtypes = [ctypes.py_object]
    get_ptr = ctypes.pythonapi.PyCapsule_GetPointer
    get_ptr.restype = ctypes.c_void_p
    get_ptr.argtypes = [ctypes.py_object, ctypes.c_char_p]
    addr = get_ptr(capsule, get_name(capsule))
    if not addr:
        raise RuntimeError("could not read the BLAS function pointer from SciPy's capsule")
    return int(addr)


def blas_addresses() -> tuple[int, int]:
    """Addresses of SciPy's Fortran-interface ``dgemm`` and ``sgemm``."""
    if _cython_blas is None:
        raise ImportError("scipy.linalg.cython_blas could not be imported")
    capi = _cython_blas.__pyx_capi__
    return _capsule_address(capi["dgemm"]), _capsule_address(capi["sgemm"])


def ensure_blas(core_nn) -> None:
    """Install SciPy's gemm in the C++ core (once); raise a clear error when impossible."""
    if _state.get("done"):
        return
    try:
        d, s = blas_addresses()
    except Exception as exc:  # pragma: no cover - depends on the SciPy build
        raise RuntimeError(
            "physdl.nn needs SciPy's BLAS (scipy.linalg.cython_blas) for matrix products on the cpp "
            f"backend, and it could not be read: {exc}. Reinstall scipy, or use backend='numba'."
        ) from exc
    core_nn.set_blas(d, s)
    _state["done"] = True
