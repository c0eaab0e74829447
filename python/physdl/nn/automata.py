"""Cellular automata of the chapter 4 column: elementary rules (90, 110, any number) and the
box-ball system whose solitons sort a sequence (book lines 1858-1960, eq. 4.46-4.47)."""

from __future__ import annotations

import numpy as np

from .. import _backend
from .._validate import check_array, check_int

__all__ = ["elementary_ca", "box_ball", "box_ball_state", "soliton_sizes", "box_ball_sort"]


def elementary_ca(rule: int, init, steps: int, periodic: bool = True) -> np.ndarray:
    """Evolve an elementary (radius-1, two-state) cellular automaton with Wolfram rule number ``rule``.

    Parameters
    ----------
    rule : int in [0, 255]
        New state of a cell with neighbourhood (left, centre, right) = bit ``4 l + 2 c + r`` of ``rule``.
    init : 1D array of 0/1
    steps : int
    periodic : bool
        Periodic boundary; otherwise cells outside are 0.

    Returns
    -------
    uint8 array (steps + 1, L), row t the state at time t

    Examples
    --------
    >>> elementary_ca(90, [0, 0, 1, 0, 0], 2)[2].tolist()  # rule 90: Sierpinski triangle (Fig. 4.9)
    [1, 0, 0, 0, 1]
    """
    rule = check_int(rule, "rule", minimum=0, maximum=255)
    steps = check_int(steps, "steps", minimum=0)
    s = check_array(init, "init", ndim=1, nonempty=True)
    if not np.isin(s, (0, 1)).all():
        raise ValueError("init must contain only 0 and 1")
    table = np.array([(rule >> k) & 1 for k in range(8)], dtype=np.uint8)
    out = np.empty((steps + 1, s.size), np.uint8)
    out[0] = s
    for t in range(steps):  # vectorised over the cells
        c = out[t].astype(np.intp)
        if periodic:
            left, right = np.roll(c, 1), np.roll(c, -1)
        else:
            left = np.concatenate(([0], c[:-1]))
            right = np.concatenate((c[1:], [0]))
        out[t + 1] = table[4 * left + 2 * c + right]
    return out


def box_ball(init, steps: int, backend: str | None = None) -> np.ndarray:
    """Evolve the box-ball system (eq. 4.47) for ``steps`` time steps.

    Parameters
    ----------
    init : 1D array of 0/1 (0 = empty box, 1 = ball)
    steps : int
    backend : {None, "cpp", "numba"}

    Returns
    -------
    uint8 array (steps + 1, L)

    Raises
    ------
    ValueError
        When balls would move past the right end of the lattice (make it longer).
    """
    steps = check_int(steps, "steps", minimum=0)
    s = check_array(init, "init", ndim=1, nonempty=True)
    if not np.isin(s, (0, 1)).all():
        raise ValueError("init must contain only 0 and 1")
    s = np.ascontiguousarray(s, dtype=np.uint8)
    backend = _backend.resolve(backend, ("cpp", "numba"))
    hist = np.empty((steps + 1, s.size), np.uint8)
    if backend == "numba":
        from . import _numba

        lost = _numba.box_ball_evolve(s, steps, hist)
    else:
        lost = _backend.module("cpp").nn.box_ball_evolve(s, steps, hist.reshape(-1))
    if lost:
        raise ValueError(f"init: {lost} ball moves ran past the right end of the lattice; add empty boxes")
    return hist


def box_ball_state(values, gap: int | None = None, length: int | None = None) -> np.ndarray:
    """Blocks of ``values[i]`` balls separated by ``gap`` empty boxes, then empty boxes up to ``length``.

    The default gap, ``max(values)``, keeps the blocks free solitons (book footnote 15: solitons that
    are not well separated suffer phase shifts and mix).
    """
    vals = [check_int(v, f"values[{i}]", minimum=1) for i, v in enumerate(values)]
    if not vals:
        raise ValueError("values must not be empty")
    gap = max(vals) if gap is None else check_int(gap, "gap", minimum=1)
    parts = []
    for v in vals:
        parts += [1] * v + [0] * gap
    if length is None:
        length = len(parts) + max(vals)
    length = check_int(length, "length", minimum=len(parts))
    return np.array(parts + [0] * (length - len(parts)), np.uint8)


def soliton_sizes(state) -> list[int]:
    """Lengths of the runs of balls, from the left (the 'number of balls separated by empty boxes')."""
    a = np.asarray(state)
    if a.ndim != 1 or a.dtype.kind not in "biu" or np.any((a != 0) & (a != 1)):
        raise ValueError(f"state must be a 1-d array of 0 (empty box) and 1 (ball), got {a.dtype} {a.shape}"
                         + ("" if a.ndim != 1 or a.dtype.kind not in "biuf" else f" with values {np.unique(a)[:5]}"))
    s = np.concatenate(([0], a.astype(np.int8), [0]))
    d = np.diff(s)
    return (np.flatnonzero(d == -1) - np.flatnonzero(d == 1)).tolist()


def box_ball_sort(values, steps: int | None = None, backend: str | None = None) -> list[int]:
    """Sort positive integers by letting box-ball solitons scatter (book lines 1926-1935).

    Examples
    --------
    >>> box_ball_sort([3, 4, 2, 1, 2, 3])
    [1, 2, 2, 3, 3, 4]
    """
    start = box_ball_state(values)
    if steps is None:  # a soliton of size v moves v boxes per step: the largest overtakes the rest in time
        steps = 2 * start.size
    steps = check_int(steps, "steps", minimum=0)
    # no block moves faster than the total number of balls per step
    init = box_ball_state(values, length=start.size + sum(values) * (steps + 1) + 1)
    return soliton_sizes(box_ball(init, steps, backend)[-1])
