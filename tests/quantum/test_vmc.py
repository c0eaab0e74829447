"""RBM kernels, sampling and the VMC driver against direct NumPy, enumeration and exact diagonalisation."""

import numpy as np
import pytest

import physdl._core as core
from physdl import quantum
from physdl.geometry import Lattice
from physdl.quantum.vmc import RBM, VMC, exact_energy, local_energy, marshall_mask, sample


def spins(states, n):
    return 2.0 * ((states[:, None].astype(np.uint64) >> np.arange(n, dtype=np.uint64)) & np.uint64(1)) - 1.0


def direct_log_psi(psi, states):
    a, b, W = psi.split()
    s = spins(states, psi.n)
    return s @ a + np.log(2 * np.cosh(b + s @ W.T)).sum(axis=1)


def rbm(n, alpha=2, seed=4, scale=0.3, sign_mask=0):
    return RBM(n, alpha=alpha, seed=seed, scale=scale, sign_mask=sign_mask)


@pytest.mark.parametrize("backend", ["cpp", "numba"])
def test_amplitudes_and_log_derivs_equal_numpy(backend):
    n = 7
    psi = rbm(n)
    st = np.arange(2**n, dtype=np.uint64)
    assert np.allclose(psi.log_psi(st, backend), direct_log_psi(psi, st), atol=1e-12)
    a, b, W = psi.split()
    s = spins(st, n)
    th = b + s @ W.T
    assert np.allclose(psi.theta(st, backend), th, atol=1e-12)
    O = psi.log_derivs(st, backend)
    assert np.allclose(O, np.hstack([s, np.tanh(th), (np.tanh(th)[:, :, None] * s[:, None, :]).reshape(len(st), -1)]))
    # and against finite differences of log psi
    k = 5
    p0 = psi.params.copy()
    for idx in (0, n + 1, n + psi.m + 3):
        pp = p0.copy()
        pp[idx] += 1e-6
        psi.params = pp
        up = psi.log_psi(st[:k], backend)
        pp[idx] -= 2e-6
        psi.params = pp
        dn = psi.log_psi(st[:k], backend)
        assert np.allclose((up - dn) / 2e-6, O[:k, idx], atol=1e-6)
        psi.params = p0


@pytest.mark.parametrize("backend", ["cpp", "numba"])
def test_local_energy_equals_enumeration(backend):
    n = 8
    lat = Lattice("chain", n)
    for H, mask in ((quantum.transverse_field_ising(lat, h=0.9), 0), (quantum.heisenberg(lat), marshall_mask(lat)),
                    (quantum.j1j2(Lattice("chain", n), 1.0, 0.4), 0)):
        psi = rbm(n, sign_mask=mask)
        st = np.arange(2**n, dtype=np.uint64)
        v = psi.sign(st) * np.exp(direct_log_psi(psi, st))
        Hm = H.to_sparse(quantum.SpinHilbert(n)).toarray()
        assert np.allclose(local_energy(H, psi, st, backend), (Hm @ v) / v, rtol=1e-10, atol=1e-10)


def test_uniform_state_is_an_eigenstate_of_the_field():
    n = 6
    H = quantum.PauliSum(n, [(-0.7, f"X{i}") for i in range(n)])
    psi = RBM(n, alpha=1, scale=0.0)
    el = local_energy(H, psi, np.arange(2**n, dtype=np.uint64))
    assert np.allclose(el, -0.7 * n, atol=1e-13) and el.var() < 1e-26


