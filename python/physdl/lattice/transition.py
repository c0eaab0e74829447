"""Exact single-spin-flip transition matrices of small Ising systems (book eq. 5.60-5.78).

:func:`ising_transition_matrix` is the ``2^N x 2^N`` matrix of one Metropolis or heat-bath update (or one
sweep in a given site order) on the states of :mod:`physdl.lattice.enumerate`.  It lived in
``physdl.sampling.markov`` (which still re-exports it); it is lattice physics, so it lives here, and
the Markov-chain tools (``detailed_balance``, ``MarkovChain``) apply to what it returns.
"""

from __future__ import annotations

import numpy as np

from .._validate import check_array, check_choice, check_float, check_int
from .enumerate import state_energies

__all__ = ["ising_transition_matrix"]


def ising_transition_matrix(J, h=None, beta: float = 1.0, rule: str = "metropolis",
                            order: str = "random") -> np.ndarray:
    """Full ``2^N x 2^N`` transition matrix of single-spin-flip Metropolis or heat bath on a small system.

    Energies ``H = -sum_{i<j} J_ij s_i s_j - sum_i h_i s_i``; states are integers with bit ``i`` = spin
    ``i`` (1 -> +1), as in :mod:`physdl.lattice.enumerate`.

    Parameters
    ----------
    J : (N, N) symmetric couplings, N <= 10
    h : float or (N,), optional
    beta : float > 0
    rule : {"metropolis", "heat_bath"}
        Metropolis: flip with ``min(1, exp(-beta dE))`` (eq. 5.70-5.72); heat bath: set the spin to
        ``+1`` with probability ``1 / (1 + exp(-2 beta h_i^loc))`` (eq. 5.75-5.78).
    order : {"random", "sequential"} or sequence of site indices
        ``"random"``: pick a site uniformly, then update it (satisfies detailed balance);
        ``"sequential"``: one sweep ``T_{N-1} ... T_1 T_0`` in site order (keeps the Boltzmann
        distribution stationary but in general breaks detailed balance);
        a sequence such as ``even_sites + odd_sites``: one sweep in that order (e.g. a checkerboard
        sweep, footnote 26; the same stationarity-only guarantee, while a palindromic order such as
        ``order + order[::-1]`` restores detailed balance).

    Returns
    -------
    ndarray (2^N, 2^N), column-stochastic, ``T[s', s] = P(s'|s)``

    Examples
    --------
    >>> import numpy as np
    >>> T = ising_transition_matrix(np.ones((3, 3)) - np.eye(3), beta=0.5)
    >>> np.allclose(T.sum(axis=0), 1.0)
    True
    """
    rule = check_choice(rule, "rule", ("metropolis", "heat_bath"))
    if isinstance(order, str):
        order = check_choice(order, "order", ("random", "sequential"))
    beta = check_float(beta, "beta", positive=True)
    J = check_array(J, "J", dtype=np.float64, ndim=2, finite=True, nonempty=True)
    n = J.shape[0]
    if n > 10:
        raise ValueError(f"J has {n} spins: the 2^N x 2^N matrix is too large (at most 10 spins)")
    E = state_energies(J, h)
    S = np.arange(1 << n)
    site_mats = []
    for i in range(n):  # one sparse-pattern matrix per site (N <= 10), vectorised over states
        flipped = S ^ (1 << i)
        dE = E[flipped] - E
        if rule == "metropolis":
            a = np.minimum(1.0, np.exp(-beta * np.clip(dE, 0, None)))
        else:
            a = 1.0 / (1.0 + np.exp(np.clip(beta * dE, -700, 700)))  # P(new value) = w_new / (w_old + w_new)
        Ti = np.zeros((S.size, S.size))
        Ti[flipped, S] = a
        Ti[S, S] = 1 - a
        site_mats.append(Ti)
    if isinstance(order, str) and order == "random":
        return sum(site_mats) / n
    if isinstance(order, str):
        seq = range(n)
    else:
        seq = [check_int(i, "order[k]", minimum=0, maximum=n - 1) for i in order]
        if not seq:
            raise ValueError("order must list at least one site")
    T = np.eye(S.size)
    for i in seq:
        T = site_mats[i] @ T
    return T
