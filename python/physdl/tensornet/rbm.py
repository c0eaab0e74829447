"""The RBM -> tensor network mapping of book eq. 11.8-11.13.

Every line (a, A) of the RBM graph carries the 2x2 matrix M^(aA)_{s h} = exp(J_aA s h) (eq. 11.8),
every visible unit the diagonal Lambda^(a) = diag(exp(a_a s)), every hidden unit
Lambda~^(A) = diag(exp(b_A h)) (eq. 11.9); the index of a unit is shared by all its lines (a
hyperedge, the three-legged tensor M~ of eq. 11.13), and the hidden indices are summed with the
vector (1, 1) (eq. 11.11).  Contracting gives the RBM amplitude eq. 11.3 / 11.4.  ``spins="01"``
takes the book's matrices literally (s, h in {0, 1}, exp(J) in the (1,1) corner); ``spins="pm1"``
uses s, h in {-1, +1} (index 0 = -1), for which the hidden sum is the 2 cosh of eq. 11.4.
"""

from __future__ import annotations

import numpy as np

from .._validate import check_array, check_choice
from .contract import Expression, Sliced
from .mps import MPS

__all__ = ["rbm_network", "rbm_amplitudes", "rbm_amplitude_formula", "rbm_mps"]


def _values(spins):
    return np.array([0.0, 1.0]) if spins == "01" else np.array([-1.0, 1.0])


def _check(a, b, J, spins):
    spins = check_choice(spins, "spins", ("01", "pm1"))
    a = check_array(a, "a", ndim=1, finite=True, nonempty=True)
    b = check_array(b, "b", ndim=1, finite=True, nonempty=True)
    J = check_array(J, "J", ndim=2, finite=True)
    if J.shape != (a.size, b.size):
        raise ValueError(f"J must have shape (N, M) = ({a.size}, {b.size}), got {J.shape}")
    return a, b, J, spins


def rbm_network(a, b, J, spins="pm1"):
    """The RBM as a tensor network (eq. 11.8-11.13): ``(tensors, labels, output)``.

    Labels are ``("s", i)`` for visible and ``("h", A)`` for hidden indices; every tensor is
    2x2 (lines, eq. 11.8) or a 2-vector (the diagonals Lambda of eq. 11.9 and the hidden (1,1)
    of eq. 11.11), so every bond has dimension 2, as in the book.

    Examples
    --------
    >>> import numpy as np
    >>> from physdl.tensornet import rbm_network, contract
    >>> t, l, out = rbm_network(np.zeros(1), np.zeros(1), np.zeros((1, 1)), spins="01")
    >>> args = [x for pair in zip(t, l) for x in pair]
    >>> np.allclose(contract(*args, out), [2.0, 2.0])  # psi(s) = sum_h 1
    True
    """
    a, b, J, spins = _check(a, b, J, spins)
    v = _values(spins)
    tensors, labels = [], []
    N, M = J.shape
    for i in range(N):
        tensors.append(np.exp(a[i] * v))                       # Lambda^(a), eq. 11.9 (its diagonal)
        labels.append([("s", i)])
    for A in range(M):
        tensors.append(np.exp(b[A] * v))                       # Lambda~^(A) times the (1,1) of eq. 11.11
        labels.append([("h", A)])
    for i in range(N):
        for A in range(M):
            tensors.append(np.exp(J[i, A] * np.outer(v, v)))  # M^(aA), eq. 11.8
            labels.append([("s", i), ("h", A)])
    return tensors, labels, [("s", i) for i in range(N)]


def rbm_amplitude_formula(a, b, J, configs, spins="pm1"):
    """psi(s) from the closed form: eq. 11.4 for ``pm1``; prod_A (1 + exp(b_A + sum J s)) times
    exp(sum a s) for ``01`` (eq. 11.3 summed over h in {0, 1}).  ``configs`` holds indices 0/1."""
    a, b, J, spins = _check(a, b, J, spins)
    c = check_array(configs, "configs", ndim=2)
    s = _values(spins)[c]
    theta = b[None, :] + s @ J
    if spins == "pm1":
        return np.exp(s @ a) * np.prod(2 * np.cosh(theta), axis=1)
    return np.exp(s @ a) * np.prod(1 + np.exp(theta), axis=1)


def rbm_amplitudes(a, b, J, configs, spins="pm1", backend=None):
    """psi(s) for a batch of configurations by contracting the eq. 11.8-11.13 network, the visible
    legs sliced by each configuration (one batched call)."""
    a, b, J, spins = _check(a, b, J, spins)
    c = check_array(configs, "configs", ndim=2, nonempty=True)
    N = a.size
    if c.shape[1] != N or c.dtype.kind not in "iu" or c.min() < 0 or c.max() > 1:
        raise ValueError(f"configs must be an integer array of 0/1 with shape (n, {N})")
    tensors, labels, _ = rbm_network(a, b, J, spins)
    ops, ins = [], []
    for t, l in zip(tensors, labels):
        vis = [k for k, lab in enumerate(l) if lab[0] == "s"]
        rest = [lab for lab in l if lab[0] != "s"]
        if vis:
            i = l[vis[0]][1]
            ops.append(Sliced(t, (vis[0],), c[:, i:i + 1]))
        else:
            ops.append(t)
        ins.append(rest)
    shapes = [tuple(2 for _ in r) for r in ins]
    expr = Expression(ins, *shapes, output=[], backend=backend)
    return expr.batched(*ops)


def rbm_mps(a, b, J, spins="pm1") -> MPS:
    """The RBM state as an exact MPS of bond dimension 2**M: the bond carries the hidden
    configuration h, site i multiplies by exp(a_i s_i + s_i sum_A J_iA h_A), the ends by exp(b.h)."""
    a, b, J, spins = _check(a, b, J, spins)
    N, M = J.shape
    if M > 12:
        raise ValueError("rbm_mps: bond dimension 2**M; M must be <= 12")
    v = _values(spins)
    H = v[(np.arange(2 ** M)[:, None] >> np.arange(M)[::-1]) & 1]  # (2^M, M) hidden configurations
    ts = []
    for i in range(N):
        w = np.exp(a[i] * v[None, :] + np.outer(H @ J[i], v))      # (h, s)
        t = np.zeros((2 ** M, 2, 2 ** M))
        idx = np.arange(2 ** M)
        t[idx, :, idx] = w
        ts.append(t)
    left = np.exp(H @ b)[None, :]
    ts[0] = np.tensordot(left, ts[0], axes=(1, 0))
    ts[-1] = np.tensordot(ts[-1], np.ones(2 ** M), axes=(2, 0))[:, :, None]
    return MPS(ts)