@pytest.mark.parametrize("move", ["flip", "exchange"])
def test_incremental_theta_equals_recomputation_and_backends_agree(move):
    n = 10
    lat = Lattice("chain", n)
    psi = rbm(n, alpha=2, scale=0.4)
    hs = quantum.SpinHilbert(n, 0)
    st0 = hs.random_states(6, 3, 77)
    out = {}
    for backend in ("cpp", "numba"):
        smp, fin, th, acc = sample(psi, st0, 50, move=move, bonds=lat.bonds(), n_discard=7, seed=9, counter=123,
                                   backend=backend)
        assert np.allclose(th, psi.theta(fin), atol=1e-10)          # after 507 moves per chain
        assert np.array_equal(fin, smp[:, -1])
        if move == "exchange":
            assert np.all(hs.rank(smp.reshape(-1)) >= 0)              # stays in the S^z = 0 sector
        out[backend] = (smp, acc)
    assert np.array_equal(out["cpp"][0], out["numba"][0]) and np.array_equal(out["cpp"][1], out["numba"][1])
    before = core.max_threads()
    try:
        core.set_num_threads(1)
        one = sample(psi, st0, 50, move=move, bonds=lat.bonds(), n_discard=7, seed=9, counter=123)[0]
        core.set_num_threads(2)
        two = sample(psi, st0, 50, move=move, bonds=lat.bonds(), n_discard=7, seed=9, counter=123)[0]
    finally:
        core.set_num_threads(before)
    assert np.array_equal(one, two) and np.array_equal(one, out["cpp"][0])


def test_sampled_energy_equals_exact_expectation():
    n = 8
    lat = Lattice("chain", n)
    for H, move, hs, mask in ((quantum.transverse_field_ising(lat, h=0.8), "flip", quantum.SpinHilbert(n), 0),
                              (quantum.heisenberg(lat), "exchange", quantum.SpinHilbert(n, 0), marshall_mask(lat))):
        psi = rbm(n, alpha=1, scale=0.25, sign_mask=mask)
        exact = exact_energy(H, psi, hs)
        smp, _, _, _ = sample(psi, hs.random_states(32, 1, 5), 400, move=move, bonds=lat.bonds(), n_discard=200,
                              seed=2)
        from physdl.quantum.vmc import energy_estimate

        est, rhat = energy_estimate(local_energy(H, psi, smp.reshape(-1)).reshape(smp.shape))
        assert est.error > 0 and est.tau >= 0.5 and abs(rhat - 1) < 0.1
        assert abs(est.value - exact) < 4 * est.error, (est, exact)


def test_vmc_tfim_small_close_to_ed_and_checkpoint_resume(tmp_path):
    n = 8
    H = quantum.transverse_field_ising(Lattice("chain", n), h=1.0)
    e0 = quantum.ground_state(H, quantum.SpinHilbert(n)).energies[0]
    kw = dict(n_samples=256, n_chains=8, sampler="flip", sr=0.01, lr=0.05, seed=3)
    full = VMC(H, RBM(n, alpha=1, seed=1), **kw)
    hist = full.run(60)
    ck = tmp_path / "vmc.npz"
    part = VMC(H, RBM(n, alpha=1, seed=1), **kw)
    part.run(25, checkpoint=ck, checkpoint_every=5)
    resumed = VMC(H, RBM(n, alpha=1, seed=1), **kw)
    hist2 = resumed.run(60, checkpoint=ck)
    assert np.array_equal(resumed.psi.params, full.psi.params)
    assert np.array_equal(hist2["energy"], hist["energy"])
    exact = exact_energy(H, full.psi)
    assert abs(exact - e0) / abs(e0) < 5e-3
    est = full.estimate(4096)
    assert abs(est.value - exact) < 4 * est.error + 1e-9


def test_vmc_numba_equals_cpp_steps():
    n = 6
    H = quantum.heisenberg(Lattice("chain", n))
    kw = dict(n_samples=64, n_chains=4, sampler="exchange", sr=0.1, lr=0.02, seed=1)
    a = VMC(H, RBM(n, seed=2, sign_mask=marshall_mask(Lattice("chain", n))), backend="cpp", **kw)
    b = VMC(H, RBM(n, seed=2, sign_mask=marshall_mask(Lattice("chain", n))), backend="numba", **kw)
    a.run(5)
    b.run(5)
    assert np.allclose(a.psi.params, b.psi.params, rtol=1e-10, atol=1e-13)


