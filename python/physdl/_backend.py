"""Backend discovery and dispatch: ``cpp`` (physdl._core), ``numba`` and ``cuda`` (physdl._cuda).

Every kernel-calling public function takes ``backend=None|"cpp"|"numba"|"cuda"``; ``None`` means
the default set by :func:`set_backend` (initially ``"cpp"``, or ``"numba"`` when the compiled core
cannot be imported).
"""

from __future__ import annotations

import importlib
import warnings
from dataclasses import dataclass
from types import ModuleType

BACKENDS = ("cpp", "numba", "cuda")


@dataclass(frozen=True)
class BackendStatus:
    """Whether a backend can be used here, and why not when it cannot."""

    name: str
    available: bool
    reason: str = ""

    def __str__(self) -> str:
        return f"{self.name}: " + ("available" if self.available else f"unavailable ({self.reason})")


_status: dict[str, BackendStatus] = {}
_modules: dict[str, ModuleType] = {}
_state: dict[str, str] = {}


def _probe_cpp() -> BackendStatus:
    try:
        _modules["cpp"] = importlib.import_module("physdl._core")
    except ImportError as exc:
        return BackendStatus("cpp", False, f"physdl._core could not be imported: {exc}")
    return BackendStatus("cpp", True)


def _probe_numba() -> BackendStatus:
    try:
        import numba  # noqa: F401
    except ImportError as exc:
        return BackendStatus("numba", False, f"numba is not installed: {exc}")
    return BackendStatus("numba", True)


def _probe_cuda() -> BackendStatus:
    try:
        mod = importlib.import_module("physdl._cuda")
    except ImportError as exc:
        return BackendStatus(
            "cuda",
            False,
            "physdl was built without CUDA (physdl._cuda is missing: "
            f"{exc}); rebuild with `PHYSDL_CUDA=ON pip install .` on a machine with nvcc",
        )
    count, reason = mod.device_count()
    if count == 0:
        return BackendStatus("cuda", False, f"physdl._cuda is built but no device is usable: {reason}")
    _modules["cuda"] = mod
    return BackendStatus("cuda", True)


def _probe() -> None:
    if _status:
        return
    _status["cpp"] = _probe_cpp()
    _status["numba"] = _probe_numba()
    _status["cuda"] = _probe_cuda()
    if _status["cpp"].available:
        _state["default"] = "cpp"
    elif _status["numba"].available:
        warnings.warn(
            f"physdl: the compiled core is unavailable ({_status['cpp'].reason}); "
            "the Numba twins will serve every kernel (slower start-up, same results).",
            RuntimeWarning,
            stacklevel=3,
        )
        _state["default"] = "numba"
    else:
        raise ImportError("physdl needs either its compiled core or numba: " + _status["cpp"].reason)


def backends() -> dict[str, BackendStatus]:
    """Which of cpp / numba / cuda are available, and for each missing one, why.

    Examples
    --------
    >>> import physdl
    >>> physdl.backends()["numba"].available
    True
    """
    _probe()
    return dict(_status)


def get_backend() -> str:
    """The default backend used when a function is called with ``backend=None``."""
    _probe()
    return _state["default"]


def set_backend(name: str) -> None:
    """Set the default backend for every kernel-calling function (``"cpp"``, ``"numba"``, ``"cuda"``)."""
    if name is None:
        raise TypeError(f"name must be one of {BACKENDS}, got None")
    _state["default"] = resolve(name)


def resolve(backend: str | None, supported: tuple[str, ...] = BACKENDS) -> str:
    """Validate a ``backend=`` argument and return the backend name to use.

    Raises ``ValueError`` for an unknown name or one the function does not support, and
    ``RuntimeError`` (saying how to get it) for a backend that is not available here.
    """
    _probe()
    if backend is None:
        backend = _state["default"]
        if backend not in supported:
            backend = next(b for b in supported if _status[b].available)
    if not isinstance(backend, str):
        raise TypeError(f"backend must be None or one of {BACKENDS}, got {type(backend).__name__}")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be None or one of {BACKENDS}, got {backend!r}")
    if backend not in supported:
        raise ValueError(f"backend={backend!r} is not supported here; choose one of {supported}")
    status = _status[backend]
    if not status.available:
        hint = "; or use backend='cpp'" if backend == "cuda" else ""
        raise RuntimeError(f"backend={backend!r} is unavailable: {status.reason}{hint}")
    return backend


def module(name: str) -> ModuleType:
    """The compiled module behind backend ``name`` (``cpp`` or ``cuda``)."""
    _probe()
    if name not in _modules:
        raise RuntimeError(f"backend={name!r} is unavailable: {_status[name].reason}")
    return _modules[name]
