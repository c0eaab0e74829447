"""Base of the Numba layer twins (the C++ interface is src/physdl/nn/layer.hpp)."""

from __future__ import annotations

import math

_JIT = dict(cache=True, fastmath=False)


def _prod(s):
    return int(math.prod(s))


class _L:
    """A layer: kind, settings, per-sample shapes, parameter count ``np``.

    Methods (as the C++ ``Layer``): ``forward(x, n, p) -> y``; ``backward(x, y, dy, n, p, g, need_dx) -> dx``;
    optional ``per_sample(x, y, dy, n, p, G, need_dx) -> dx`` (parameter gradient of sample s into
    ``G[s]``) and, for double backward, ``forward_tangent(x, y, xd, n, p) -> yd`` and
    ``backward_tangent(x, y, xd, dy, dyd, n, p, gd) -> (dx, dxd)``.
    """

    np = 0
    has_per_sample = False
    has_tangent = False

    def __init__(self, kind, s, ishape):
        self.kind, self.s, self.in_shape = kind, list(s), tuple(ishape)