def test_bad_input_raises():
    n = 6
    H = quantum.heisenberg(Lattice("chain", n))
    with pytest.raises(ValueError, match="alpha"):
        RBM(n, alpha=0)
    with pytest.raises(ValueError, match="alpha"):
        RBM(n, alpha=-1)
    psi = RBM(n)
    with pytest.raises(ValueError, match="finite"):
        psi.params = np.full(psi.n_params, np.nan)
    with pytest.raises(ValueError, match="divisible"):
        VMC(H, psi, n_samples=100, n_chains=16)
    with pytest.raises(ValueError, match="sampler"):
        VMC(H, psi, n_samples=64, n_chains=4, sampler="gibbs")
    with pytest.raises(ValueError, match="sites"):
        VMC(quantum.heisenberg(Lattice("chain", 8)), psi, n_samples=64, n_chains=4)
    with pytest.raises(ValueError, match="real"):
        local_energy(quantum.PauliSum(n, [(1.0, "Y0")]), psi, [0])
    with pytest.raises(ValueError, match="bits beyond"):
        psi.log_psi([1 << 10])
    with pytest.raises(ValueError, match="bonds"):
        sample(psi, [7], 3, move="exchange")
    with pytest.raises(ValueError, match="Marshall|bipartite"):
        marshall_mask(Lattice("chain", 5))
    with pytest.raises(ValueError, match="checkpoint"):
        import tempfile, os
        fd, p = tempfile.mkstemp(suffix=".npz")
        os.write(fd, b"junk")
        os.close(fd)
        VMC(H, psi, n_samples=64, n_chains=4).load(p)


@pytest.mark.slow
@pytest.mark.parametrize("model", ["heisenberg", "tfim"])
def test_vmc_l16_within_1e3_of_ed(model):
    L = 16
    lat = Lattice("chain", L)
    if model == "heisenberg":
        H, hs = quantum.heisenberg(lat), quantum.SpinHilbert(L, 0)
        psi = RBM(L, alpha=1, seed=1, sign_mask=marshall_mask(lat))
        vmc = VMC(H, psi, n_samples=1008, n_chains=16, sampler="exchange", sr=0.01, lr=0.02, seed=0)
    else:
        H, hs = quantum.transverse_field_ising(lat, h=1.0), quantum.SpinHilbert(L)
        psi = RBM(L, alpha=1, seed=1)
        vmc = VMC(H, psi, n_samples=1008, n_chains=16, sampler="flip", sr=0.01, lr=0.02, seed=0)
    e0 = quantum.ground_state(H, hs).energies[0]
    vmc.run(300)
    est = vmc.estimate(8064)
    assert abs(est.value - e0) / abs(e0) < 1e-3, (est, e0)


