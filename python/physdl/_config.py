"""Build and run-time configuration: ``show_config()``, thread control, the CMake directory."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

from . import _backend
from ._validate import check_int, max_threads


def cmake_dir() -> Path:
    """Directory holding ``physdlConfig.cmake`` for ``find_package(physdl)`` from C++."""
    return Path(__file__).resolve().parent / "share" / "cmake" / "physdl"


def include_dir() -> Path:
    """Directory of the installed C++ headers (``#include "physdl/random/philox.hpp"``)."""
    return Path(__file__).resolve().parent / "include"


def get_include() -> str:
    """Directory of the C++ and C headers, for building a Cython or C extension (as ``numpy.get_include()``).

    A wheel keeps them beside the package; an editable install beside the compiled ``physdl._core``.
    The ``.pxd`` files (``cimport physdl.capi``) lie in the package itself: pass
    :func:`get_pxd_include` to Cython's ``include_path``.

    Examples
    --------
    >>> import os, physdl
    >>> os.path.exists(os.path.join(physdl.get_include(), "physdl", "capi", "capi.h"))
    True
    """
    here = include_dir()
    if (here / "physdl").is_dir():
        return str(here)
    try:
        from . import _core
    except ImportError:  # pragma: no cover - no compiled core
        return str(here)
    return str(Path(_core.__file__).parent / "include")


def get_pxd_include() -> str:
    """The folder above the ``physdl`` package: where Cython finds ``physdl/*.pxd``."""
    return str(Path(__file__).resolve().parent.parent)


def get_num_threads() -> int:
    """Threads used by the C++ core's OpenMP loops."""
    if _backend.backends()["cpp"].available:
        return int(_backend.module("cpp").max_threads())
    return 1


def set_num_threads(n: int) -> None:
    """Set the threads for the C++ core's OpenMP loops (results do not depend on it).

    ``n`` is bounded by :func:`physdl._validate.max_threads` (4 per CPU, at least 64): OpenMP
    cannot start arbitrarily many threads.
    """
    n = check_int(n, "n", minimum=1, maximum=max_threads())
    if _backend.backends()["cpp"].available:
        _backend.module("cpp").set_num_threads(n)


def _blas_info() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        threadpool_info = None
    if threadpool_info is not None:
        import numpy  # noqa: F401  (loads NumPy's BLAS)

        try:
            import scipy.linalg  # noqa: F401
        except ImportError:
            pass
        libs = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        if libs:
            return "; ".join(
                f"{i.get('internal_api')} {i.get('version')} ({Path(i.get('filepath', '')).name}, "
                f"{i.get('num_threads')} threads)"
                for i in libs
            )
    import numpy as np

    cfg = np.show_config(mode="dicts") if hasattr(np, "show_config") else {}
    blas = cfg.get("Build Dependencies", {}).get("blas", {}) if isinstance(cfg, dict) else {}
    return f"{blas.get('name', 'unknown')} {blas.get('version', '')}".strip()


def config() -> dict:
    """The configuration as a dict (what :func:`show_config` prints)."""
    import numpy as np

    from . import __version__

    info: dict = {
        "physdl": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "numpy": np.__version__,
        "default_backend": _backend.get_backend(),
        "backends": {k: str(v) for k, v in _backend.backends().items()},
        "blas": _blas_info(),
        "cmake_dir": str(cmake_dir()),
    }
    try:
        import numba

        info["numba"] = numba.__version__
    except ImportError:
        info["numba"] = None
    if _backend.backends()["cpp"].available:
        core = _backend.module("cpp")
        b = core.build_info()
        info["core"] = {
            "compiler": b["compiler"],
            "cxx_flags": b["cxx_flags"],
            "build_type": b["build_type"],
            "openmp": b["openmp"],
            "native": b["native"],
            "threads": core.max_threads(),
        }
    try:
        import importlib

        cuda = importlib.import_module("physdl._cuda")
        n, reason = cuda.device_count()
        info["cuda"] = {
            "runtime": cuda.runtime_version(),
            "architectures": cuda.architectures,
            "devices": [cuda.device_info(i) for i in range(n)],
            "note": reason,
        }
    except ImportError:
        info["cuda"] = None
    return info


def show_config(file=None) -> None:
    """Print version, compiler and flags, OpenMP threads, BLAS, backends and CUDA devices.

    Examples
    --------
    >>> import physdl
    >>> physdl.show_config()  # doctest: +ELLIPSIS
    physdl ...
    """
    file = file or sys.stdout
    c = config()
    p = lambda *a: print(*a, file=file)  # noqa: E731
    p(f"physdl {c['physdl']}  (python {c['python']}, numpy {c['numpy']}, numba {c['numba']})")
    p(f"platform: {c['platform']}")
    core = c.get("core")
    if core:
        p(f"core: {core['compiler']}, {core['build_type']}, flags: {core['cxx_flags']}")
        p(f"      OpenMP: {'yes' if core['openmp'] else 'no'}, threads: {core['threads']}"
          f" (OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}), -march=native: {core['native']}")
    p(f"BLAS: {c['blas']}")
    p(f"default backend: {c['default_backend']}")
    for line in c["backends"].values():
        p(f"  {line}")
    cuda = c.get("cuda")
    if cuda is None:
        p("CUDA: not built")
    else:
        p(f"CUDA: runtime {cuda['runtime']}, built for sm_{cuda['architectures']}")
        if not cuda["devices"]:
            p(f"  no device: {cuda['note']}")
        for d in cuda["devices"]:
            cc = ".".join(map(str, d["compute_capability"]))
            p(f"  [{d['index']}] {d['name']} (sm {cc}, {d['multiprocessors']} SMs, "
              f"{d['total_memory'] / 2**30:.1f} GiB)")
    p(f"CMake package: {c['cmake_dir']}")


_BLAS_CONTROLLER = []


def blas_limit(n: int | None):
    """Context manager: the BLAS library limited to ``n`` threads inside the block (threadpoolctl);
    a no-op for ``None``.

    Used by the drivers whose BLAS products are too small to share between threads (VMC's SR solve,
    DMRG's effective Hamiltonian, the RBM epoch): on the 2-core machine OpenBLAS's two threads made
    a VMC step 3x slower, and an RBM epoch 12x slower whenever another process used a core (the
    threads' hand-offs and spin-waits cost more than the work they share).  The kernels' own OpenMP
    threads (:func:`physdl.set_num_threads`) are not affected.
    """
    import contextlib

    if n is None:
        return contextlib.nullcontext()
    n = check_int(n, "blas_threads", minimum=1, maximum=4096)
    if not _BLAS_CONTROLLER:
        try:
            import scipy.linalg.blas  # noqa: F401  (load SciPy's BLAS, the one the core calls, first)
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - threadpoolctl is a dependency
            return contextlib.nullcontext()
        _BLAS_CONTROLLER.append(ThreadpoolController())
    return _BLAS_CONTROLLER[0].limit(limits=n, user_api="blas")
