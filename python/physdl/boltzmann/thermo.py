"""Torlai and Melko's test (PRB 94, 165134): an RBM trained on Monte Carlo configurations of the
Ising model at temperature T; its Gibbs samples should reproduce the energy, |m| and specific heat
of the data within errors.  Shared by the tour, ``physdl ebm rbm`` and the slow test."""

from __future__ import annotations

import numpy as np

from .._validate import check_float, check_int, check_seed
from ..stats import jackknife

__all__ = ["ising_thermodynamics", "thermo_observables"]


def thermo_observables(S, bonds, T: float) -> dict:
    """Energy per spin, |m| and specific heat per spin ``N var(e) / T^2`` of +-1 configurations
    ``S`` (n, N), each an :class:`~physdl.stats.Estimate` (jackknife over 64 blocks)."""
    S = np.asarray(S, dtype=np.float64)
    N = S.shape[1]
    e = -(S[:, bonds[:, 0]] * S[:, bonds[:, 1]]).sum(1) / N
    m = np.abs(S.mean(1))
    return {"energy": jackknife(lambda a: a, e), "|m|": jackknife(lambda a: a, m),
            "C": jackknife(lambda a, b: N * (b - a * a) / T**2, e, e * e)}


def ising_thermodynamics(L: int, T: float, n: int = 4000, n_hidden: int | None = None, quick: bool = False,
                         seed: int = 0, backend: str | None = None) -> dict:
    """Train a +-1 RBM (``n_hidden`` default ``2 L^2``) by PCD-5 on ``n`` Wolff configurations of the
    L x L Ising torus at ``T`` and compare the thermodynamics of its samples with the data.

    Returns ``{"data": observables, "rbm": observables, "rbm_model": RBM}``.
    """
    from ..geometry import Lattice
    from ..lattice import Ising, Simulation
    from . import RBM

    L = check_int(L, "L", minimum=2, maximum=64)
    T = check_float(T, "T", positive=True)
    n = check_int(n, "n", minimum=200)
    seed = check_seed(seed)
    N = L * L
    nh = 2 * N if n_hidden is None else check_int(n_hidden, "n_hidden", minimum=1)
    X = Simulation(Ising((L, L)), T=T, update="wolff", seed=seed + 3).configurations(n, every=2, burn_in=200)
    X = X.reshape(n, -1).astype(np.float64)
    bonds = Lattice("square", (L, L)).bonds()
    rbm = RBM(N, nh, units="spin", seed=seed + 1, init_std=0.1)
    sched = ((0.05, 15), (0.01, 10), (0.002, 5)) if quick else ((0.05, 30), (0.01, 20), (0.002, 10))
    for lr, ep in sched:  # a decreasing learning rate ends the SGD noise
        rbm.fit(X, epochs=ep, learning_rate=lr, batch_size=100, k=5, method="pcd", n_chains=200, monitor=False,
                backend=backend)
    v, _ = rbm.sample(n, k=100, backend=backend)
    return {"data": thermo_observables(X, bonds, T), "rbm": thermo_observables(v, bonds, T), "rbm_model": rbm}
