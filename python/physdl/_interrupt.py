"""Interrupt safety shared by long-running code: hold Ctrl-C while a group of updates lands.

Kernels poll for signals between sweeps and advance their counters together with the state (see
``physdl.lattice._numba`` and ``src/physdl/lattice/lattice.hpp``); Python code that changes several
attributes which must agree wraps them in :func:`deferred_sigint`, so that an interrupt arriving in
the middle is raised once the block has finished, never half way through it.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

__all__ = ["deferred_sigint"]


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
