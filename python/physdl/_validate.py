"""Input checks shared by the public API: each raises TypeError/ValueError naming the argument."""

from __future__ import annotations

import math
import numbers
import operator
import os
from collections.abc import Sequence

import numpy as np

UINT64_MAX = 2**64 - 1
MAX_ELEMENTS = 2**48  # no array of more elements is ever asked for (a bound before any size arithmetic)


def check_int(value, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """An integer (not bool, not float) within [minimum, maximum]."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    value = operator.index(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_bool(value, name: str) -> bool:
    """``value`` as a bool; only ``True``/``False`` (or NumPy booleans) are accepted."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {value!r}")


def check_seed(seed, name: str = "seed") -> int:
    """A seed: an integer in [0, 2**64)."""
    return check_int(seed, name, minimum=0, maximum=UINT64_MAX)


def check_float(value, name: str, *, positive: bool = False, nonnegative: bool = False) -> float:
    """A finite real number, optionally > 0 or >= 0."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    try:
        value = float(value)
    except OverflowError:
        raise ValueError(f"{name} must be a finite real number, got an integer too large for a float") from None
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    if nonnegative and value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def check_shape(shape, name: str = "shape") -> tuple[int, ...]:
    """An int or a sequence of non-negative ints."""
    if isinstance(shape, (numbers.Integral, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, Sequence):
        raise TypeError(f"{name} must be an int or a tuple of ints, got {type(shape).__name__}")
    out = tuple(check_int(s, f"{name}[{i}]", minimum=0, maximum=MAX_ELEMENTS) for i, s in enumerate(shape))
    if len(out) > 32:
        raise ValueError(f"{name} must have at most 32 dimensions, got {len(out)}")
    if math.prod(out) > MAX_ELEMENTS:
        raise ValueError(f"{name} {out} has {math.prod(out)} elements, more than the {MAX_ELEMENTS} allowed")
    return out


def check_choice(value, name: str, choices: Sequence[str]) -> str:
    """One of a fixed set of names; the error lists the valid ones."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


def check_array(
    a,
    name: str,
    *,
    dtype=None,
    ndim: int | None = None,
    shape: tuple[int | None, ...] | None = None,
    finite: bool = False,
    nonempty: bool = False,
) -> np.ndarray:
    """Convert to a C-contiguous array of ``dtype`` and check its dimensions and values."""
    if a is None:
        raise TypeError(f"{name} must be an array, got None")
    arr = np.asarray(a)
    if arr.dtype == object:
        raise TypeError(f"{name} must be a numeric array, got dtype object")
    if dtype is not None:
        target = np.dtype(dtype)
        if arr.dtype != target:
            if not np.can_cast(arr.dtype, target, casting="same_kind"):
                raise TypeError(f"{name} must have dtype {target} (or one castable to it), got {arr.dtype}")
            arr = arr.astype(target)
    arr = np.ascontiguousarray(arr)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if shape is not None:
        if arr.ndim != len(shape) or any(s is not None and s != d for s, d in zip(shape, arr.shape)):
            want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
            raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    if nonempty and arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if finite and arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite values (found NaN or inf)")
    return arr


def check_axis(axis, name: str, ndim: int) -> int:
    """An axis index in [-ndim, ndim), returned non-negative."""
    axis = check_int(axis, name)
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name} must be in [{-ndim}, {ndim}) for an array of {ndim} dimensions, got {axis}")
    return axis % ndim


def check_spins(a, name: str, *, shape: tuple[int, ...] | None = None, dtype=np.int8) -> np.ndarray:
    """An array of +-1 (integers or floats exactly equal to +-1), returned as ``dtype``."""
    arr = np.asarray(a)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold spins +1/-1, got dtype {arr.dtype}")
    if shape is not None and arr.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {arr.shape}")
    bad = (arr != 1) & (arr != -1)
    if np.any(bad):
        raise ValueError(f"{name} must hold only +1 and -1; found {np.asarray(arr[bad]).ravel()[0]!r}")
    return np.ascontiguousarray(arr, dtype=dtype)


def available_memory() -> int:
    """Bytes of memory available to a new allocation (MemAvailable, else physical memory)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return 1 << 34


class TooLarge(MemoryError, ValueError):
    """The requested object would not fit in the available memory."""


def check_memory(nbytes: int, what: str) -> None:
    """Raise :class:`TooLarge` (a MemoryError and ValueError) if ``nbytes`` exceeds what is available."""
    avail = available_memory()
    if nbytes > avail:
        raise TooLarge(f"{what} needs about {nbytes / 2**30:.3g} GiB but only {avail / 2**30:.3g} GiB "
                       f"of memory is available")


def max_threads() -> int:
    """The largest thread count accepted (``set_num_threads``): 4 per CPU, at least 64."""
    return max(64, 4 * (os.cpu_count() or 1))
