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
