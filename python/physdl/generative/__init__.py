"""Generative adversarial networks on the fused nn engine (book ch. 6.3-6.4).

Trainers over two :class:`physdl.nn.Sequential` networks, a generator ``G: z -> x`` and a
discriminator (critic) ``D: x -> scalar``:

* :class:`GAN` -- the original GAN with ``D`` a logit: discriminator objective
  ``V_D = <log(1+e^{-D(x)})>_P + <log(1+e^{D(G(z))})>_z`` (eq. 6.35); generator objective the
  minimax ``V_G = -V_D`` (eq. 6.36) or the non-saturating ``<log(1+e^{-D(G(z))})>_z`` (eq. 6.48).
* :class:`EBGAN` -- the energy-based GAN with margin ``m`` (eq. 6.49-6.50).
* :class:`WGAN` -- the Wasserstein GAN (eq. 6.87-6.91) with weight clipping or the gradient
  penalty, the penalty's parameter gradient computed exactly by the engine's double backward.

Every step is a few engine calls: the discriminator's gradients from one ``backward`` on the
concatenated real and fake batch, then the generator's from ``backward(Z, dY=dV_G/dx)`` with
``dV_G/dx`` the discriminator's input gradient at ``x = G(z)``.  No Python loop runs over samples
or layers.

Data: :func:`ring_of_gaussians` (2D mixture of Gaussians on a circle), :func:`mode_coverage`;
:func:`ising_configurations` (Monte Carlo data from :mod:`physdl.lattice`), :func:`ising_observables`.

Examples
--------
>>> from physdl import nn, generative
>>> G = nn.Sequential([nn.Dense(2, 16), nn.Tanh(), nn.Dense(16, 2)], seed=1, dtype="float64")
>>> D = nn.Sequential([nn.Dense(2, 16), nn.Tanh(), nn.Dense(16, 1)], seed=2, dtype="float64")
>>> gan = generative.GAN(G, D, loss="non_saturating", seed=0)
>>> X = generative.ring_of_gaussians(256, seed=0)
>>> rec = gan.step(X[:64])
>>> sorted(rec)
['d_loss', 'g_loss']
"""

from .data import STREAMS, ising_configurations, ising_observables, mode_coverage, ring_modes, ring_of_gaussians
from .checks import distribution_test, inception_score, nearest_neighbour_distances, nearest_neighbour_gap
from .gan import EBGAN, GAN, WGAN, Adversarial
from .ising import ising_critic, ising_generator, ising_wgan, sample_spins, to_spins, with_spin_flips

__all__ = ["Adversarial", "GAN", "WGAN", "EBGAN", "ring_of_gaussians", "ring_modes", "mode_coverage", "STREAMS",
           "ising_configurations", "ising_observables", "nearest_neighbour_distances", "nearest_neighbour_gap",
           "inception_score", "distribution_test", "ising_generator", "ising_critic", "ising_wgan", "to_spins",
           "sample_spins", "with_spin_flips"]
