"""Hand SciPy's BLAS ``dgemm``/``sgemm``/``zgemm``/``cgemm`` to the tensornet core once.

Same scheme as :mod:`physdl.nn._blas` (whose capsule reader is reused): the addresses of the
Fortran-interface functions exported by ``scipy.linalg.cython_blas`` are passed to
``physdl._core.tensornet.set_blas``.  A C++ host calls ``physdl::tensornet::set_blas`` itself.
"""

from __future__ import annotations

from ..nn._blas import _capsule_address, _cython_blas

_state: dict[str, object] = {}


def blas_addresses() -> tuple[int, int, int, int]:
    """Addresses of SciPy's ``dgemm``, ``sgemm``, ``zgemm`` and ``cgemm``."""
    if _cython_blas is None:  # pragma: no cover
        raise ImportError("scipy.linalg.cython_blas could not be imported")
    capi = _cython_blas.__pyx_capi__
    return tuple(_capsule_address(capi[n]) for n in ("dgemm", "sgemm", "zgemm", "cgemm"))


def ensure_blas(core_tn) -> None:
    """Install SciPy's four gemm in the tensornet core (once)."""
    if _state.get("done"):
        return
    try:
        addrs = blas_addresses()
    except Exception as exc:  # pragma: no cover - depends on the SciPy build
        raise RuntimeError(
            "physdl.tensornet needs SciPy's BLAS (scipy.linalg.cython_blas) on the cpp backend and it "
            f"could not be read: {exc}. Reinstall scipy, or use backend='numba'."
        ) from exc
    core_tn.set_blas(*addrs)
    _state["done"] = True
