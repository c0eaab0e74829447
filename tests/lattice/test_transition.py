"""The kernels' one-sweep transition probabilities against the exact transition matrix of the same
sweep order (physdl.sampling.markov), and the balance properties of that matrix (eq. 5.60, 5.65)."""

from __future__ import annotations

import numpy as np
import pytest

from physdl import lattice
from physdl.lattice.enumerate import coupling_matrix
from physdl.lattice.transition import ising_transition_matrix
from physdl.sampling.markov import detailed_balance, empirical_transition_matrix


def _coupling_matrix(model):
    # one geometry: the enumeration's coupling matrix of the model's shape is its neighbour table's
    return coupling_matrix(model.shape, model.geometry, J=model.J)


@pytest.mark.parametrize("update", ["metropolis", "heat_bath"])
@pytest.mark.parametrize("storage,shape", [("byte", (2, 2)), ("multispin", (2, 2)), ("byte", (2, 4))])
def test_one_sweep_transition_matrix_matches_exact(update, storage, shape):
    model = lattice.Ising(shape, J=1.0, h=0.25)
    beta = 0.35
    n = model.n_sites
    order, _ = model.colouring("checkerboard")
    exact = ising_transition_matrix(_coupling_matrix(model), model.fields(), beta=beta, rule=update, order=order)
    sim = lattice.Simulation(model, beta=beta, update=update, storage=storage, seed=11, backend="cpp")
    conf = sim.configurations(40_000 if n == 4 else 60_000)
    states = ((conf.reshape(conf.shape[0], n) > 0) * (1 << np.arange(n))).sum(axis=1)
    counts = np.bincount(states[:-1], minlength=2**n)
    if np.all(counts > 0):
        emp = empirical_transition_matrix(states[:-1], states[1:], 2**n)
    else:  # some states of the larger lattice are never visited: normalise the visited columns
        pair = np.bincount(states[1:] * 2**n + states[:-1], minlength=4**n).reshape(2**n, 2**n)
        emp = pair / np.maximum(counts, 1)[None, :]
    se = np.sqrt(exact * (1 - exact) / np.maximum(counts, 1)[None, :]) + 1e-12
    z = np.abs(emp - exact) / se
    seen = counts >= 30
    assert seen.sum() >= 2**n // 2
    testable = seen[None, :] & (counts[None, :] * exact >= 10)  # normal approximation of the binomial
    assert testable.sum() >= 2**n
    assert np.max(z[testable]) < 5.0, f"largest deviation {np.max(z[testable]):.2f} standard errors"
    # transitions the exact sweep forbids never happen
    assert np.all(emp[exact == 0] == 0)


@pytest.mark.parametrize("update", ["metropolis", "heat_bath"])
def test_colour_half_sweep_is_reversible_full_sweep_only_stationary(update):
    """One colour class (independent sites) obeys detailed balance; the two-colour sweep keeps the
    Boltzmann distribution stationary but is not reversible (a counterexample for eq. 5.65)."""
    model = lattice.Ising((2, 4), J=1.0, h=0.3)
    beta = 0.4
    J, h = _coupling_matrix(model), model.fields()
    order, off = model.colouring("checkerboard")
    states = np.arange(2**8)
    spins = ((states[:, None] >> np.arange(8)) & 1) * 2 - 1
    p = np.exp(-beta * model.energy(spins.reshape(-1, 2, 4)))
    p /= p.sum()
    half = ising_transition_matrix(J, h, beta=beta, rule=update, order=order[: off[1]])
    full = ising_transition_matrix(J, h, beta=beta, rule=update, order=order)
    assert detailed_balance(half, p).holds
    rep = detailed_balance(full, p)
    assert rep.stationary and not rep.holds
