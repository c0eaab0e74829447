import itertools

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

import physdl
from physdl.boltzmann import RBM, FullyVisibleBM


def brute(rbm):
    """log Z, p(v, h) and all (v, h) by direct enumeration of the joint energy (independent of the class)."""
    lo = -1 if rbm.units == "spin" else 0
    V = np.array(list(itertools.product((lo, 1), repeat=rbm.n_visible)), float)
    Hs = np.array(list(itertools.product((lo, 1), repeat=rbm.n_hidden)), float)
    W, b, c = rbm.W.astype(float), rbm.b.astype(float), rbm.c.astype(float)
    E = -(V @ b)[:, None] - (Hs @ c)[None, :] - V @ W @ Hs.T
    return logsumexp(-E), np.exp(-E - logsumexp(-E)), V, Hs


def machine(units, nv=5, nh=4, seed=1, std=0.7):
    rbm = RBM(nv, nh, units=units, seed=seed, init_std=std)
    g = np.random.default_rng(seed)
    rbm.set_parameters(rbm.W, 0.5 * g.normal(size=nv), 0.5 * g.normal(size=nh))
    return rbm


@pytest.mark.parametrize("units", ["binary", "spin"])
def test_exact_sums_equal_brute_force(units):
    for nv, nh in ((5, 4), (4, 7)):  # enumerate the visible layer, then the hidden one
        rbm = machine(units, nv, nh)
        logZ, p, V, Hs = brute(rbm)
        assert abs(rbm.log_partition() - logZ) < 1e-10
        # free energy: F(v) = -log sum_h exp(-E(v, h))
        W, b, c = rbm.W, rbm.b, rbm.c
        F = np.array([-logsumexp([-(-(v @ b) - h @ c - v @ W @ h) for h in Hs]) for v in V])
        np.testing.assert_allclose(rbm.free_energy(V), F, atol=1e-10)
        # pseudo-likelihood against direct conditional sums
        pv = p.sum(axis=1)
        idx = {tuple(v): i for i, v in enumerate(V)}
        lo = V.min()
        direct = []
        for v in V[:6]:
            t = 0.0
            for i in range(nv):
                w = v.copy()
                w[i] = lo + 1 - w[i]
                t += np.log(pv[idx[tuple(v)]] / (pv[idx[tuple(v)]] + pv[idx[tuple(w)]]))
            direct.append(t)
        np.testing.assert_allclose(rbm.pseudo_log_likelihood(V[:6]), direct, atol=1e-10)
        # exact gradient: data phase - model phase against brute-force moments
        data = V[[0, 3, 3, 5]]
        dW, db, dc = rbm.exact_gradient(data)
        eh = np.tanh(c + V @ W) if units == "spin" else 1 / (1 + np.exp(-(c + V @ W)))
        pos = data.T @ (np.tanh(c + data @ W) if units == "spin" else 1 / (1 + np.exp(-(c + data @ W)))) / 4
        neg = np.einsum("vh,vi,hj->ij", p, V, Hs)
        np.testing.assert_allclose(dW, pos - neg, atol=1e-10)
        np.testing.assert_allclose(db, data.mean(0) - pv @ V, atol=1e-10)
        assert eh.shape == (V.shape[0], nh)


@pytest.mark.parametrize("units", ["binary", "spin"])
def test_gibbs_matches_exact_distribution(units, cpu_backend):
    rbm = machine(units, 4, 3, seed=2, std=0.8)
    _, p, V, Hs = brute(rbm)
    v, h = rbm.sample(20000, k=25, backend=cpu_backend)
    lo = rbm._lo
    iv = ((v == 1) * (1 << np.arange(3, -1, -1))).sum(1)
    ih = ((h == 1) * (1 << np.arange(2, -1, -1))).sum(1)
    counts = np.bincount(iv * 8 + ih, minlength=128)
    expected = p.reshape(-1) * v.shape[0]  # V, Hs in itertools order = binary digits
    assert lo in (0, -1)
    chi2, pval = stats.chisquare(counts, expected)
    assert pval > 1e-3, (chi2, pval)


@pytest.mark.parametrize("units", ["binary", "spin"])
def test_ais_within_three_errors(units, cpu_backend):
    rbm = machine(units, 8, 10, seed=3, std=0.6)
    est = rbm.ais(n_chains=500, n_betas=500, seed=4, backend=cpu_backend)
    exact = brute(rbm)[0]
    assert est.error > 0
    assert abs(est.value - exact) < 3 * est.error, (est, exact)


