"""Convolutional generator and critic for Ising configurations (periodic padding: the lattice is a torus)."""

from __future__ import annotations

import numpy as np

from .._validate import check_array, check_float, check_int, check_seed
from .. import nn
from ..random import Generator
from .data import STREAMS

__all__ = ["ising_generator", "ising_critic", "ising_wgan", "to_spins", "sample_spins", "with_spin_flips"]


def ising_generator(L: int, noise_channels: int = 4, global_channels: int = 0, width: int = 16, depth: int = 3,
                    seed: int = 1, dtype="float32") -> nn.Sequential:
    """A fully convolutional generator ``z (C, L, L) -> x (1, L, L)``, ``tanh`` output in ``(-1, 1)``.

    ``depth`` 3x3 convolutions with periodic padding (``tanh`` after each) on ``C = noise_channels +
    global_channels`` input channels: translation equivariant on the torus like the Ising model, each
    site's output a function of the noise in its ``(2 depth + 1)``-wide neighbourhood, which suffices
    where correlations are short (above ``T_c``).  The last ``global_channels`` inputs are meant to be
    constant over the lattice (train with ``WGAN(..., global_latent=global_channels)``): they set
    global properties such as the sign of the magnetisation for the whole configuration at once.
    Read outputs as spins with :func:`sample_spins` (``+1`` with probability ``(1 + x) / 2``).
    """
    L = check_int(L, "L", minimum=2, maximum=4096)
    c = check_int(noise_channels, "noise_channels", minimum=1, maximum=1024)
    cg = check_int(global_channels, "global_channels", minimum=0, maximum=1024)
    w = check_int(width, "width", minimum=1, maximum=4096)
    depth = check_int(depth, "depth", minimum=1, maximum=64)
    layers, cin = [], c + cg
    for k in range(depth):
        cout = 1 if k == depth - 1 else w
        layers += [nn.Conv2d(cin, cout, 3, padding=1, padding_mode="periodic"), nn.Tanh()]
        cin = cout
    return nn.Sequential(layers, input_shape=(c + cg, L, L), seed=seed, dtype=dtype)


