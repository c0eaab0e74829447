"""The reversible network (RevNet, eq. 9.7-9.9): each layer is invertible in closed form."""

from __future__ import annotations

import numpy as np

from .._validate import check_array, check_int, check_seed
from ..random import streams as _streams

__all__ = ["RevNet"]


class RevNet:
    """``x1' = x1 + tanh(W_f x2 + b_f)``, ``x2' = x2 + tanh(W_g x1' + b_g)`` per layer (eq. 9.7-9.8).

    The inverse (eq. 9.9) runs the layers backwards: ``x2 = x2' - tanh(W_g x1' + b_g)``,
    ``x1 = x1' - tanh(W_f x2 + b_f)``, so the activations never need to be stored: they are recomputed
    from the output.  Inputs are (n, 2 * width), split in halves.

    Parameters
    ----------
    width : int
        Size of each half.
    n_layers : int
    scale : float
        Standard deviation of the weights is ``scale / sqrt(width)``.
    seed : int
    """

    def __init__(self, width: int, n_layers: int, *, scale: float = 1.0, seed: int = 0):
        self.width = check_int(width, "width", minimum=1, maximum=65536)
        self.n_layers = check_int(n_layers, "n_layers", minimum=1, maximum=100_000)
        if self.width * self.width * self.n_layers * 2 > 2**28:
            raise ValueError("width^2 * n_layers too large for this dense RevNet")
        from .. import random as prandom

        w = prandom.normal(2 * self.n_layers * (self.width * self.width + self.width), seed=check_seed(seed),
                           stream=_streams.stream("dynamics", 0))
        k = self.width * self.width
        w = w.reshape(2 * self.n_layers, k + self.width)
        self.W = (w[:, :k].reshape(2 * self.n_layers, self.width, self.width) * (float(scale) / np.sqrt(self.width)))
        self.b = 0.1 * w[:, k:]

    def _split(self, x):
        x = check_array(x, "x", dtype=np.float64, ndim=2, finite=True)
        if x.shape[1] != 2 * self.width:
            raise ValueError(f"x must have shape (n, {2 * self.width}), got {x.shape}")
        return x[:, : self.width].copy(), x[:, self.width:].copy()

    def forward(self, x) -> np.ndarray:
        """The network's output for inputs ``x`` (n, 2 width)."""
        x1, x2 = self._split(x)
        for n in range(self.n_layers):  # loop over layers; each layer acts on the whole batch
            x1 += np.tanh(x2 @ self.W[2 * n].T + self.b[2 * n])
            x2 += np.tanh(x1 @ self.W[2 * n + 1].T + self.b[2 * n + 1])
        return np.concatenate([x1, x2], axis=1)

    def inverse(self, y) -> np.ndarray:
        """The input that gives output ``y`` (eq. 9.9)."""
        y1, y2 = self._split(y)
        for n in range(self.n_layers - 1, -1, -1):
            y2 -= np.tanh(y1 @ self.W[2 * n + 1].T + self.b[2 * n + 1])
            y1 -= np.tanh(y2 @ self.W[2 * n].T + self.b[2 * n])
        return np.concatenate([y1, y2], axis=1)


def _revnet_backward(net: RevNet, y, dY):
    """Gradient of ``sum(dY * forward(x))`` w.r.t. every W, b and the input, from the OUTPUT ``y`` only:
    the activations of each layer are recomputed by running the inverse (the memory-free backward of
    the reversible network), so nothing but the output is kept between the passes."""
    y1, y2 = net._split(y)
    g1, g2 = net._split(dY)
    gW = np.zeros_like(net.W)
    gb = np.zeros_like(net.b)
    for n in range(net.n_layers - 1, -1, -1):
        Wf, bf, Wg, bg = net.W[2 * n], net.b[2 * n], net.W[2 * n + 1], net.b[2 * n + 1]
        # undo x2' = x2 + tanh(Wg x1' + bg): x1' = y1 is known
        tg = np.tanh(y1 @ Wg.T + bg)
        x2 = y2 - tg
        dg = g2 * (1.0 - tg * tg)            # through tanh
        gW[2 * n + 1] = dg.T @ y1
        gb[2 * n + 1] = dg.sum(axis=0)
        g1 = g1 + dg @ Wg                    # x1' feeds the g branch
        # undo x1' = x1 + tanh(Wf x2 + bf)
        tf = np.tanh(x2 @ Wf.T + bf)
        x1 = y1 - tf
        df = g1 * (1.0 - tf * tf)
        gW[2 * n] = df.T @ x2
        gb[2 * n] = df.sum(axis=0)
        g2 = g2 + df @ Wf
        y1, y2 = x1, x2
    return gW, gb, np.concatenate([g1, g2], axis=1), np.concatenate([y1, y2], axis=1)


def backward(self, y, dY):
    """Memory-free backward pass (book sec. 9.1 on RevNet): from the output ``y = forward(x)`` and an
    output gradient ``dY``, the gradients ``(dW, db, dx)`` of ``sum(dY * y)``; the activations are
    recomputed layer by layer by inversion instead of being stored.  Also returns the recovered input."""
    y = check_array(y, "y", dtype=np.float64, ndim=2, finite=True)
    dY = check_array(dY, "dY", dtype=np.float64, shape=y.shape, finite=True)
    return _revnet_backward(self, y, dY)


RevNet.backward = backward