def test_cd_k_approaches_exact_gradient():
    rbm = machine("binary", 6, 4, seed=5, std=1.5)
    g = np.random.default_rng(0)
    data = (g.random((500, 6)) < np.linspace(0.2, 0.8, 6)).astype(float)
    exact = rbm.exact_gradient(data)[0]
    dist, se = {}, {}
    for k in (1, 3, 30):
        reps = np.array([rbm.cd_gradient(np.tile(data, (4, 1)), k=k)[0] for _ in range(12)])
        mean = reps.mean(0)
        err = reps.std(0, ddof=1) / np.sqrt(len(reps))
        dist[k] = np.abs(mean - exact).max()
        se[k] = err.max()
    assert dist[1] > dist[3] > dist[30]
    assert dist[1] > 6 * se[1]           # CD-1 is biased
    assert dist[30] < 4.5 * se[30]       # CD-30 is not, within its errors


def test_cpp_equals_numba_and_threads(threads):
    for dt in (np.float64, np.float32):
        rbm = RBM(7, 5, units="spin", dtype=dt, seed=6, init_std=0.7)
        v0 = rbm.random_visible(300)
        out = []
        for be, nt in (("cpp", 1), ("cpp", 2), ("numba", 1)):
            physdl.set_num_threads(nt)
            rbm._t = 10
            out.append(rbm.gibbs(v0, k=5, backend=be))
        for v, h in out[1:]:
            assert np.array_equal(v, out[0][0]) and np.array_equal(h, out[0][1])


def test_fit_cd_and_pcd_raise_likelihood(tmp_path):
    g = np.random.default_rng(3)
    proto = np.array([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]], float)
    data = proto[g.integers(0, 2, 400)]
    flip = g.random(data.shape) < 0.05
    data = np.abs(data - flip)
    for method in ("cd", "pcd"):
        rbm = RBM(6, 3, seed=1, init_std=0.1)
        ll0 = rbm.log_likelihood(data)
        rbm.fit(data, epochs=30, learning_rate=0.1, batch_size=20, k=1, method=method)
        assert rbm.log_likelihood(data) > ll0 + 1.0
        assert rbm.history.pseudo_log_likelihood[-1] > rbm.history.pseudo_log_likelihood[0]
    # checkpoint and resume continue the same run as an uninterrupted fit
    a = RBM(6, 3, seed=2)
    a.fit(data, epochs=4, learning_rate=0.1, batch_size=20, method="pcd")
    b = RBM(6, 3, seed=2)
    b.fit(data, epochs=2, learning_rate=0.1, batch_size=20, method="pcd", checkpoint=tmp_path / "m.npz")
    c = RBM.load(tmp_path / "m.npz")
    c.fit(data, epochs=2, learning_rate=0.1, batch_size=20, method="pcd")
    np.testing.assert_array_equal(a.W, c.W)
    assert c.history.epoch == [0, 1, 2, 3]


def _ising(L, T, n, seed):
    from physdl.geometry import Lattice
    from physdl.lattice import Ising, Simulation

    X = Simulation(Ising((L, L)), T=T, update="wolff", seed=seed).configurations(n, every=2, burn_in=200)
    X = X.reshape(n, -1).astype(np.float64)
    bonds = Lattice("square", (L, L)).bonds()

    def obs(S):
        return -(S[:, bonds[:, 0]] * S[:, bonds[:, 1]]).sum(1) / L**2, np.abs(S.mean(1))

    return X, obs


def test_rbm_on_ising_reproduces_energy_and_magnetisation():
    # Torlai and Melko's test (PRB 94, 165134) on a 4x4 torus at T = 2.5
    X, obs = _ising(4, 2.5, 4000, seed=3)
    rbm = RBM(16, 32, units="spin", seed=1, init_std=0.1)
    for lr, ep in ((0.05, 30), (0.01, 20), (0.002, 10)):  # a decreasing learning rate ends the SGD noise
        rbm.fit(X, epochs=ep, learning_rate=lr, batch_size=100, k=5, method="pcd", n_chains=200, monitor=False)
    v, _ = rbm.sample(4000, k=100)
    for d, s in zip(obs(X), obs(v.astype(float))):
        err = np.hypot(d.std() / np.sqrt(d.size), s.std() / np.sqrt(s.size))
        assert abs(d.mean() - s.mean()) < 3 * err, (d.mean(), s.mean(), err)


