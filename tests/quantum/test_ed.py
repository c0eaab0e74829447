"""Hilbert space, operators and exact diagonalisation against independent dense builds and exact results."""

import math
from functools import reduce

import numpy as np
import pytest

from physdl import quantum
from physdl.geometry import Lattice

X = np.array([[0, 1], [1, 0]], complex)
Y = np.array([[0, -1j], [1j, 0]], complex)
Z = np.array([[1, 0], [0, -1]], complex)
P = {"X": X, "Y": Y, "Z": Z}


def kron_op(n, factors):
    """Dense matrix of prod sigma^a_i in the basis |s>, s = sum_i bit_i 2^i, bit 1 = up = Z eigenvalue +1."""
    # local basis index 0 = up (bit 1), 1 = down; site n-1 is the most significant kron factor
    mats = [np.eye(2, dtype=complex) for _ in range(n)]
    for site, a in factors:
        mats[site] = P[a] @ mats[site]
    full = reduce(np.kron, mats[::-1])
    # kron index k has digit d_i = 1 for down; state s has bit_i = 1 - d_i  ->  s = 2^n - 1 - k
    perm = (2**n - 1) - np.arange(2**n)
    return full[np.ix_(perm, perm)]


def dense(n, terms):
    return sum(c * kron_op(n, f) for c, f in terms)


def heis_terms(bonds, J=1.0):
    return [(J, [(i, a), (j, a)]) for i, j in bonds for a in "XYZ"]


