"""Numba twin of the box-ball kernel (src/physdl/nn/automata.cpp)."""

from __future__ import annotations

import numba as nb

from .layer import _JIT


# ------------------------------------------------------------------ box-ball system (eq. 4.47)
@nb.njit(**_JIT)
def box_ball_evolve(init, steps, history):
    L = init.shape[0]
    history[0, :] = init
    lost = 0
    for t in range(1, steps + 1):
        carrier = 0
        for i in range(L):
            if history[t - 1, i]:
                carrier += 1
                history[t, i] = 0
            elif carrier > 0:
                carrier -= 1
                history[t, i] = 1
            else:
                history[t, i] = 0
        lost += carrier
    return lost