def test_fully_visible_moment_matching():
    # data from a known machine (exact samples); the fit matches the data moments and its likelihood
    # is at least the generator's (maximum likelihood)
    gen = FullyVisibleBM(5)
    g = np.random.default_rng(1)
    J = g.normal(scale=0.4, size=(5, 5))
    gen.J = np.triu(J, 1) + np.triu(J, 1).T
    gen.h = g.normal(scale=0.3, size=5)
    data = gen.sample_exact(5000, seed=2)
    fit = FullyVisibleBM(5).fit(data, steps=3000, learning_rate=0.2)
    m1, m2 = fit.moments()
    s = data.astype(float)
    np.testing.assert_allclose(m1, s.mean(0), atol=1e-6)
    off = ~np.eye(5, dtype=bool)
    np.testing.assert_allclose(m2[off], (s.T @ s / len(s))[off], atol=1e-6)
    assert fit.log_likelihood(data) >= gen.log_likelihood(data) - 1e-9
    # and the couplings agree with the generator's within sampling noise
    assert np.abs(fit.J - gen.J).max() < 0.1


def test_bad_input():
    rbm = RBM(4, 3)
    with pytest.raises(ValueError, match="\\{0, 1\\}"):
        rbm.fit(np.full((10, 4), 2.0))
    with pytest.raises(ValueError, match="finite"):
        rbm.free_energy(np.array([[0, 1, np.nan, 1]]))
    with pytest.raises(ValueError, match="k must be"):
        rbm.gibbs(np.zeros((2, 4)), k=0)
    with pytest.raises(ValueError, match="learning_rate"):
        rbm.fit(np.zeros((10, 4)), learning_rate=0.0)
    with pytest.raises(ValueError, match="learning_rate"):
        rbm.fit(np.zeros((10, 4)), learning_rate=-1.0)
    with pytest.raises(ValueError, match="shape"):
        rbm.free_energy(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="\\{-1, \\+1\\}"):
        RBM(4, 3, units="spin").free_energy(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="units"):
        RBM(4, 3, units="ising")
    with pytest.raises(ValueError, match="<= 20"):
        RBM(30, 30).log_partition()
    with pytest.raises(ValueError, match="test_rbm.py is not a readable physdl checkpoint"):
        RBM.load(__file__)


@pytest.mark.parametrize("units", ["binary", "spin"])
def test_fused_epoch_cpp_numba_threads(units, threads):
    # the one-call epoch: same chains (every Bernoulli draw) on cpp 1/2 threads and Numba; the
    # weights agree to rounding (the twin's products go through NumPy's matmul, not the same GEMM)
    g = np.random.default_rng(0)
    lo = 0 if units == "binary" else -1
    for dt in (np.float64, np.float32):
        X = np.where(g.random((300, 20)) < 0.5, 1, lo).astype(dt)
        for method in ("pcd", "cd"):
            out = []
            for be, nt in (("cpp", 1), ("cpp", 2), ("numba", 1)):
                physdl.set_num_threads(nt)
                r = RBM(20, 12, units=units, dtype=dt, seed=3, init_std=0.1)
                r.fit(X, epochs=2, learning_rate=0.05, batch_size=30, k=2, method=method, monitor=False, backend=be)
                out.append(r)
            a = out[0]
            assert np.array_equal(a.W, out[1].W) and np.array_equal(a.b, out[1].b)
            tol = 1e-5 if dt == np.float32 else 1e-12
            for r in out[1:]:
                np.testing.assert_allclose(r.W, a.W, rtol=0, atol=tol)
                np.testing.assert_allclose(r.c, a.c, rtol=0, atol=tol)
                if method == "pcd":
                    assert np.array_equal(r._chains, a._chains) and np.array_equal(r._hchains, a._hchains)


