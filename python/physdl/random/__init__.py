"""Philox4x32-10 random numbers, identical on every backend.

A variate is addressed by ``(seed, stream, counter)``: the same address gives the same 32-bit words
in C++, CUDA and Numba, whatever the thread count.  Uniforms and normals are derived from the words
by fixed formulas (see ``src/physdl/random/philox.hpp``):

* float32 uniform in [0, 1): ``(w >> 8) * 2**-24`` (one word each);
* float64 uniform in [0, 1): 53 bits of two words (two per block);
* standard normal: Box-Muller on one block, ``u1`` in (0, 1] from words 0-1, ``u2`` from words 2-3.

Examples
--------
>>> from physdl import random
>>> random.uniform(3, seed=7).shape
(3,)
>>> bool((random.uint32(8, seed=1) == random.uint32(8, seed=1, backend="numba")).all())
True
"""

from __future__ import annotations

import math

import numpy as np

from .. import _backend
from .._validate import check_float, check_int, check_seed, check_shape

__all__ = ["philox4x32", "uint32", "uniform", "normal", "Generator"]

_UINT32_MAX = 2**32 - 1


def _empty(shape, dtype) -> np.ndarray:
    from .._validate import check_memory

    check_memory(math.prod(shape) * np.dtype(dtype).itemsize, f"an array of shape {shape}")
    return np.empty(shape, dtype)


_PER_BLOCK = {"fill_uint32": 4, "fill_uniform_double": 2, "fill_uniform_float": 4, "fill_normal_double": 2}
_PIECES_FROM = 1 << 22  # draws of more values than this are filled in pieces of bounded duration


