"""Kernels called in pieces of bounded duration, their results joined as from a single call.

A C++ kernel (or a Numba twin) cannot see Ctrl-C while it runs.  The packages that call long
kernels over independent units (chains, samples, states, matrix rows) cut the units into pieces of
about :data:`physdl._interrupt.PIECE_SECONDS` through :func:`physdl._interrupt.run_in_pieces`, so a
SIGINT is acted on between two pieces.  The units must be independent (each chain addresses its own
random stream, each row depends on its own input only), which makes the joined result equal to one
call bit for bit whatever the cut.

The first piece of a call is sized from the rate measured in the last call of the same kernel on
the same sizes (``key``), so a call that fits in one piece is made once, with no copy.  OpenMP
kernels (``cpp=True``) are cut into multiples of the thread count, so that no thread idles, and
into pieces of ``CPP_SCALE * PIECE_SECONDS``: each parallel region costs a start and a barrier,
which on a busy machine can take milliseconds.
"""

from __future__ import annotations

import time

import numpy as np

from . import _interrupt

__all__ = ["run", "joined", "cpp_threads"]

_RATE: dict = {}  # key -> units per second measured in the last piece
CPP_SCALE = 5.0   # pieces of OpenMP kernels: CPP_SCALE * PIECE_SECONDS (100 ms; Ctrl-C still well within 1 s)


def cpp_threads() -> int:
    """OpenMP threads of the C++ core (the piece multiple of its parallel kernels); callers are on
    the cpp backend, so the core is there."""
    from . import _backend

    return max(1, int(_backend.module("cpp").max_threads()))


def run(key, total: int, step, multiple: int = 1, cpp: bool = False) -> None:
    """``step(start, count)`` over ``total`` units in pieces of bounded duration (see the module).

    ``cpp``: an OpenMP kernel of the C++ core, cut into multiples of its thread count and into pieces
    :data:`CPP_SCALE` times longer (a parallel region's start and end cost more on a busy machine).
    """
    total = int(total)
    target = _interrupt.PIECE_SECONDS
    if cpp:
        multiple = max(int(multiple), cpp_threads())
        target *= CPP_SCALE
    multiple = max(1, int(multiple))
    rate = _RATE.get(key)
    first = multiple if rate is None else max(multiple, int(rate * target))

    def timed(a, k):
        t = time.perf_counter()
        step(a, k)
        dt = time.perf_counter() - t
        if dt > 0.0:
            _RATE[key] = k / dt

    if len(_RATE) > 1024:
        _RATE.clear()
    if rate is not None and total <= first:
        # one piece covers the call: made directly (holding Ctrl-C around it would only cost time; an
        # interrupt during it is raised on return, before the caller has changed anything)
        timed(0, total)
        return
    _interrupt.run_in_pieces(timed, total, first=first, multiple=multiple, target=target)


def joined(key, total: int, call, multiple: int = 1, cpp: bool = False):
    """The arrays returned by ``call(start, count)`` for units ``[start, start + count)``, joined.

    ``call`` returns a tuple of arrays (or None entries) whose leading axis holds a fixed number of
    rows per unit; the pieces are copied into arrays allocated for all ``total`` units.  When the
    whole range is one piece, the arrays of that call are returned as they are.
    """
    total = int(total)
    if total <= 0:
        return call(0, 0)
    out = None

    def step(a, k):
        nonlocal out
        r = call(a, k)
        if k == total:
            out = r
            return
        if out is None:
            out = tuple(None if x is None else np.empty((x.shape[0] // k * total,) + x.shape[1:], x.dtype)
                        for x in r)
        for o, x in zip(out, r):
            if x is not None:
                per = x.shape[0] // k
                o[a * per:(a + k) * per] = x

    run(key, total, step, multiple, cpp)
    return out