def test_fused_epoch_equals_numpy_reference():
    # one PCD-1 minibatch by hand in NumPy (float64, exact sigmoid) against the fused kernel: the
    # chain draws are taken from the kernel's own output, the update is recomputed independently
    g = np.random.default_rng(1)
    X = (g.random((40, 9)) < 0.5).astype(np.float64)
    r = RBM(9, 7, seed=2, init_std=0.3)
    r.fit(X, epochs=1, learning_rate=0.1, batch_size=40, method="pcd", monitor=False)  # sets up chains
    W0, b0, c0, h0 = r.W.copy(), r.b.copy(), r.c.copy(), r._hchains.copy()
    order = np.argsort(uniform_shuffle(r, 40, epoch=1), kind="stable")
    r.fit(X, epochs=1, learning_rate=0.1, batch_size=40, method="pcd", monitor=False)
    vm = r._chains  # v ~ P(v | h0) drawn by the kernel
    sig = lambda a: 1.0 / (1.0 + np.exp(-a))
    pv = sig(h0 @ W0.T + b0)
    assert np.all((vm == 1) | (vm == 0)) and 0.2 < np.mean(vm == (pv > 0.5)) <= 1.0
    vd = X[order]
    pd, pm = sig(vd @ W0 + c0), sig(vm @ W0 + c0)
    np.testing.assert_allclose(r.W, W0 + 0.1 * (vd.T @ pd - vm.T @ pm) / 40, atol=1e-12)
    np.testing.assert_allclose(r.b, b0 + 0.1 * (vd.mean(0) - vm.mean(0)), atol=1e-12)
    np.testing.assert_allclose(r.c, c0 + 0.1 * (pd.mean(0) - pm.mean(0)), atol=1e-12)


def uniform_shuffle(r, n, epoch):
    from physdl.boltzmann import _SHUFFLE, _stream
    from physdl.random import uniform
    return uniform(n, seed=r.seed, stream=_stream(_SHUFFLE), offset=epoch * n)


@pytest.mark.slow
def test_torlai_melko_thermodynamics_several_temperatures():
    # energy, |m| and specific heat of the RBM's samples against the Monte Carlo data at three
    # temperatures (below, at and above T_c of the infinite lattice), within 3 jackknife errors
    from physdl.boltzmann.thermo import ising_thermodynamics
    for T in (1.8, 2.27, 3.0):
        r = ising_thermodynamics(4, T, n=4000, seed=0)
        for key in ("energy", "|m|", "C"):
            d, s = r["data"][key], r["rbm"][key]
            assert abs(d.value - s.value) < 3 * np.hypot(d.error, s.error), (T, key, d, s)
        assert r["data"]["C"].value > 0.3  # the observable is not trivially small


_ISA_SCRIPT = """
import hashlib
import numpy as np
import physdl
from physdl.boltzmann import RBM
g = np.random.default_rng(4)
digest = hashlib.sha256()
for units, lo in (("binary", 0), ("spin", -1)):
    for dt in (np.float64, np.float32):
        X = np.where(g.random((240, 37)) < 0.5, 1, lo).astype(dt)
        for method in ("pcd", "cd"):
            for nt in (1, 2):
                physdl.set_num_threads(nt)
                r = RBM(37, 19, units=units, dtype=dt, seed=5, init_std=0.2)
                r.fit(X, epochs=2, learning_rate=0.05, batch_size=40, k=2, method=method, monitor=False,
                      backend="cpp")
                for a in (r.W, r.b, r.c) + ((r._chains, r._hchains) if method == "pcd" else ()):
                    digest.update(np.ascontiguousarray(a).tobytes())
print(digest.hexdigest())
"""


