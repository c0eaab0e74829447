"""Convolutional generator and critic for Ising configurations (periodic padding: the lattice is a torus)."""

from __future__ import annotations

import numpy as np

from .._validate import check_int
from .. import nn

__all__ = ["ising_generator", "ising_critic", "to_spins"]


def ising_generator(L: int, latent_channels: int = 4, width: int = 16, depth: int = 3, seed: int = 1,
                    dtype="float32") -> nn.Sequential:
    """A fully convolutional generator ``z (latent_channels, L, L) -> x (1, L, L)`` with ``tanh`` output.

    ``depth`` 3x3 convolutions with periodic padding (``tanh`` between them): translation
    equivariant on the torus like the Ising model itself.  Map outputs to spins with :func:`to_spins`.
    """
    L = check_int(L, "L", minimum=2, maximum=4096)
    c = check_int(latent_channels, "latent_channels", minimum=1, maximum=1024)
    w = check_int(width, "width", minimum=1, maximum=4096)
    depth = check_int(depth, "depth", minimum=1, maximum=64)
    layers, cin = [], c
    for k in range(depth):
        cout = 1 if k == depth - 1 else w
        layers += [nn.Conv2d(cin, cout, 3, padding=1, padding_mode="periodic"), nn.Tanh()]
        cin = cout
    return nn.Sequential(layers, input_shape=(c, L, L), seed=seed, dtype=dtype)


def ising_critic(L: int, width: int = 16, seed: int = 2, spectral_norm: bool = False, dtype="float32") -> nn.Sequential:
    """A convolutional critic ``x (1, L, L) -> scalar``: two periodic 3x3 convolutions, 2x2 average
    pooling, a dense layer (all supported by the double backward of the gradient penalty)."""
    L = check_int(L, "L", minimum=2, maximum=4096)
    w = check_int(width, "width", minimum=1, maximum=4096)
    if L % 2:
        raise ValueError(f"L must be even (2x2 pooling), got {L}")
    return nn.Sequential([nn.Conv2d(1, w, 3, padding=1, padding_mode="periodic", spectral_norm=spectral_norm),
                          nn.Softplus(),
                          nn.Conv2d(w, w, 3, padding=1, padding_mode="periodic", spectral_norm=spectral_norm),
                          nn.Softplus(), nn.AvgPool2d(2), nn.Flatten(),
                          nn.Dense(w * (L // 2) ** 2, 1, spectral_norm=spectral_norm)],
                         input_shape=(1, L, L), seed=seed, dtype=dtype)


def to_spins(x) -> np.ndarray:
    """``sign(x)`` (0 -> +1) as int8, shape ``(n, L, L)`` from ``(n, 1, L, L)`` or ``(n, L, L)``."""
    x = np.asarray(x)
    if x.ndim == 4 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 3:
        raise ValueError(f"x must have shape (n, L, L) or (n, 1, L, L), got {x.shape}")
    return np.where(x >= 0, 1, -1).astype(np.int8)
