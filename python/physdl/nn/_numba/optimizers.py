"""Numba twins of the optimizers (src/physdl/nn/optimizer.cpp)."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .._kinds import OPTIMIZER_KINDS as _OK
from .layer import _JIT

SGD, ADAM = _OK["SGD"], _OK["Adam"]


# ------------------------------------------------------------------ optimizer
@nb.njit(**_JIT)
def optimizer_step(kind, t, lr, momentum, beta1, beta2, eps, wd, clip, nesterov, p, g, m, v):
    ss = 0.0
    for i in range(p.shape[0]):
        ss += float(g[i]) * float(g[i])
    norm = math.sqrt(ss)
    if clip > 0.0:
        coef = clip / (norm + 1e-6)
        if coef < 1.0:
            c = g.dtype.type(coef)
            for i in range(p.shape[0]):
                g[i] *= c
    if wd != 0.0:
        w = g.dtype.type(wd)
        for i in range(p.shape[0]):
            g[i] += w * p[i]
    lrT = g.dtype.type(lr)
    if kind == SGD:
        if momentum == 0.0:
            for i in range(p.shape[0]):
                p[i] -= lrT * g[i]
        else:
            mu = g.dtype.type(momentum)
            for i in range(p.shape[0]):
                m[i] = g[i] if t == 1 else mu * m[i] + g[i]
                p[i] -= lrT * (g[i] + mu * m[i]) if nesterov else lrT * m[i]
    else:
        b2 = g.dtype.type(beta2)
        omb1 = g.dtype.type(1.0 - beta1)
        omb2 = g.dtype.type(1.0 - beta2)
        bc1 = 1.0 - beta1 ** t
        bc2 = 1.0 - beta2 ** t
        step = g.dtype.type(lr / bc1)
        bc2s = g.dtype.type(math.sqrt(bc2))
        e = g.dtype.type(eps)
        for i in range(p.shape[0]):
            m[i] += omb1 * (g[i] - m[i])
            v[i] = b2 * v[i] + omb2 * g[i] * g[i]
            p[i] -= step * m[i] / (np.sqrt(v[i]) / bc2s + e)
    return norm


class _Optimizer:
    def __init__(self, kind, lr, momentum, beta1, beta2, eps, weight_decay, clip_norm, nesterov, nparams, dtype):
        self.h = (int(kind), float(lr), float(momentum), float(beta1), float(beta2), float(eps),
                  float(weight_decay), float(clip_norm), bool(nesterov))
        self.steps = 0
        self._m = np.zeros(nparams, dtype)
        self._v = np.zeros(nparams if kind == ADAM else 0, dtype)

    def set_lr(self, lr):
        h = list(self.h)
        h[1] = float(lr)
        self.h = tuple(h)

    def m(self):
        return self._m

    def v(self):
        return self._v

    def step(self, params, grads):
        self.steps += 1
        k, lr, mom, b1, b2, eps, wd, clip, nest = self.h
        return optimizer_step(k, self.steps, lr, mom, b1, b2, eps, wd, clip, nest, params, grads, self._m, self._v)


def optimizer_class(dtype):
    dt = np.dtype(dtype)

    def make(*args):
        return _Optimizer(*args, dt)

    return make


