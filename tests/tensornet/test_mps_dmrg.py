"""MPS, MPO and DMRG against dense linear algebra and exact diagonalisation (Kronecker products)."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from physdl import tensornet as tn
from physdl.tensornet import MPS

X = sp.csr_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]))
Y = sp.csr_matrix(np.array([[0.0, -1j], [1j, 0.0]]))
Z = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, -1.0]]))


def site_op(op, i, L):
    return sp.kron(sp.kron(sp.identity(2 ** i), op), sp.identity(2 ** (L - i - 1)), format="csr")


def ising_ed(L, J, h):
    H = sp.csr_matrix((2 ** L, 2 ** L))
    for i in range(L - 1):
        H = H - J * site_op(Z, i, L) @ site_op(Z, i + 1, L)
    for i in range(L):
        H = H - h * site_op(X, i, L)
    return H


def heisenberg_ed(L, J=1.0):
    H = sp.csr_matrix((2 ** L, 2 ** L), dtype=complex)
    for i in range(L - 1):
        for P in (X, Y, Z):
            H = H + J * site_op(P, i, L) @ site_op(P, i + 1, L)
    return sp.csr_matrix(H.real)


def ground(H):
    return float(spla.eigsh(H, k=1, which="SA", tol=1e-12)[0][0])


def test_mpo_dense_equals_kronecker_hamiltonians():
    np.testing.assert_allclose(tn.ising_mpo(5, J=0.7, h=1.3).to_dense(), ising_ed(5, 0.7, 1.3).toarray(), atol=1e-14)
    np.testing.assert_allclose(tn.heisenberg_mpo(5, J=1.1).to_dense(), heisenberg_ed(5, 1.1).toarray(), atol=1e-14)


def test_canonical_forms_are_isometries_and_keep_the_state():
    psi = MPS.random(7, 2, 5, seed=3)
    v = psi.to_dense()
    for form, center in (("left", None), ("right", None), ("mixed", 3)):
        m = psi.copy().canonicalize(form, center)
        np.testing.assert_allclose(m.to_dense(), v, rtol=1e-10, atol=1e-12)
        for i, t in enumerate(m.tensors):
            Dl, d, Dr = t.shape
            if i < m.center:
                np.testing.assert_allclose(t.reshape(Dl * d, Dr).T @ t.reshape(Dl * d, Dr), np.eye(Dr), atol=1e-12)
            elif i > m.center:
                np.testing.assert_allclose(t.reshape(Dl, d * Dr) @ t.reshape(Dl, d * Dr).T, np.eye(Dl), atol=1e-12)
        np.testing.assert_allclose(np.linalg.norm(m.tensors[m.center]), np.linalg.norm(v), rtol=1e-10)


def test_norm_overlap_expectations_correlations_equal_dense():
    L = 6
    psi, phi = MPS.random(L, 2, 3, seed=1, dtype=np.complex128), MPS.random(L, 2, 4, seed=2)
    v, w = psi.to_dense(), phi.to_dense()
    np.testing.assert_allclose(psi.norm(), np.linalg.norm(v), rtol=1e-12)
    np.testing.assert_allclose(psi.overlap(phi), np.vdot(v, w), rtol=1e-12)
    zs = psi.expectation(Z.toarray())
    ref = [np.vdot(v, site_op(Z, i, L) @ v).real / np.vdot(v, v).real for i in range(L)]
    np.testing.assert_allclose(zs, ref, rtol=1e-10, atol=1e-12)
    c = psi.correlation(X.toarray(), Z.toarray(), 1, 4)
    refc = np.vdot(v, site_op(X, 1, L) @ site_op(Z, 4, L) @ v) / np.vdot(v, v)
    np.testing.assert_allclose(c, refc, rtol=1e-10, atol=1e-12)
    H = tn.heisenberg_mpo(L)
    np.testing.assert_allclose(H.expectation(phi), np.vdot(w, H.to_dense() @ w) / np.vdot(w, w), rtol=1e-10)


def test_compression_discarded_weight_equals_lost_norm():
    psi = MPS.random(8, 2, 16, seed=4).normalize()
    v = psi.to_dense()
    m = psi.copy()
    info = m.compress(max_bond=4)
    assert info.max_bond == 4 and max(m.bonds) == 4
    u = m.to_dense()
    # for a canonical sweep the fidelity loss equals the sum of discarded weights to first order
    err = np.linalg.norm(v - u / np.linalg.norm(u) * np.sign(np.vdot(v, u))) ** 2
    assert info.discarded_weight > 0
    np.testing.assert_allclose(1 - abs(np.vdot(v, u)) ** 2 / np.vdot(u, u), info.discarded_weight, rtol=0.3)
    assert err < 4 * info.discarded_weight
    exact = psi.copy().compress(max_bond=16)
    assert exact.discarded_weight < 1e-24


def test_entropy_and_amplitudes():
    psi = MPS.random(6, 2, 4, seed=5)
    v = psi.to_dense()
    # entanglement across bond 2 from the dense Schmidt decomposition
    s = np.linalg.svd(v.reshape(2 ** 3, 2 ** 3) / np.linalg.norm(v), compute_uv=False)
    p = s ** 2
    p = p[p > 1e-300]
    np.testing.assert_allclose(psi.entanglement_entropy(2), -np.sum(p * np.log(p)), rtol=1e-10)
    confs = np.array([[int(b) for b in np.binary_repr(k, 6)] for k in range(64)])
    np.testing.assert_allclose(psi.amplitudes(confs), v, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(psi.amplitudes(confs, backend="numba"), v, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(psi.amplitude(confs[5]), v[5], rtol=1e-10)


@pytest.mark.parametrize("L,J,h", [(12, 1.0, 1.0), (14, 1.0, 1.6)])
def test_dmrg_ising_equals_exact_diagonalisation(L, J, h):
    e0 = ground(ising_ed(L, J, h))
    r = tn.dmrg(tn.ising_mpo(L, J, h), bond_dims=[8, 32], sweeps=5, tol=1e-12)
    assert abs(r.energy - e0) / abs(e0) < 1e-8
    assert r.variances[-1] < 1e-7
    for k in range(1, len(r.energies)):  # the energy never rises by more than the truncation error
        assert r.energies[k] <= r.energies[k - 1] + 10 * r.truncation_errors[k] * abs(e0) + 1e-10


def test_dmrg_heisenberg_equals_exact_diagonalisation():
    L = 12
    e0 = ground(heisenberg_ed(L))
    r = tn.dmrg(tn.heisenberg_mpo(L), bond_dims=[8, 32], sweeps=8, tol=1e-12)
    assert abs(r.energy - e0) / abs(e0) < 1e-8
    for k in range(1, len(r.energies)):
        assert r.energies[k] <= r.energies[k - 1] + 10 * r.truncation_errors[k] * abs(e0) + 1e-10


@pytest.mark.slow
def test_dmrg_heisenberg_larger_chain_equals_tenpy():
    tenpy = pytest.importorskip("tenpy")
    from tenpy.algorithms import dmrg as tdmrg
    from tenpy.models.xxz_chain import XXZChain
    from tenpy.networks.mps import MPS as TMPS

    L = 20
    model = XXZChain({"L": L, "Jxx": 4.0, "Jz": 4.0, "hz": 0.0, "bc_MPS": "finite"})  # Pauli units: S = sigma/2
    with warnings.catch_warnings():  # TeNPy's own deprecation notices are not ours to fix
        warnings.simplefilter("ignore")
        st = TMPS.from_product_state(model.lat.mps_sites(), ["up", "down"] * (L // 2), bc="finite")
        info = tdmrg.run(st, model, {"trunc_params": {"chi_max": 32, "svd_min": 1e-12}, "max_sweeps": 10,
                                     "mixer": True})
    r = tn.dmrg(tn.heisenberg_mpo(L), bond_dims=[16, 32], sweeps=8, tol=1e-11, variance=False)
    assert abs(r.energy - info["E"]) < 1e-6 * abs(info["E"])


def test_bad_input():
    with pytest.raises(ValueError, match="bond_dims"):
        tn.dmrg(tn.ising_mpo(4), bond_dims=0)
    with pytest.raises(ValueError, match="bond"):
        MPS.random(4, 2, 0)
    with pytest.raises(ValueError, match="tensors\\[1\\]"):
        MPS([np.ones((1, 2, 2)), np.full((2, 2, 1), np.nan)])
    with pytest.raises(ValueError, match="bond 0"):
        MPS([np.ones((1, 2, 3)), np.ones((2, 2, 1))])
    with pytest.raises(ValueError, match="configs"):
        MPS.random(3, 2, 2).amplitudes(np.array([[0, 1, 2]]))


@pytest.mark.parametrize("cplx", [False, True])
def test_effective_hamiltonian_products_equal_dense_contraction(cplx):
    from physdl.tensornet.dmrg import _Heff

    rng = np.random.default_rng(11)

    def t(*shape):
        a = rng.normal(size=shape)
        return a + 1j * rng.normal(size=shape) if cplx else a

    Le, W1, W2, Re, theta = t(6, 3, 5), t(3, 2, 2, 4), t(4, 2, 2, 5), t(7, 5, 8), t(5, 2, 2, 8)
    dense = np.einsum("AwB,wSsv,vTtu,CuD,BstD->ASTC", Le, W1, W2, Re, theta)
    np.testing.assert_allclose(_Heff(Le, W1, W2, Re)(theta), dense, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cplx", [False, True])
def test_lanczos_lowest_pair_equals_eigh(cplx):
    from physdl.tensornet.dmrg import _lanczos

    rng = np.random.default_rng(12)
    n = 300
    M = rng.normal(size=(n, n)) + (1j * rng.normal(size=(n, n)) if cplx else 0)
    H = 0.5 * (M + M.conj().T) / np.sqrt(n)   # semicircle on [-sqrt2, sqrt2] ...
    H[0, 0] -= 2.0                             # ... and a lowest level split off, as in a gapped chain
    vals, vecs = np.linalg.eigh(H)
    # restarts are exercised: a random start and a Krylov space of 6 cannot converge in one pass
    energy, x = _lanczos(lambda v: H @ v, rng.normal(size=n).astype(H.dtype), 1e-10, krylov=6, restarts=200)
    assert abs(energy - vals[0]) < 1e-8 * abs(vals[0])
    assert abs(abs(np.vdot(vecs[:, 0], x)) - 1) < 1e-6


def test_mpo_compression_against_the_dense_operator():
    # H written twice over (bond 2 w - ...) compresses without loss to the bond of H
    L = 6
    H = tn.heisenberg_mpo(L, J=1.0, hz=0.3)
    ts = []
    for i, w in enumerate(H.tensors):
        a, d, _, b = w.shape
        if i == 0:
            ts.append(np.concatenate([w, 2 * w], axis=3))
        elif i == L - 1:
            ts.append(np.concatenate([w, w], axis=0))
        else:
            big = np.zeros((2 * a, d, d, 2 * b))
            big[:a, :, :, :b], big[a:, :, :, b:] = w, w
            ts.append(big)
    doubled = tn.MPO(ts)
    dense = doubled.to_dense()
    np.testing.assert_allclose(dense, 3 * H.to_dense(), atol=1e-12)
    small, disc = doubled.compress()
    assert max(w.shape[3] for w in small.tensors) <= 5 and disc < 1e-24
    np.testing.assert_allclose(small.to_dense(), dense, atol=1e-11)
    # a lossy compression: the Frobenius error is bounded by the reported discarded weight
    rng = np.random.default_rng(5)
    R = tn.MPO([rng.normal(size=(1 if i == 0 else 6, 2, 2, 1 if i == L - 1 else 6)) for i in range(L)])
    full = R.to_dense()
    for chi in (2, 4):
        Rc, disc = R.compress(max_bond=chi)
        assert max(w.shape[3] for w in Rc.tensors) <= chi
        err = np.linalg.norm(Rc.to_dense() - full) ** 2 / np.linalg.norm(full) ** 2
        assert 0 < err <= disc * (1 + 1e-9)
        assert err >= 0.3 * disc   # the bound is near tight, not vacuous
    with pytest.raises(ValueError, match="max_bond"):
        R.compress(max_bond=0)
