"""physdl: the book *Deep Learning and Physics* (Tanaka, Tomiya, Hashimoto) as a library.

Hot loops are C++ kernels (``physdl._core``) and CUDA kernels (``physdl._cuda``), each with a Numba
twin; the public API is this Python package.  See ``physdl.backends()`` and ``physdl.show_config()``.
"""

from __future__ import annotations

from importlib import metadata as _metadata

from ._backend import backends, get_backend, set_backend
from ._config import get_num_threads, set_num_threads, show_config
from ._config import get_include, get_pxd_include
from . import random

try:
    __version__ = _metadata.version("physdl")
except _metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

#: Subpackages imported on first attribute access (``physdl.lattice`` after ``import physdl``), so that
#: ``import physdl`` stays cheap and does not load every application.
_SUBPACKAGES = frozenset({
    "boltzmann", "distributed", "dynamics", "generative", "geometry", "holography", "hopfield", "info",
    "inverse", "io", "lattice", "nn", "phases", "quantum", "sampling", "slmc", "stats", "tensornet", "tour",
})


def __getattr__(name: str):
    if name in _SUBPACKAGES:
        import importlib

        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'physdl' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _SUBPACKAGES)


__all__ = [
    "__version__",
    "backends",
    "get_backend",
    "set_backend",
    "show_config",
    "get_num_threads",
    "set_num_threads",
    "random",
    "get_include",
    "get_pxd_include",
]
