"""Interrupt safety shared by long-running code: hold Ctrl-C while a group of updates lands.

Kernels poll for signals between sweeps and advance their counters together with the state (see
``physdl.lattice._numba`` and ``src/physdl/lattice/lattice.hpp``); Python code that changes several
attributes which must agree wraps them in :func:`deferred_sigint`, so that an interrupt arriving in
the middle is raised once the block has finished, never half way through it.
"""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager

__all__ = ["deferred_sigint", "run_in_pieces", "PIECE_SECONDS"]

PIECE_SECONDS = 0.02  # target duration of one kernel call made by run_in_pieces


@contextmanager
def deferred_sigint():
    """Run the block with SIGINT held back; a SIGINT received meanwhile is raised after it.

    Only the main thread receives Python signal handlers, so elsewhere this does nothing.

    Examples
    --------
    >>> with deferred_sigint():
    ...     x = 1
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.getsignal(signal.SIGINT)
    if not callable(old):  # SIG_IGN / SIG_DFL / None: nothing Python-level would run
        yield
        return
    got = []
    signal.signal(signal.SIGINT, lambda signum, frame: got.append((signum, frame)))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)
        if got:
            old(*got[0])


def run_in_pieces(step, total: int, first: int = 1, multiple: int = 1, target: float | None = None) -> None:
    """Cover ``total`` units of work by calls ``step(start, count)`` of bounded duration.

    Long kernels (Numba twins, device launches) cannot see Ctrl-C while they run; run through this
    helper, each call does about ``target`` seconds of work (``PIECE_SECONDS``, 20 ms), so a SIGINT
    is acted on between two calls, well within a second.  The piece size adapts to the measured
    time per unit (starting at ``first`` units), and is always a multiple of ``multiple`` (except
    for the last piece).  ``step`` must advance the caller's state and counters together, so that
    an interrupt leaves them as after a whole number of pieces; the kernels' results must not depend
    on how the work is cut (they take the absolute sweep/step number), which keeps resuming bit for
    bit equal to an uninterrupted run.  Each call runs under :func:`deferred_sigint`.

    Examples
    --------
    >>> seen = []
    >>> run_in_pieces(lambda start, count: seen.append((start, count)), 10, first=4, multiple=2)
    >>> sum(c for _, c in seen), seen[0]
    (10, (0, 4))
    """
    total, multiple = int(total), max(1, int(multiple))
    target = PIECE_SECONDS if target is None else float(target)
    k = max(multiple, (max(1, int(first)) // multiple) * multiple)
    start = 0
    while start < total:
        count = min(k, total - start)
        t = time.perf_counter()
        with deferred_sigint():
            step(start, count)
        dt = time.perf_counter() - t
        start += count
        # next piece: aim at `target` seconds, growing at most 4x at a time (the first calls may
        # include compilation or a cold cache and so under-estimate the rate)
        rate = count / max(dt, 1e-6)
        k = int(min(4 * count, max(1, rate * target)))
        k = max(multiple, (k // multiple) * multiple)
