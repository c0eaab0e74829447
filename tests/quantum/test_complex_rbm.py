"""Complex RBM wave functions (eq. 11.3-11.4 with complex a, b, W): kernels against direct NumPy,
incremental hidden sums against recomputation, cpp against numba, 1 against 2 threads, holomorphic SR
against a dense solve, and VMC against exact diagonalisation."""

import numpy as np
import pytest

import physdl._core as core
from physdl import quantum
from physdl.geometry import Lattice
from physdl.quantum.operators import PauliSum
from physdl.quantum.vmc import RBM, VMC, local_energy, marshall_mask, sample, sr_solve_complex


def spins(states, n):
    return (((states[:, None] >> np.arange(n, dtype=np.uint64)) & np.uint64(1)).astype(float) * 2 - 1)


def direct(psi, states):
    """log psi, theta and O from the formulas (NumPy, no kernel)."""
    a, b, W = psi.split()
    S = spins(states, psi.n)
    th = b + S @ W.T
    lp = S @ a + np.log(2 * np.cosh(th)).sum(axis=1)
    t = np.tanh(th)
    O = np.concatenate([S, t, (t[:, :, None] * S[:, None, :]).reshape(len(states), -1)], axis=1)
    return lp, th, O


def crbm(n, alpha=1, seed=3, scale=0.3, sign_mask=0):
    return RBM(n, alpha=alpha, seed=seed, scale=scale, sign_mask=sign_mask, dtype="complex")


@pytest.mark.parametrize("backend", ["cpp", "numba"])
def test_complex_amplitudes_and_log_derivs_equal_numpy(backend):
    n = 7
    psi = crbm(n, alpha=2)
    assert psi.params.dtype == np.complex128 and np.abs(psi.params.imag).max() > 0
    basis = quantum.SpinHilbert(n).states()
    lp, th, O = direct(psi, basis)
    got = psi.log_psi(basis, backend=backend)
    assert got.dtype == np.complex128
    assert np.allclose(got.real, lp.real, rtol=1e-13, atol=1e-13)
    assert np.allclose(np.exp(1j * (got.imag - lp.imag)), 1.0, atol=1e-12)  # the phase, mod 2 pi
    assert np.allclose(psi.theta(basis, backend=backend), th, rtol=1e-13, atol=1e-13)
    assert np.allclose(psi.log_derivs(basis, backend=backend), O, rtol=1e-12, atol=1e-13)
    # O is the holomorphic derivative of log psi: a finite difference along a complex direction
    rng = np.random.default_rng(0)
    dp = (rng.normal(size=psi.n_params) + 1j * rng.normal(size=psi.n_params)) * 1e-6
    q = RBM(n, alpha=2, dtype="complex", scale=0.0)
    q.params = psi.params + dp
    fd = q.log_psi(basis, backend=backend) - got
    assert np.allclose(fd, O @ dp, rtol=1e-4, atol=1e-9)


