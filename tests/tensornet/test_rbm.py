"""The RBM -> tensor network mapping (eq. 11.8-11.13) against brute-force sums over hidden units."""

import itertools

import numpy as np
import pytest

from physdl import tensornet as tn


def brute_force(a, b, J, spins):
    """eq. 11.3: psi(s) = sum_h exp(a.s + b.h + s.J.h), every visible and hidden configuration."""
    v = np.array([0.0, 1.0]) if spins == "01" else np.array([-1.0, 1.0])
    N, M = J.shape
    out = np.zeros(2 ** N)
    hs = np.array(list(itertools.product([0, 1], repeat=M)))
    for k, s in enumerate(itertools.product([0, 1], repeat=N)):
        sv = v[list(s)]
        hv = v[hs]
        out[k] = np.sum(np.exp(sv @ a + hv @ b + hv @ (J.T @ sv)))
    return out


@pytest.mark.parametrize("spins", ["01", "pm1"])
@pytest.mark.parametrize("N,M", [(1, 1), (2, 1), (5, 3), (12, 4)])
def test_rbm_network_equals_eq_11_3_for_all_configurations(N, M, spins):
    rng = np.random.default_rng(N * 10 + M)
    a, b, J = 0.3 * rng.normal(size=N), 0.3 * rng.normal(size=M), 0.3 * rng.normal(size=(N, M))
    confs = np.array(list(itertools.product([0, 1], repeat=N)))
    ref = brute_force(a, b, J, spins)
    np.testing.assert_allclose(tn.rbm_amplitude_formula(a, b, J, confs, spins), ref, rtol=1e-11)
    np.testing.assert_allclose(tn.rbm_amplitudes(a, b, J, confs, spins), ref, rtol=1e-11)
    tensors, labels, out = tn.rbm_network(a, b, J, spins)
    assert all(d == 2 for t in tensors for d in t.shape)  # every bond of dimension 2, as in eq. 11.8-11.9
    args = [x for pair in zip(tensors, labels) for x in pair]
    np.testing.assert_allclose(tn.contract(*args, out).reshape(-1), ref, rtol=1e-11)
    if M <= 4:
        np.testing.assert_allclose(tn.rbm_mps(a, b, J, spins).amplitudes(confs), ref, rtol=1e-11)


def test_eq_11_10_single_line():
    a1, b1, J11 = 0.4, -0.2, 0.7
    t, l, out = tn.rbm_network(np.array([a1]), np.array([b1]), np.array([[J11]]), spins="01")
    # the (s, h) matrix of eq. 11.10
    args = [x for pair in zip(t, l) for x in pair]
    m = tn.contract(*args, [("h", 0), ("s", 0)])
    np.testing.assert_allclose(m, [[1, np.exp(a1)], [np.exp(b1), np.exp(a1 + b1 + J11)]], rtol=1e-14)


def test_bad_shapes():
    with pytest.raises(ValueError, match="J must have shape"):
        tn.rbm_amplitudes(np.zeros(3), np.zeros(2), np.zeros((2, 3)), np.zeros((1, 3), int))
    with pytest.raises(ValueError, match="configs"):
        tn.rbm_amplitudes(np.zeros(2), np.zeros(2), np.zeros((2, 2)), np.full((1, 2), 3))