def _fill(kind: str, out: np.ndarray, seed: int, stream: int, offset: int, backend: str) -> np.ndarray:
    if out.size == 0:
        return out
    if backend == "numba":
        from . import _numba

        fn = getattr(_numba, kind)
        call = lambda off, buf: fn(np.uint64(seed), np.uint64(stream), np.uint64(off), buf)
    else:
        fn = getattr(_backend.module(backend).random, kind)
        call = lambda off, buf: fn(seed, stream, off, buf)
    flat = out.reshape(-1)
    if flat.size <= _PIECES_FROM:
        call(offset, flat)
        return out
    # value j comes from block offset + j // per (lane j % per), so pieces that start on a block
    # boundary give exactly the values of one call; between pieces (~20 ms each) Ctrl-C is seen
    from .._interrupt import run_in_pieces

    per = _PER_BLOCK[kind]
    run_in_pieces(lambda a, k: call(offset + a // per, flat[a:a + k]), flat.size, first=1 << 16, multiple=per)
    return out


def _address(seed, stream, offset, n_blocks: int = 0) -> tuple[int, int, int]:
    """Checked (seed, stream, offset); the n_blocks blocks from offset must not pass 2**64 (no wrap)."""
    seed, stream, offset = check_seed(seed), check_seed(stream, "stream"), check_seed(offset, "offset")
    if offset + n_blocks > 2**64:
        raise ValueError(f"offset {offset} + {n_blocks} blocks passes the end of the stream's 2**64 blocks "
                         f"(the counter would wrap and repeat numbers)")
    return seed, stream, offset


def _blocks(shape, per_block: int) -> int:
    return -(-math.prod(shape) // per_block)


def _dtype(dtype):
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)) or isinstance(dtype, bool):
        raise TypeError(f"dtype must be float32 or float64, got {dtype!r}")
    return dt


def philox4x32(counter, key, rounds: int = 10, backend: str | None = None) -> np.ndarray:
    """One Philox4x32 block: four uint32 words for a 4-word counter and a 2-word key.

    Parameters
    ----------
    counter : sequence of 4 ints in [0, 2**32)
    key : sequence of 2 ints in [0, 2**32)
    rounds : int, default 10
    backend : {None, "cpp", "numba"}

    Examples
    --------
    >>> [hex(w) for w in philox4x32([0, 0, 0, 0], [0, 0])]
    ['0x6627e8d5', '0xe169c58d', '0xbc57ac4c', '0x9b00dbd8']
    """
    backend = _backend.resolve(backend, ("cpp", "numba"))
    ctr = _words(counter, "counter", 4)
    k = _words(key, "key", 2)
    rounds = check_int(rounds, "rounds", minimum=1, maximum=16)
    if backend == "numba":
        from . import _numba

        out = _numba.philox4x32(*ctr, *k, rounds)
    else:
        out = _backend.module("cpp").random.philox4x32(ctr, k, rounds)
    return np.array([int(w) for w in out], dtype=np.uint32)


def _words(values, name: str, n: int) -> list[int]:
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or len(values) != n:
        raise ValueError(f"{name} must be a sequence of {n} integers in [0, 2**32)")
    return [check_int(v, f"{name}[{i}]", minimum=0, maximum=_UINT32_MAX) for i, v in enumerate(values)]


def uint32(shape, seed: int, stream: int = 0, offset: int = 0, backend: str | None = None) -> np.ndarray:
    """Raw Philox words: element j is lane ``j % 4`` of block ``offset + j // 4``.

    Parameters
    ----------
    shape : int or tuple of int
    seed, stream, offset : int in [0, 2**64)
    backend : {None, "cpp", "numba", "cuda"}
    """
    shape = check_shape(shape)
    seed, stream, offset = _address(seed, stream, offset, _blocks(shape, 4))
    backend = _backend.resolve(backend)
    return _fill("fill_uint32", _empty(shape, np.uint32), seed, stream, offset, backend)


def uniform(
    shape, seed: int, stream: int = 0, offset: int = 0, dtype=np.float64, backend: str | None = None
) -> np.ndarray:
    """Uniform numbers in [0, 1) of ``dtype`` float64 (two per block) or float32 (four per block).

    Examples
    --------
    >>> u = uniform((2, 3), seed=42)
    >>> u.shape, u.dtype, bool(((u >= 0) & (u < 1)).all())
    ((2, 3), dtype('float64'), True)
    """
    shape = check_shape(shape)
    dt = _dtype(dtype)
    seed, stream, offset = _address(seed, stream, offset, _blocks(shape, 2 if dt == np.float64 else 4))
    backend = _backend.resolve(backend)
    kind = "fill_uniform_double" if dt == np.float64 else "fill_uniform_float"
    return _fill(kind, _empty(shape, dt), seed, stream, offset, backend)


def normal(shape, seed: int, stream: int = 0, offset: int = 0, backend: str | None = None) -> np.ndarray:
    """Standard normal float64 numbers by Box-Muller (two per block).

    Examples
    --------
    >>> z = normal(100_000, seed=3)
    >>> bool(abs(z.mean()) < 0.02 and abs(z.std() - 1) < 0.02)
    True
    """
    shape = check_shape(shape)
    seed, stream, offset = _address(seed, stream, offset, _blocks(shape, 2))
    backend = _backend.resolve(backend)
    return _fill("fill_normal_double", _empty(shape, np.float64), seed, stream, offset, backend)


class Generator:
    """A stream of Philox numbers that remembers how many blocks it has used.

    Every draw starts at the next unused block, so a sequence of draws is reproducible from
    ``(seed, stream)`` alone; ``state`` / ``from_state`` save and restore the position.

    Examples
    --------
    >>> g = Generator(seed=1)
    >>> a = g.uniform(4); b = g.uniform(4)
    >>> bool((np.concatenate([a, b]) == uniform(8, seed=1)).all())
    True
    """

    def __init__(self, seed: int, stream: int = 0, backend: str | None = None):
        self.seed = check_seed(seed)
        self.stream = check_seed(stream, "stream")
        self.offset = 0
        _backend.resolve(backend)  # an unknown or unavailable backend is refused here, not at the first draw
        self.backend = backend

    def _draw(self, fill, shape, per_block: int, *args) -> np.ndarray:
        """Draw through `fill` at the next unused block; the position advances only if the draw succeeds."""
        start = self.offset
        out = fill(shape, self.seed, self.stream, start, *args, backend=self.backend)
        self.offset = start + _blocks(shape, per_block)
        return out

    def uint32(self, shape) -> np.ndarray:
        shape = check_shape(shape)
        return self._draw(uint32, shape, 4)

    def uniform(self, shape, dtype=np.float64) -> np.ndarray:
        shape = check_shape(shape)
        dt = _dtype(dtype)
        return self._draw(uniform, shape, 2 if dt == np.float64 else 4, dt)

    def normal(self, shape, loc: float = 0.0, scale: float = 1.0) -> np.ndarray:
        """Normal numbers ``loc + scale * z`` (``loc`` real, ``scale`` >= 0, both finite)."""
        shape = check_shape(shape)
        loc = check_float(loc, "loc")
        scale = check_float(scale, "scale", nonnegative=True)
        z = self._draw(normal, shape, 2)
        return loc + scale * z if (loc != 0.0 or scale != 1.0) else z

    def permutation(self, n: int) -> np.ndarray:
        """A random permutation of ``range(n)`` (argsort of uniforms: identical on every backend)."""
        n = check_int(n, "n", minimum=0, maximum=2**40)
        return np.argsort(self.uniform(n), kind="stable")

    def integers(self, high: int, shape) -> np.ndarray:
        """Integers in [0, high) (float64 uniform times high, floored)."""
        high = check_int(high, "high", minimum=1, maximum=2**53)
        shape = check_shape(shape)
        return np.floor(self.uniform(shape) * high).astype(np.int64)

    @property
    def state(self) -> dict:
        return {"seed": self.seed, "stream": self.stream, "offset": self.offset}

    @classmethod
    def from_state(cls, state: dict, backend: str | None = None) -> "Generator":
        if not isinstance(state, dict) or not {"seed", "stream", "offset"} <= set(state):
            raise ValueError("state must be a dict with 'seed', 'stream' and 'offset' (from Generator.state)")
        g = cls(state["seed"], state["stream"], backend)
        g.offset = check_seed(state["offset"], "state['offset']")
        return g


