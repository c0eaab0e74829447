"""Input checks shared by the public API: each raises TypeError/ValueError naming the argument."""

from __future__ import annotations

import numbers
import operator
from collections.abc import Sequence

import numpy as np

UINT64_MAX = 2**64 - 1


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


def check_seed(seed, name: str = "seed") -> int:
    """A seed: an integer in [0, 2**64)."""
    return check_int(seed, name, minimum=0, maximum=UINT64_MAX)


def check_float(value, name: str, *, positive: bool = False, nonnegative: bool = False) -> float:
    """A finite real number, optionally > 0 or >= 0."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
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
    return tuple(check_int(s, f"{name}[{i}]", minimum=0) for i, s in enumerate(shape))


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
