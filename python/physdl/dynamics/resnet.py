"""ResNet as forward Euler (eq. 9.3-9.6) and the Hamiltonian-inspired stable network (eq. 9.10-9.11)."""

from __future__ import annotations

import numpy as np

from .._validate import check_array, check_float, check_int, check_seed
from ..random import streams as _streams

__all__ = ["ResNet", "HamiltonianInspiredNet"]


def _weights(n_mats, width, seed, k):
    from .. import random as prandom

    w = prandom.normal(n_mats * (width * width + width), seed=check_seed(seed), stream=_streams.stream("dynamics", k))
    w = w.reshape(n_mats, width * width + width)
    return w[:, : width * width].reshape(n_mats, width, width) / np.sqrt(width), 0.1 * w[:, width * width:]


class ResNet:
    """``x^(n+1) = x^(n) + dt tanh(W^(n) x^(n) + b^(n))`` (eq. 9.3 with the step of eq. 9.6).

    With ``tied=True`` every layer shares one ``W, b``: the network is then forward Euler for the
    autonomous flow ``dx/dt = tanh(W x + b)`` (eq. 9.5), and ``N`` layers of step ``T / N`` converge to the
    flow's solution at time ``T`` as ``N`` grows (first order).
    """

    def __init__(self, width: int, n_layers: int, *, dt: float = 0.1, tied: bool = False, seed: int = 0):
        self.width = check_int(width, "width", minimum=1, maximum=65536)
        self.n_layers = check_int(n_layers, "n_layers", minimum=1, maximum=10**6)
        self.dt = check_float(dt, "dt", positive=True)
        n = 1 if tied else self.n_layers
        if n * self.width * self.width > 2**28:
            raise ValueError("width^2 * n_layers too large for this dense ResNet")
        self.W, self.b = _weights(n, self.width, seed, 1)
        self.tied = bool(tied)

    def forward(self, x) -> np.ndarray:
        x = check_array(x, "x", dtype=np.float64, ndim=2, finite=True).copy()
        if x.shape[1] != self.width:
            raise ValueError(f"x must have shape (n, {self.width}), got {x.shape}")
        for n in range(self.n_layers):  # a loop over layers, each on the whole batch
            k = 0 if self.tied else n
            x += self.dt * np.tanh(x @ self.W[k].T + self.b[k])
        return x


class HamiltonianInspiredNet:
    """``y' = y + h sigma(K z + b)``, ``z' = z - h sigma(K^T y' + b)``: eq. 9.10-9.11 discretised with the
    second update reading the new ``y`` (each half is a shear, so every layer preserves phase-space
    volume: the forward propagation of perturbations neither explodes nor collapses on average).
    ``sigma = tanh``; inputs (n, 2 width) split into ``y`` and ``z``."""

    def __init__(self, width: int, n_layers: int, *, h: float = 0.1, seed: int = 0):
        self.width = check_int(width, "width", minimum=1, maximum=65536)
        self.n_layers = check_int(n_layers, "n_layers", minimum=1, maximum=10**6)
        self.h = check_float(h, "h", positive=True)
        if self.n_layers * self.width * self.width > 2**28:
            raise ValueError("width^2 * n_layers too large")
        self.K, self.b = _weights(self.n_layers, self.width, seed, 2)

    def forward(self, x) -> np.ndarray:
        x = check_array(x, "x", dtype=np.float64, ndim=2, finite=True)
        if x.shape[1] != 2 * self.width:
            raise ValueError(f"x must have shape (n, {2 * self.width}), got {x.shape}")
        y, z = x[:, : self.width].copy(), x[:, self.width:].copy()
        for n in range(self.n_layers):
            y += self.h * np.tanh(z @ self.K[n].T + self.b[n])
            z -= self.h * np.tanh(y @ self.K[n] + self.b[n])
        return np.concatenate([y, z], axis=1)