@pytest.mark.parametrize("backend", ["cpp", "numba"])
@pytest.mark.parametrize("model", ["heisenberg", "tfim", "y-field", "j1j2-ring3"])
def test_complex_local_energy_equals_dense(model, backend):
    n = 8
    lat = Lattice("chain", n)
    mask = 0
    if model == "heisenberg":
        H, hil, mask = quantum.heisenberg(lat), quantum.SpinHilbert(n, 0), marshall_mask(lat)
    elif model == "tfim":
        H, hil = quantum.transverse_field_ising(lat, h=0.7), quantum.SpinHilbert(n)
    elif model == "y-field":  # complex matrix elements: sum sy, a chiral three-spin term X Y Z
        terms = [(0.6, f"Y{i}") for i in range(n)] + [(0.3, f"X{i} Y{(i + 1) % n} Z{(i + 2) % n}") for i in range(n)]
        H, hil = quantum.transverse_field_ising(lat, h=0.5) + PauliSum(n, terms), quantum.SpinHilbert(n)
    else:  # a three-site flip term takes the kernels' generic (untabulated) path
        terms = [(0.4, f"X{i} X{(i + 1) % n} X{(i + 2) % n}") for i in range(n)]
        H, hil = quantum.j1j2(lat, J2=0.3) + PauliSum(n, terms), quantum.SpinHilbert(n)
    psi = crbm(n, alpha=1, sign_mask=mask)
    basis = hil.states()
    lp, _, _ = direct(psi, basis)
    v = psi.sign(basis) * np.exp(lp)
    M = H.to_sparse(hil).toarray()
    if not H.is_real:
        assert np.abs(M.imag).max() > 0
    ref = (M @ v) / v
    got = local_energy(H, psi, basis, backend=backend)
    assert got.dtype == np.complex128
    assert np.allclose(got, ref, rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("sampler", ["flip", "exchange"])
def test_complex_sampler_incremental_theta_backends_threads(sampler):
    n = 8
    lat = Lattice("chain", n)
    H = quantum.transverse_field_ising(lat, h=0.8) if sampler == "flip" else quantum.heisenberg(lat)
    runs = {}
    for be, th in (("cpp", 1), ("cpp", 2), ("numba", 1)):
        core.set_num_threads(th)
        try:
            v = VMC(H, crbm(n, alpha=2, scale=0.4), n_samples=96, n_chains=6, sampler=sampler, seed=5, backend=be)
            runs[(be, th)] = v._sample_kernel(40, True)  # 40 sweeps of n moves per chain
        finally:
            core.set_num_threads(1)
    smp, eloc, O, acc, st, theta = runs[("cpp", 1)]
    assert 0 < acc.sum() < acc.size * (v.n_discard + 40 * n)
    for key in (("cpp", 2), ("numba", 1)):
        r = runs[key]
        assert np.array_equal(r[0], smp) and np.array_equal(r[3], acc) and np.array_equal(r[4], st)
        assert np.allclose(r[1], eloc, rtol=1e-12, atol=1e-12) and np.allclose(r[2], O, rtol=1e-12, atol=1e-12)
        assert np.allclose(r[5], theta, rtol=1e-12, atol=1e-12)
    psi = crbm(n, alpha=2, scale=0.4)
    flat = smp.reshape(-1)
    if sampler == "exchange":
        assert np.all(np.bitwise_count(flat) == n // 2)
    # the hidden sums updated move by move equal a recomputation from the final states
    _, th_ref, O_ref = direct(psi, st)
    assert np.allclose(theta, th_ref, rtol=1e-12, atol=1e-12)
    assert np.allclose(eloc.reshape(-1), local_energy(H, psi, flat), rtol=1e-11, atol=1e-11)
    assert np.allclose(O, direct(psi, flat)[2], rtol=1e-12, atol=1e-12)


def test_complex_sampler_samples_born_distribution():
    # |psi|^2 = exp(2 Re log psi): histogram of many samples against the exact probabilities (chi^2)
    n = 4
    psi = crbm(n, alpha=1, scale=0.6)
    H = quantum.transverse_field_ising(Lattice("chain", n), h=1.0)
    v = VMC(H, psi, n_samples=20000, n_chains=20, sampler="flip", seed=2, sweep=3)
    smp = v._sample_kernel(1000, False)[0].reshape(-1)
    basis = quantum.SpinHilbert(n).states()
    p = np.exp(2 * direct(psi, basis)[0].real)
    p /= p.sum()
    counts = np.bincount(smp.astype(np.int64), minlength=2**n)
    N = counts.sum()
    chi2 = ((counts - N * p) ** 2 / (N * p)).sum()
    # 15 degrees of freedom; mild autocorrelation (sweep 3 moves) inflates chi^2 by ~2 tau: allow 4x the mean
    assert chi2 < 4 * 15 * 2, chi2


@pytest.mark.parametrize("shape", [(300, 40), (40, 300)])
def test_complex_sr_equals_dense_solve(shape):
    N, P = shape
    rng = np.random.default_rng(1)
    O = rng.normal(size=(N, P)) + 1j * rng.normal(size=(N, P)) + 0.3
    e = rng.normal(size=N) + 1j * rng.normal(size=N)
    ec = e - e.mean()
    # S = <O* O> - <O*><O>, F = <O* E> - <O*><E>, written from the definition
    S = (O.conj().T @ O) / N - np.outer(O.mean(0).conj(), O.mean(0))
    F = (O.conj().T @ e) / N - O.mean(0).conj() * e.mean()
    ref = np.linalg.solve(S + 0.1 * np.eye(P), 2 * F)
    x = sr_solve_complex(O, ec, 0.1, mean=O.mean(0))
    assert np.allclose(x, ref, rtol=1e-9, atol=1e-11 * np.abs(ref).max())
    v = VMC(quantum.heisenberg(Lattice("chain", 4)), crbm(4), n_samples=16, n_chains=4, sampler="exchange", sr=0.1)
    O4 = O[:, : v.psi.n_params] if P >= v.psi.n_params else None
    if O4 is not None:
        S4 = (O4.conj().T @ O4) / N - np.outer(O4.mean(0).conj(), O4.mean(0))
        F4 = (O4.conj().T @ e) / N - O4.mean(0).conj() * e.mean()
        assert np.allclose(v._update_direction(O4, e), np.linalg.solve(S4 + 0.1 * np.eye(O4.shape[1]), 2 * F4))
    with pytest.raises(ValueError, match="complex128"):
        sr_solve_complex(O.real, ec, 0.1)
    with pytest.raises(ValueError, match="shift"):
        sr_solve_complex(O, ec, 0.0)


def test_complex_rbm_bad_input():
    with pytest.raises(ValueError, match="dtype"):
        RBM(4, dtype="quaternion")
    psi = crbm(4)
    with pytest.raises(ValueError, match="finite"):
        psi.params = np.full(psi.n_params, np.nan + 0j)
    with pytest.raises(ValueError, match="shape"):
        psi.params = np.zeros(psi.n_params + 1, complex)
    with pytest.raises(ValueError, match="must be real"):
        RBM(4).params = np.zeros(RBM(4).n_params, complex)
    lat = Lattice("chain", 4)
    Hc = PauliSum(4, [(1.0, "Y0")])
    with pytest.raises(ValueError, match="real operators"):
        local_energy(Hc, RBM(4), np.array([1], np.uint64))
    with pytest.raises(ValueError, match="complex RBM"):
        sample(psi, np.array([3], np.uint64), 2)
    VMC(Hc, psi, n_samples=8, n_chains=2)  # a complex operator is fine for a complex RBM
    with pytest.raises(ValueError, match="divisible"):
        VMC(quantum.heisenberg(lat), psi, n_samples=9, n_chains=2)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_complex_vmc_checkpoint_resume_bit_for_bit(tmp_path, optimizer):
    lat = Lattice("chain", 6)
    H = quantum.heisenberg(lat)

    def make():
        return VMC(H, crbm(6, scale=0.1), n_samples=64, n_chains=8, sampler="exchange", lr=0.02, seed=3,
                   optimizer=optimizer)

    full = make()
    h_full = full.run(6)
    cut = make()
    cut.run(3, checkpoint=tmp_path / "c.npz")
    resumed = make()
    h_res = resumed.run(6, checkpoint=tmp_path / "c.npz")
    assert np.array_equal(resumed.psi.params, full.psi.params)
    assert np.array_equal(h_res["energy"], h_full["energy"])
    real = VMC(H, RBM(6), n_samples=64, n_chains=8, sampler="exchange", seed=3, optimizer=optimizer)
    with pytest.raises(ValueError, match="other settings"):
        real.load(tmp_path / "c.npz")


def test_complex_vmc_heisenberg_without_sign_rule_reaches_ed():
    # the complex RBM learns the Marshall sign itself: no sign_mask
    L = 8
    lat = Lattice("chain", L)
    H = quantum.heisenberg(lat)
    e0 = quantum.ground_state(H, quantum.SpinHilbert(L, 0)).energies[0]
    psi = RBM(L, alpha=1, seed=1, scale=0.1, dtype="complex")
    vmc = VMC(H, psi, n_samples=512, n_chains=16, sampler="exchange", sr=0.01, lr=0.05, seed=0)
    vmc.run(300)
    est = vmc.estimate(4096)
    # variational: not below e0 beyond the statistics; above by at most 1e-3 relative (allowance) + 4 sigma
    assert est.value > e0 - 4 * est.error
    assert est.value - e0 < 1e-3 * abs(e0) + 4 * est.error, (est, e0)


@pytest.mark.slow
def test_complex_vmc_tfi_reaches_ed():
    L = 10
    H = quantum.transverse_field_ising(Lattice("chain", L), h=1.0)
    e0 = quantum.ground_state(H, quantum.SpinHilbert(L)).energies[0]
    psi = RBM(L, alpha=1, seed=1, scale=0.05, dtype="complex")
    vmc = VMC(H, psi, n_samples=512, n_chains=16, sampler="flip", sr=0.01, lr=0.05, seed=0)
    vmc.run(300)
    est = vmc.estimate(4096)
    assert est.value > e0 - 4 * est.error
    assert est.value - e0 < 1e-3 * abs(e0) + 4 * est.error, (est, e0)