def ising_critic(L: int, width: int = 16, seed: int = 2, spectral_norm: bool = False, dtype="float32",
                 global_pool: bool = False, init_scale: float = 1.0) -> nn.Sequential:
    """A convolutional critic ``x (1, L, L) -> scalar``: two periodic 3x3 convolutions (``softplus``),
    average pooling, a dense layer (all supported by the double backward of the gradient penalty).

    The pooling is 2x2 (``L`` must be even), or with ``global_pool`` over the whole lattice: the
    critic then sees the lattice averages of ``width`` local features of 5x5 patches (translation
    invariant, like the energy per site, itself such an average of nearest-neighbour products).
    ``init_scale`` multiplies the convolutions' initial weights (PyTorch's default ``init_scale=1``):
    a few times larger puts the ``softplus`` features of ``+-1`` spins in their curved range from the
    start, where they tell aligned from opposite neighbours (the energy); with ``init_scale=1`` such
    a critic needs several times more steps to resolve an energy difference.
    """
    L = check_int(L, "L", minimum=2, maximum=4096)
    w = check_int(width, "width", minimum=1, maximum=4096)
    if not isinstance(global_pool, (bool, np.bool_)):
        raise TypeError(f"global_pool must be a bool, got {type(global_pool).__name__}")
    if L % 2 and not global_pool:
        raise ValueError(f"L must be even (2x2 pooling), got {L}")
    init_scale = check_float(init_scale, "init_scale", positive=True)
    pool, n_out = (nn.AvgPool2d(L), w) if global_pool else (nn.AvgPool2d(2), w * (L // 2) ** 2)
    D = nn.Sequential([nn.Conv2d(1, w, 3, padding=1, padding_mode="periodic", spectral_norm=spectral_norm),
                       nn.Softplus(),
                       nn.Conv2d(w, w, 3, padding=1, padding_mode="periodic", spectral_norm=spectral_norm),
                       nn.Softplus(), pool, nn.Flatten(),
                       nn.Dense(n_out, 1, spectral_norm=spectral_norm)],
                      input_shape=(1, L, L), seed=seed, dtype=dtype)
    if init_scale != 1.0:
        for key, v in D.parameters().items():
            if key in ("0.weight", "2.weight"):
                v *= init_scale
    return D


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


def ising_wgan(L: int, noise_channels: int = 4, global_channels: int = 0, width: int = 8, critic_width: int = 8,
               depth: int = 3, global_pool: bool = True, critic_scale: float = 5.0, penalty: float = 10.0,
               penalty_target: float = 0.0, n_critic: int = 3, lr: float = 3e-3, g_lr: float = 1e-3,
               beta1: float = 0.0, ema: float = 0.99, binary_output: bool = True, binary_gradient: str | None = None,
               flip_fraction: float | None = None, seed: int = 0, dtype="float32"):
    """A WGAN-GP for ``L x L`` Ising configurations, built for the model's physics.

    * generator :func:`ising_generator` (periodic convolutions on per-site noise, ``global_channels``
      lattice-constant latent channels), **odd** (``odd_generator``: biases held at zero), so the
      generated distribution has the spin-flip symmetry of the Hamiltonian exactly;
    * its outputs are read as mean spins; with ``binary_output`` the critic sees spins drawn from
      them, as the data are ``+-1`` and as they are evaluated (:func:`sample_spins`), and the
      generator gets the unbiased gradient through the drawn spins (``binary_gradient="exact"``, the
      default with ``binary_output``: the critic's change when a site flips, for this critic
      evaluated locally, several distant sites flipped per forward pass, on ``flip_fraction`` = 0.15
      of them per sample by default; see :class:`WGAN`) or ``"straight_through"``; without
      ``binary_output`` the critic sees the outputs ``x``;
    * critic :func:`ising_critic`, with ``global_pool`` translation invariant (lattice averages of
      local features, like the energy per site), its convolutions started ``critic_scale`` times
      larger than by default so that it resolves the energy from the first steps;
    * the zero-centred gradient penalty (``penalty_target=0``), and the generator's parameters
      averaged (``ema=0.99``; :meth:`WGAN.sample` draws from the average).

    Measured at ``L = 16``, ``T = 3`` (2000 Monte Carlo configurations, 1000 steps of batch 64, constant
    learning rates): with these defaults the generated energy per site lies within 2 standard errors
    of Monte Carlo's for each of three seeds (0.002-0.006 below it, alike at 2000 steps; ``|m|`` 8-12%
    low, the critic seeing lattice averages of 5x5 features only); with the straight-through
    gradient the same game drifts away for some seeds, and with the penalty's target 1 it circles
    the data's energy by about +-0.03 per site without settling.

    The optimisers are ``Adam(lr, betas=(beta1, 0.9))`` for the critic and ``Adam(g_lr, betas=(beta1,
    0.9))`` for the generator (no momentum by default: with it the adversarial game oscillates
    more).

    Returns
    -------
    physdl.generative.WGAN
    """
    from .gan import WGAN

    G = ising_generator(L, noise_channels=noise_channels, global_channels=global_channels, width=width, depth=depth,
                        seed=check_seed(seed) + 1, dtype=dtype)
    D = ising_critic(L, width=critic_width, seed=check_seed(seed) + 2, global_pool=global_pool, dtype=dtype,
                     init_scale=critic_scale)
    lr = check_float(lr, "lr", positive=True)
    g_lr = check_float(g_lr, "g_lr", positive=True)
    beta1 = check_float(beta1, "beta1", nonnegative=True)
    if binary_gradient is None:
        binary_gradient = "exact" if binary_output is True else "straight_through"
    if flip_fraction is None:
        flip_fraction = 0.15 if binary_gradient == "exact" else 1.0
    return WGAN(G, D, penalty=penalty, penalty_target=penalty_target, n_critic=n_critic,
                g_optimizer=nn.Adam(g_lr, (beta1, 0.9)), d_optimizer=nn.Adam(lr, (beta1, 0.9)), odd_generator=True,
                binary_output=binary_output, binary_gradient=binary_gradient, flip_fraction=flip_fraction,
                global_latent=global_channels, ema=ema, seed=seed)