@pytest.mark.parametrize("n_samples", [40, 400])
def test_sr_solve_equals_dense_solve(n_samples):
    # parameter-space (N >= P) and sample-space (N < P) solves against numpy.linalg.solve
    n = 8
    psi = rbm(n, alpha=2)
    v = VMC(quantum.transverse_field_ising(Lattice("chain", n)), psi, n_samples=8, n_chains=8, sr=0.05)
    st = np.random.default_rng(1).integers(0, 2**n, size=n_samples).astype(np.uint64)
    O = psi.log_derivs(st)
    e = np.random.default_rng(2).normal(size=n_samples)
    Oc = O - O.mean(0)
    S = Oc.T @ Oc / n_samples + 0.05 * np.eye(O.shape[1])
    ref = np.linalg.solve(S, 2 * Oc.T @ (e - e.mean()) / n_samples)
    assert np.allclose(v._update_direction(O, e), ref, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("model", ["tfim", "heisenberg", "j1j2"])
def test_fused_step_kernel_equals_separate_kernels_and_numba(model):
    # one call per step (moves, samples, local energies from the live theta, O rows) against the
    # separate sampler / local-energy / log-derivative kernels, the Numba twin, and 1 vs 2 threads
    n = 8
    lat = Lattice("chain", n)
    if model == "tfim":
        H, sampler, mask = quantum.transverse_field_ising(lat, h=0.9), "flip", 0
    elif model == "heisenberg":
        H, sampler, mask = quantum.heisenberg(lat), "exchange", marshall_mask(lat)
    else:
        H, sampler, mask = quantum.j1j2(lat, J2=0.4), "exchange", 0
    runs = {}
    for be, th in (("cpp", 1), ("cpp", 2), ("numba", 1)):
        core.set_num_threads(th)
        try:
            v = VMC(H, rbm(n, alpha=2, scale=0.4, sign_mask=mask), n_samples=96, n_chains=6, sampler=sampler,
                    seed=5, backend=be)
            st0 = v.states.copy()
            runs[(be, th)] = (st0,) + v._sample_step(16, True)  # (..., new states)
        finally:
            core.set_num_threads(1)
    st0, smp, eloc, O, acc, st1 = runs[("cpp", 1)]
    for key in (("cpp", 2), ("numba", 1)):
        r = runs[key]
        assert np.array_equal(r[1], smp) and np.array_equal(r[4], acc) and np.array_equal(r[5], st1)
        assert np.allclose(r[2], eloc, rtol=1e-12, atol=1e-12) and np.allclose(r[3], O, rtol=1e-12, atol=1e-12)
    psi = rbm(n, alpha=2, scale=0.4, sign_mask=mask)
    smp2, st2, _, acc2 = sample(psi, st0, 16, move=sampler, bonds=v.bonds, sweep=v.sweep, n_discard=v.n_discard,
                                seed=5)
    assert np.array_equal(smp2, smp) and np.array_equal(st2, st1) and np.array_equal(acc2, acc)
    flat = smp.reshape(-1)
    assert np.allclose(eloc.reshape(-1), local_energy(H, psi, flat), rtol=1e-11, atol=1e-11)
    assert np.allclose(O, psi.log_derivs(flat), rtol=1e-12, atol=1e-13)
    a, b, W = psi.split()
    el_th = core.quantum_rbm_local_energy_theta(a, b, np.ascontiguousarray(W), H.core(), mask, flat, psi.theta(flat))
    assert np.allclose(el_th, local_energy(H, psi, flat), rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("shape", [(300, 40), (40, 300)])
def test_mixed_precision_sr_equals_float64_cholesky(shape):
    from physdl.quantum.vmc import sr_solve

    rng = np.random.default_rng(7)
    N, P = shape
    O = np.tanh(rng.normal(size=(N, P)) + rng.normal(size=P))
    Oc = O - O.mean(0)
    ec = rng.normal(size=N)
    ec -= ec.mean()
    ref = np.linalg.solve(Oc.T @ Oc / N + 0.1 * np.eye(P), 2 * Oc.T @ ec / N)
    with pytest.raises(ValueError, match="shift"):
        sr_solve(Oc, ec, 0.0)
    with pytest.raises(ValueError, match="ec must"):
        sr_solve(Oc, ec[:-1], 0.1)
    with pytest.raises(ValueError, match="float64"):
        sr_solve(Oc.astype(np.float32), ec, 0.1)
    for mixed in (True, False):
        x = sr_solve(Oc, ec, 0.1, mixed=mixed)
        assert np.allclose(sr_solve(O, ec, 0.1, mixed=mixed, mean=O.mean(0)), ref, rtol=1e-10, atol=1e-12 * np.abs(ref).max())
        assert np.allclose(x, ref, rtol=1e-10, atol=1e-12 * np.abs(ref).max())


def test_checkpoint_is_a_tagged_checksummed_file(tmp_path):
    from physdl.io import CorruptFileError, save_checkpoint

    n = 6
    H = quantum.transverse_field_ising(Lattice("chain", n))
    v = VMC(H, RBM(n, seed=1), n_samples=32, n_chains=4, seed=2)
    v.run(2)
    p = tmp_path / "v.npz"
    v.save(p)
    w = VMC(H, RBM(n, seed=1), n_samples=32, n_chains=4, seed=2)
    w.load(p)
    assert np.array_equal(w.psi.params, v.psi.params) and w.steps_done == 2
    other = tmp_path / "other.npz"
    save_checkpoint(other, "lattice/simulation", {}, {"x": np.zeros(2)})
    with pytest.raises(CorruptFileError, match="other.npz"):
        w.load(other)
    raw = bytearray(p.read_bytes())
    at = bytes(raw).find(v.psi.params.tobytes())     # a byte inside the stored parameters
    assert at > 0
    raw[at + 3] ^= 0xFF
    p.write_bytes(bytes(raw))
    with pytest.raises(CorruptFileError, match="v.npz"):
        w.load(p)
    with pytest.raises(ValueError, match="other settings"):
        v.save(p)
        VMC(H, RBM(n, seed=1), n_samples=64, n_chains=4, seed=2).load(p)


@pytest.mark.slow
def test_recipe_l22_reaches_1e3():
    # the recipe documented in the VMC docstring (its wall time is measured in benchmarks/bench_quantum.py)
    L = 22
    lat = Lattice("chain", L)
    H = quantum.heisenberg(lat)
    e0 = quantum.ground_state(H, quantum.SpinHilbert(L, 0)).energies[0]
    vmc = VMC(H, RBM(L, alpha=1, seed=1, sign_mask=marshall_mask(lat)), n_samples=1008, n_chains=16,
              sampler="exchange", sr=0.01, lr=0.02, seed=0)
    vmc.run(300)
    est = vmc.estimate(8064)
    assert abs(est.value - e0) / abs(e0) < 1e-3, (est, e0)
    assert abs(est.value - e0) < 1e-3 * abs(e0) + 4 * est.error


def test_vmc_optimisation_with_fast_sr_equals_dense_float64_solve(monkeypatch):
    # 40 steps at the setting scaled down (Heisenberg ring, S^z = 0, exchange moves, SR 0.1): the
    # driver's solve (float32 factor, float64 refinement, early stop) against numpy.linalg.solve of the
    # float64 S = cov(O, O) + shift in the same run; the trajectories agree to rounding
    import physdl.quantum.vmc as qvmc

    L = 12
    lat = Lattice("chain", L)
    H = quantum.heisenberg(lat)

    def dense(O, ec, shift, mean=None, mixed=True):
        Oc = O - mean
        S = Oc.T @ Oc / O.shape[0] + shift * np.eye(O.shape[1])
        return np.linalg.solve(S, 2 * Oc.T @ ec / O.shape[0])

    runs = []
    for solver in (qvmc.sr_solve, dense):
        monkeypatch.setattr(qvmc, "sr_solve", solver)
        v = VMC(H, RBM(L, alpha=1, seed=1, sign_mask=marshall_mask(lat)), n_samples=192, n_chains=8,
                sampler="exchange", sr=0.1, lr=0.02, seed=0)
        runs.append((v.run(40)["energy"], v.psi.params.copy()))
    (e1, p1), (e2, p2) = runs
    assert np.allclose(p1, p2, rtol=1e-9, atol=1e-11)
    assert np.allclose(e1, e2, rtol=1e-10, atol=1e-10)


def test_blas_threads_change_nothing_but_speed():
    # SR under a 1-thread BLAS (the default) and under whatever BLAS has: the same optimisation, bit for bit
    from threadpoolctl import threadpool_limits

    from physdl.geometry import Lattice
    from physdl.quantum import heisenberg
    from physdl.quantum.vmc import RBM, VMC, marshall_mask

    lat = Lattice("chain", 10)
    runs = []
    for bt in (1, None):
        psi = RBM(10, alpha=1, seed=3, sign_mask=marshall_mask(lat))
        vmc = VMC(heisenberg(lat), psi, n_samples=256, n_chains=8, sampler="exchange", seed=4, blas_threads=bt)
        with threadpool_limits(2):
            vmc.run(5)
        runs.append(psi.params.copy())
    assert np.array_equal(runs[0], runs[1])
    with pytest.raises(ValueError, match="blas_threads"):
        VMC(heisenberg(lat), RBM(10, seed=3), n_samples=256, n_chains=8, blas_threads=0)