@pytest.mark.parametrize("n,tz", [(6, 0), (7, 1), (8, -2), (5, None)])
@pytest.mark.parametrize("backend", ["cpp", "numba"])
def test_sector_states_and_rank(n, tz, backend):
    hs = quantum.SpinHilbert(n, tz)
    st = hs.states(backend)
    allst = np.arange(2**n, dtype=np.uint64)
    if tz is None:
        expect = allst
    else:
        up = np.array([bin(int(s)).count("1") for s in allst])
        expect = allst[up == (n + tz) // 2]
    assert np.array_equal(st, expect) and hs.dim == expect.size
    assert np.array_equal(hs.rank(st, backend), np.arange(st.size))
    outside = np.setdiff1d(allst, st)
    if outside.size:
        assert np.all(hs.rank(outside, backend) == -1)
    assert np.array_equal(hs.from_spins(hs.to_spins(st)), st)


@pytest.mark.parametrize("lat", [Lattice("chain", 8), Lattice("chain", 7, pbc=False), Lattice("square", (2, 3))])
def test_models_equal_dense_kronecker(lat):
    n = lat.n_sites
    bonds = lat.bonds().tolist()
    tfim = [(-1.0, [(i, "Z"), (j, "Z")]) for i, j in bonds] + [(-0.7, [(i, "X")]) for i in range(n)]
    Ht = quantum.transverse_field_ising(lat, J=1.0, h=0.7).to_sparse(quantum.SpinHilbert(n)).toarray()
    assert np.allclose(Ht, dense(n, tfim).real, atol=1e-12)
    Hh = quantum.heisenberg(lat, J=0.9).to_sparse(quantum.SpinHilbert(n)).toarray()
    assert np.allclose(Hh, dense(n, heis_terms(bonds, 0.9)).real, atol=1e-12)


def test_j1j2_sector_block_equals_dense():
    lat = Lattice("square", (2, 4))
    n = lat.n_sites
    terms = heis_terms(lat.bonds().tolist(), 1.0) + heis_terms(lat.bonds(next_nearest=True).tolist(), 0.5)
    D = dense(n, terms).real
    hs = quantum.SpinHilbert(n, 0)
    idx = hs.states().astype(np.int64)
    for backend in ("cpp", "numba"):
        M = quantum.j1j2(lat, 1.0, 0.5).to_sparse(hs, backend=backend).toarray()
        assert np.allclose(M, D[np.ix_(idx, idx)], atol=1e-12)


def test_general_pauli_sum_complex_hermitian():
    rng = np.random.default_rng(3)
    n = 4
    terms = []
    for _ in range(12):
        k = rng.integers(1, 4)
        sites = rng.choice(n, size=k, replace=True)
        f = [(int(s), "XYZ"[rng.integers(3)]) for s in sites]
        c = rng.normal()
        terms += [(c, f)]
    # make it Hermitian by adding the adjoint of every term (reverse order, conjugate)
    terms += [(np.conj(c), f[::-1]) for c, f in terms]
    terms += [(0.3j, [(0, "X"), (1, "Y")]), (-0.3j, [(1, "Y"), (0, "X")])]   # cancels exactly
    terms += [(0.5, [(2, "Y")])]                                           # imaginary elements
    op = quantum.PauliSum(n, terms)
    D = dense(n, terms)
    assert np.allclose(D, D.conj().T)
    for backend in ("cpp", "numba"):
        M = op.to_sparse(quantum.SpinHilbert(n), backend=backend).toarray()
        assert np.allclose(M, D, atol=1e-12)


def test_non_hermitian_and_bad_input_raise():
    with pytest.raises(ValueError, match="not Hermitian"):
        quantum.PauliSum(2, [(1j, "X0")])
    with pytest.raises(ValueError, match="not Hermitian"):
        quantum.PauliSum(2, [(1.0, "X0 Y0")])        # X Y = i Z
    with pytest.raises(ValueError, match="outside"):
        quantum.PauliSum(2, [(1.0, "X5")])
    with pytest.raises(ValueError, match="finite"):
        quantum.PauliSum(2, [(float("nan"), "X0")])
    with pytest.raises(ValueError, match="sector"):
        quantum.SpinHilbert(4, total_sz=1)
    with pytest.raises(ValueError):
        quantum.SpinHilbert(4, total_sz=6)
    with pytest.raises(ValueError, match="S\\^z|sector"):
        quantum.transverse_field_ising(Lattice("chain", 4)).to_sparse(quantum.SpinHilbert(4, 0))
    with pytest.raises(ValueError, match="sector"):     # XX alone flips up-up to down-down
        quantum.PauliSum(4, [(1.0, "X0 X1")]).to_sparse(quantum.SpinHilbert(4, 0))
    with pytest.raises(MemoryError):
        quantum.heisenberg(Lattice("chain", 12)).to_sparse(quantum.SpinHilbert(12), max_bytes=1000)


@pytest.mark.parametrize("n", [8, 10])
def test_heisenberg_ground_energy_vs_dense_eigh(n):
    lat = Lattice("chain", n)
    D = dense(n, heis_terms(lat.bonds().tolist())).real
    w = np.linalg.eigvalsh(D)
    res = quantum.ground_state(quantum.heisenberg(lat), quantum.SpinHilbert(n, 0), k=3)
    # the S^z = 0 sector holds the singlet ground state; its low levels are eigenvalues of the full matrix
    assert res.energies[0] == pytest.approx(w[0], abs=1e-9)
    for e in res.energies:
        assert np.min(np.abs(w - e)) < 1e-8


def test_heisenberg_bethe_ansatz_trend():
    # E0/N -> 1 - 4 ln 2 (Pauli units; Hulthen) with the conformal correction -pi^2/(3 N^2) (c = 1, v = 2 pi)
    e_inf = 1.0 - 4.0 * math.log(2.0)
    devs = []
    for n in (8, 12, 16):
        e0 = quantum.ground_state(quantum.heisenberg(Lattice("chain", n)), quantum.SpinHilbert(n, 0)).energies[0]
        corr = math.pi**2 / (3 * n**2)
        devs.append(abs(e0 / n - e_inf))
        assert abs(e0 / n - (e_inf - corr)) < 0.25 * corr
    assert devs[0] > devs[1] > devs[2]


@pytest.mark.parametrize("h", [0.5, 1.0, 2.0])
def test_tfim_ring_free_fermions(h):
    n, J = 10, 1.0
    # Jordan-Wigner: even-parity (Neveu-Schwarz) sector, k = (2m+1) pi / N; E0 = -sum_k sqrt(J^2 + h^2 - 2 J h cos k)
    k = (2 * np.arange(n) + 1) * np.pi / n
    e_exact = -np.sum(np.sqrt(J**2 + h**2 - 2 * J * h * np.cos(k)))
    res = quantum.ground_state(quantum.transverse_field_ising(Lattice("chain", n), J, h), quantum.SpinHilbert(n))
    assert res.energies[0] == pytest.approx(e_exact, rel=1e-10)


def test_square_lattice_heisenberg_known_values():
    # 2x2 periodic: each bond doubled -> twice the 4-site ring, E0 = -16
    r = quantum.ground_state(quantum.heisenberg(Lattice("square", (2, 2))), quantum.SpinHilbert(4, 0))
    D = dense(4, heis_terms(Lattice("square", (2, 2)).bonds().tolist())).real
    assert r.energies[0] == pytest.approx(np.linalg.eigvalsh(D)[0], abs=1e-10)
    assert r.energies[0] == pytest.approx(-16.0, abs=1e-10)


@pytest.mark.slow
def test_square_4x4_heisenberg_published():
    r = quantum.ground_state(quantum.heisenberg(Lattice("square", (4, 4))), quantum.SpinHilbert(16, 0))
    # 4x4 periodic: E0 = -11.228483 J in S units (Schulz, Ziman, Poilblanc 1996), x4 in Pauli units
    assert r.energies[0] / 4 == pytest.approx(-11.228483, abs=2e-6)


def test_exact_eigenstate_has_zero_variance_local_energy():
    n = 8
    for H, hs in ((quantum.transverse_field_ising(Lattice("chain", n), h=0.8), quantum.SpinHilbert(n)),
                  (quantum.heisenberg(Lattice("chain", n)), quantum.SpinHilbert(n, 0))):
        r = quantum.ground_state(H, hs)
        v = r.ground
        keep = np.abs(v) > 1e-6 * np.abs(v).max()
        for backend in ("cpp", "numba"):
            el = quantum.local_energies(H, v, hs, backend=backend)
            assert np.allclose(el[keep], r.energies[0], atol=1e-6)


def test_expectation_and_correlations_vs_dense():
    n = 8
    lat = Lattice("chain", n)
    H = quantum.heisenberg(lat)
    hs = quantum.SpinHilbert(n, 0)
    r = quantum.ground_state(H, hs)
    assert quantum.expectation(H, r.ground, hs) == pytest.approx(r.energies[0], abs=1e-9)
    C = quantum.zz_correlations(r.ground, hs)
    full = np.zeros(2**n)
    full[hs.states().astype(np.int64)] = r.ground
    for j in (1, 2, 4):
        D = kron_op(n, [(0, "Z"), (j, "Z")]).real
        assert C[0, j] == pytest.approx(full @ D @ full, abs=1e-10)
    assert np.allclose(np.diag(C), 1.0)
    assert C[0].sum() == pytest.approx(0.0, abs=1e-9)    # singlet: total S^z fluctuations vanish


def test_spectra_equal_netket():
    nk = pytest.importorskip("netket")
    n = 6
    g = nk.graph.Chain(n, pbc=True)
    hi = nk.hilbert.Spin(0.5, N=n)
    sx, sy, sz = nk.operator.spin.sigmax, nk.operator.spin.sigmay, nk.operator.spin.sigmaz
    lat = Lattice("chain", n)
    Ht = sum(-1.0 * (sz(hi, i) @ sz(hi, j)) for i, j in g.edges()) + sum(-0.6 * sx(hi, i) for i in range(n))
    Hh = sum(sx(hi, i) @ sx(hi, j) + sy(hi, i) @ sy(hi, j) + sz(hi, i) @ sz(hi, j) for i, j in g.edges())
    for ours, theirs in ((quantum.transverse_field_ising(lat, 1.0, 0.6), Ht), (quantum.heisenberg(lat), Hh)):
        a = np.linalg.eigvalsh(ours.to_sparse(quantum.SpinHilbert(n)).toarray())
        b = np.linalg.eigvalsh(theirs.to_dense())
        assert np.allclose(a, b, atol=1e-10)
    hh = nk.operator.Heisenberg(hi, graph=g, sign_rule=False)
    w = np.linalg.eigvalsh(hh.to_dense())
    assert np.allclose(np.linalg.eigvalsh(quantum.heisenberg(lat).to_sparse(quantum.SpinHilbert(n)).toarray()), w)


@pytest.mark.slow
def test_ed_24_spins_sz0_memory_estimated_and_bethe_trend():
    # 24 spins, S^z = 0 (dim 2 704 156): the memory bound is computed before the build and holds
    import resource

    from physdl.quantum.operators import memory_estimate

    n = 24
    H, hs = quantum.heisenberg(Lattice("chain", n)), quantum.SpinHilbert(n, 0)
    est = memory_estimate(H, hs)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    M = H.to_sparse(hs)
    used = M.data.nbytes + M.indices.nbytes + M.indptr.nbytes
    assert used <= est < 4 * used
    e0 = quantum.ground_state(H, hs).energies[0]
    e_inf = 1.0 - 4.0 * math.log(2.0)
    corr = math.pi**2 / (3 * n**2)
    assert abs(e0 / n - (e_inf - corr)) < 0.25 * corr
    # between L = 20 and the thermodynamic limit, monotonic as the finite-size trend says
    e20 = quantum.ground_state(quantum.heisenberg(Lattice("chain", 20)), quantum.SpinHilbert(20, 0)).energies[0]
    assert e20 / 20 < e0 / n < e_inf
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss0 < 6 * est