def test_every_vector_path_gives_the_same_epoch():
    # the one-call epoch's Philox rows and sigmoids exist as scalar, AVX2 and AVX-512 code (picked at
    # load from PHYSDL_EBM_ISA, hence fresh interpreters); all must give the same bits, on 1 and 2
    # threads, with 37 visible and 19 hidden units so that every vector loop has a remainder
    import os
    import subprocess
    import sys

    if not physdl.backends()["cpp"].available:
        pytest.skip("needs the cpp backend")
    digests = []
    for isa in ("scalar", "avx2", None):
        env = dict(os.environ)
        env.pop("PHYSDL_EBM_ISA", None)
        if isa is not None:
            env["PHYSDL_EBM_ISA"] = isa
        proc = subprocess.run([sys.executable, "-c", _ISA_SCRIPT], env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        digests.append(proc.stdout.strip())
    assert len(digests[0]) == 64
    assert digests[0] == digests[1] == digests[2]


@pytest.mark.parametrize("dt", [np.float64, np.float32])
@pytest.mark.parametrize("method", ["pcd", "cd"])
def test_checkpoint_resume_bit_for_bit(tmp_path, dt, method):
    # fit 4 epochs == fit 2 (checkpoint after each), load, fit 2: parameters, chains, Philox counter
    # and history identical, for both precisions and both methods
    g = np.random.default_rng(8)
    X = (g.random((200, 12)) < 0.4).astype(dt)
    kw = dict(learning_rate=0.05, batch_size=20, k=2, method=method, monitor=X[:50])
    a = RBM(12, 7, dtype=dt, seed=4, init_std=0.1).fit(X, epochs=4, **kw)
    b = RBM(12, 7, dtype=dt, seed=4, init_std=0.1).fit(X, epochs=2, checkpoint=tmp_path / "rbm", **kw)
    c = RBM.load(tmp_path / "rbm")  # ".npz" appended on save, found on load
    assert c.dtype == np.dtype(dt) and c._t == b._t
    c.fit(X, epochs=2, **kw)
    for name in ("W", "b", "c", "_chains", "_hchains"):
        x, y = getattr(a, name), getattr(c, name)
        assert (x is None and y is None) or (x.dtype == y.dtype and np.array_equal(x, y)), name
    assert a._t == c._t and a.seed == c.seed
    assert c.history.epoch == a.history.epoch == [0, 1, 2, 3]
    assert c.history.pseudo_log_likelihood == a.history.pseudo_log_likelihood
    assert c.history.reconstruction_error == a.history.reconstruction_error


def test_checkpoint_refused_naming_the_file(tmp_path):
    from physdl.io import CorruptFileError, save_checkpoint
    r = RBM(6, 3, seed=1).fit((np.arange(60).reshape(10, 6) % 3 == 0).astype(float), epochs=1, batch_size=5)
    p = tmp_path / "m.npz"
    r.save(p)
    good = p.read_bytes()
    p.write_bytes(good[: len(good) // 2])  # truncated
    with pytest.raises(CorruptFileError, match="m.npz"):
        RBM.load(p)
    import zipfile
    W = r.W.copy()
    W[0, 0] += 1.0  # edited: same layout, other numbers, the old checksum
    p.write_bytes(good)
    with zipfile.ZipFile(tmp_path / "edited.npz", "w") as z, zipfile.ZipFile(p) as src:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "W.npy":
                i = data.index(r.W.tobytes())
                data = data[:i] + W.tobytes() + data[i + W.nbytes:]
            z.writestr(info, data)
    with pytest.raises(CorruptFileError, match="edited.npz: checksum mismatch"):
        RBM.load(tmp_path / "edited.npz")
    save_checkpoint(tmp_path / "other", "hopfield/network", {}, {"J": np.zeros((2, 2))})
    with pytest.raises(CorruptFileError, match="other.npz holds 'hopfield/network', not 'boltzmann/rbm'"):
        RBM.load(tmp_path / "other.npz")
    with pytest.raises(FileNotFoundError, match="missing"):
        RBM.load(tmp_path / "missing")


def test_fit_blas_threads_limit_changes_nothing_but_speed(threads):
    """One BLAS thread with the kernel's loops on two threads, the default (BLAS on the core's two
    threads, the loops on one) and two BLAS threads with one core thread train the same machine bit
    for bit, at a size where the kernel's loops are threaded; the core's thread count is restored."""
    from threadpoolctl import threadpool_info

    rng = np.random.default_rng(3)
    X = (rng.random((400, 200)) < 0.3).astype(np.float32)
    out = []
    for nt, bt in ((2, 1), (2, None), (1, 2)):
        physdl.set_num_threads(nt)
        r = RBM(200, 160, units="binary", dtype=np.float32, seed=5)
        r.fit(X, epochs=2, batch_size=100, monitor=False, blas_threads=bt)
        assert physdl.get_num_threads() == nt
        out.append((r.W.copy(), r.b.copy(), r.c.copy(), r._chains.copy()))
    for o in out[1:]:
        for a, b in zip(out[0], o):
            assert np.array_equal(a, b)
    assert any(i["user_api"] == "blas" for i in threadpool_info())
    with pytest.raises(ValueError, match="blas_threads"):
        RBM(200, 8, units="binary").fit(X, epochs=1, blas_threads=0)
