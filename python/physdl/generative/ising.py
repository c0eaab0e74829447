"""Convolutional generator and critic for Ising configurations (periodic padding: the lattice is a torus)."""

from __future__ import annotations

import numpy as np

from .._validate import check_array, check_int, check_seed
from .. import nn
from ..random import Generator
from .data import STREAMS

__all__ = ["ising_generator", "ising_critic", "to_spins", "sample_spins", "with_spin_flips"]


def ising_generator(L: int, latent_channels: int = 8, width: int = 16, depth: int = 2, seed: int = 1,
                    dtype="float32", latent_dim: int = 16) -> nn.Sequential:
    """A generator ``z (latent_dim, 1, 1) -> x (1, L, L)`` with ``tanh`` output in ``(-1, 1)``.

    The latent vector is projected densely onto the whole lattice (a transposed convolution with an
    ``L x L`` kernel: ``latent_channels`` feature maps, each site depending on every latent
    component), so global properties such as the sign of the magnetisation are set by ``z`` for the
    whole configuration at once; ``depth`` 3x3 convolutions with periodic padding (``tanh`` between
    them) then shape the local structure, translation equivariant on the torus like the Ising model.
    Read outputs as spins with :func:`sample_spins` (``+1`` with probability ``(1 + x) / 2``).
    """
    L = check_int(L, "L", minimum=2, maximum=4096)
    c = check_int(latent_channels, "latent_channels", minimum=1, maximum=1024)
    w = check_int(width, "width", minimum=1, maximum=4096)
    depth = check_int(depth, "depth", minimum=1, maximum=64)
    d = check_int(latent_dim, "latent_dim", minimum=1, maximum=4096)
    layers, cin = [nn.ConvTranspose2d(d, c, L), nn.Tanh()], c
    for k in range(depth):
        cout = 1 if k == depth - 1 else w
        layers += [nn.Conv2d(cin, cout, 3, padding=1, padding_mode="periodic"), nn.Tanh()]
        cin = cout
    return nn.Sequential(layers, input_shape=(d, 1, 1), seed=seed, dtype=dtype)


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


def _lattice_shape(x, name):
    if x.ndim == 4 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 3 or x.shape[0] < 1:
        raise ValueError(f"{name} must have shape (n, L, L) or (n, 1, L, L), got {x.shape}")
    return x


def to_spins(x) -> np.ndarray:
    """``sign(x)`` (0 -> +1) as int8, shape ``(n, L, L)`` from ``(n, 1, L, L)`` or ``(n, L, L)``.

    For generator outputs prefer :func:`sample_spins`: rounding every site to its more likely sign
    removes the output's own fluctuations and biases the energy low.
    """
    x = _lattice_shape(np.asarray(x), "x")
    return np.where(x >= 0, 1, -1).astype(np.int8)


def sample_spins(x, seed: int = 0) -> np.ndarray:
    """Spins drawn independently per site, ``+1`` with probability ``(1 + x) / 2`` (so ``<s> = x``).

    ``x`` in ``[-1, 1]`` (a ``tanh`` output), shape ``(n, L, L)`` or ``(n, 1, L, L)``; the uniforms
    come from Philox stream ``STREAMS["spins"]`` of ``seed``.  Returns int8 ``(n, L, L)``.
    """
    x = check_array(x, "x", dtype=np.float64)
    x = _lattice_shape(x, "x")
    if not (np.isfinite(x).all() and (np.abs(x) <= 1).all()):
        raise ValueError("x must hold finite values in [-1, 1]")
    u = Generator(check_seed(seed), stream=STREAMS["spins"]).uniform(x.shape)
    return np.where(2.0 * u < 1.0 + x, 1, -1).astype(np.int8)


def with_spin_flips(X) -> np.ndarray:
    """``X`` followed by ``-X``: training data made symmetric under the global flip ``s -> -s``
    (the Ising model's symmetry), so that both signs of the magnetisation are equally present."""
    X = np.asarray(X)
    if X.ndim < 2 or X.shape[0] < 1:
        raise ValueError(f"X must have shape (n, ...), got {X.shape}")
    return np.concatenate([X, -X])
