"""Ctrl-C in the energy-based, inverse and generative kernels: seen within 1 s, state left whole.

The C++ kernels (Hopfield, RBM Gibbs and training epochs, SLMC, the sparse-modelling ADMM) do not
poll for signals, so they run through ``physdl._interrupt.run_in_pieces`` like their Numba twins.
Each fixed call is checked three ways: a child process interrupted at a random moment reacts within
a second and did not finish; the result does not depend on the piece size (pieces of one unit
against the normal ones and against the other backend); and an interrupted training continues,
directly or through save and load, bit for bit as an uninterrupted one.
"""

import textwrap

import numpy as np
import pytest

import physdl._interrupt as itr
from physdl import hopfield as H
from physdl.boltzmann import RBM

from .sigint import CHILD_PRELUDE, sigint_reaction

# ---- (a) SIGINT in a child: seen within a second, the work unfinished, the object unchanged ---------
CHILD = CHILD_PRELUDE + textwrap.dedent("""
    kind, be = sys.argv[1], sys.argv[2]
    state = {}
    if kind in ("gibbs", "ais"):
        from physdl.boltzmann import RBM
        rbm = RBM(64, 64, seed=1)
        v = rbm.random_visible(64)
        rbm.gibbs(v, k=2, backend=be)
        rbm.ais(n_chains=50, n_betas=3, backend=be)
        t0 = rbm._t
        state = {"counter": lambda: rbm._t, "counter0": lambda: t0, "seed": lambda: rbm.seed}
        if kind == "gibbs":
            work = lambda: rbm.gibbs(v, k=10**8, backend=be)
        else:
            work = lambda: rbm.ais(n_chains=200, n_betas=10**7, backend=be)
    elif kind in ("hopfield", "hopfield_sync"):
        from physdl import hopfield as H
        xi = H.random_patterns(100, 1000, seed=1)
        net = H.Hopfield.from_patterns(xi)
        net.run(xi[:2], max_sweeps=2, backend=be)
        net.run_sync(xi[:2], max_steps=2, backend=be)
        # ~6 s (asynchronous) and ~25 s (synchronous) of kernel work on an idle core, after ~0.1 s
        # of input checks that the signal (sent 0.6 s after "ready") must not land in
        S = np.tile(H.random_patterns(500, 1000, seed=2), (40, 1))
        if kind == "hopfield":
            work = lambda: net.run(S, max_sweeps=50, backend=be)
        else:
            work = lambda: net.run_sync(S[:4000], max_steps=50, backend=be)
    elif kind in ("slmc_local", "slmc_cluster"):
        from physdl.slmc import SLMC, PlaquetteIsing, local_metropolis
        model = PlaquetteIsing(32)
        sl = SLMC(model, [1.1, 0.05, 0.0], 0.4)
        local_metropolis(model, 0.4, 2, 2, keep_states=False, backend=be)
        sl.run(2, 2, backend=be)
        if kind == "slmc_local":
            work = lambda: local_metropolis(model, 0.4, 10**8, 4, keep_states=False, backend=be)
        else:
            work = lambda: sl.run(10**8, 4, backend=be)
    elif kind == "spm":
        from physdl.inverse import green_function, ir_basis, semicircle, spm_continuation
        b = ir_basis(40.0, 4.0, n_tau=201, n_omega=601)
        G = green_function(b.tau, 40.0, semicircle)
        spm_continuation(b, G, 1e-4, max_iter=5, backend=be)
        # tol below any residual: the ADMM would run its 10**9 iterations
        work = lambda: spm_continuation(b, G, 1e-4, tol=1e-300, max_iter=10**9, backend=be)
    interrupted(work, **state)
""")

KINDS = [("gibbs", "cpp"), ("ais", "cpp"), ("hopfield", "cpp"), ("hopfield_sync", "cpp"), ("slmc_local", "cpp"),
         ("slmc_cluster", "cpp"), ("spm", "cpp"), ("spm", "numba")]


@pytest.mark.parametrize("kind,backend", KINDS)
def test_long_calls_see_sigint_within_a_second(kind, backend):
    dt, res = sigint_reaction(CHILD, kind, backend, delay=0.6 if kind.startswith("hopfield") else 0.3)
    assert dt < 1.0, f"SIGINT seen after {dt:.2f} s"
    if kind in ("gibbs", "ais"):  # the interrupted call leaves no trace on the machine
        assert res["counter"] == res["counter0"] and res["seed"] == 1


# ---- RBM training: interrupted in a child, saved, resumed here -------------------------------------
FIT_CHILD = CHILD_PRELUDE + textwrap.dedent("""
    from physdl.boltzmann import RBM
    path, be = sys.argv[1], sys.argv[2]
    X = (np.random.default_rng(0).random((2000, 128)) < 0.3).astype(np.float64)
    rbm = RBM(128, 128, seed=1)
    rbm.fit(X, epochs=1, batch_size=20, backend=be)  # compile / warm up outside the timed part

    def work():
        try:
            rbm.fit(X, epochs=10**6, batch_size=20, backend=be)
        finally:
            rbm.save(path)
    interrupted(work, epochs=lambda: len(rbm.history.epoch), counter=lambda: rbm._t)
""")


def _fit_data():
    return (np.random.default_rng(0).random((2000, 128)) < 0.3).astype(np.float64)


def _same_rbm(a, b):
    for name in ("W", "b", "c", "_chains", "_hchains"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert a._t == b._t
    assert a.history.epoch == b.history.epoch
    assert np.array_equal(a.history.pseudo_log_likelihood, b.history.pseudo_log_likelihood)
    assert np.array_equal(a.history.reconstruction_error, b.history.reconstruction_error)


@pytest.mark.parametrize("backend", ["cpp", "numba"])
def test_rbm_fit_sigint_within_a_second_then_resume_equals_uninterrupted(tmp_path, backend):
    path = tmp_path / "rbm.npz"
    dt, res = sigint_reaction(FIT_CHILD, path, backend)
    assert dt < 1.0, f"SIGINT seen after {dt:.2f} s"
    done = res["epochs"]
    # whole epochs only: the counter is that of `done` epochs of 100 minibatches of one Gibbs step,
    # after the two steps that started the persistent chains
    assert done >= 1 and res["counter"] == 2 + done * 100
    X = _fit_data()
    resumed = RBM.load(path)
    assert resumed._t == res["counter"] and len(resumed.history.epoch) == done
    resumed.fit(X, epochs=2, batch_size=20, backend=backend)
    ref = RBM(128, 128, seed=1).fit(X, epochs=done + 2, batch_size=20, backend=backend)
    _same_rbm(resumed, ref)


# ---- GAN training: interrupted in a child, checkpointed, resumed here ------------------------------
GAN_CHILD = CHILD_PRELUDE + textwrap.dedent("""
    from physdl import generative, nn
    path = sys.argv[1]
    G = nn.Sequential([nn.Dense(4, 16), nn.Tanh(), nn.Dense(16, 2)], seed=1)
    D = nn.Sequential([nn.Dense(2, 16), nn.Tanh(), nn.Dense(16, 1)], seed=2)
    gan = generative.WGAN(G, D, penalty=5.0, n_critic=2, seed=5)
    X = generative.ring_of_gaussians(300, seed=1).astype(np.float32)
    gan.train(X, 2, batch_size=32)

    def work():
        try:
            gan.train(X, 10**8, batch_size=32)
        finally:
            gan.save_checkpoint(path)
    interrupted(work, steps=lambda: gan.steps_done, records=lambda: len(gan.history["d_loss"]))
""")


def _wgan():
    from physdl import generative, nn
    G = nn.Sequential([nn.Dense(4, 16), nn.Tanh(), nn.Dense(16, 2)], seed=1)
    D = nn.Sequential([nn.Dense(2, 16), nn.Tanh(), nn.Dense(16, 1)], seed=2)
    return generative.WGAN(G, D, penalty=5.0, n_critic=2, seed=5)


def test_gan_train_sigint_within_a_second_then_resume_equals_uninterrupted(tmp_path):
    from physdl import generative
    path = tmp_path / "gan"
    dt, res = sigint_reaction(GAN_CHILD, path)
    assert dt < 1.0, f"SIGINT seen after {dt:.2f} s"
    done = res["steps"]
    assert done >= 2 and res["records"] == done  # every step done is recorded, none half done
    X = generative.ring_of_gaussians(300, seed=1).astype(np.float32)
    resumed = _wgan()
    h = resumed.train(X, done + 3, batch_size=32, checkpoint=path)
    ref = _wgan()
    h_ref = ref.train(X, done + 3, batch_size=32)
    assert resumed.steps_done == ref.steps_done == done + 3
    np.testing.assert_array_equal(resumed.G.params, ref.G.params)
    np.testing.assert_array_equal(resumed.D.params, ref.D.params)
    for k in h_ref.history:
        assert h[k] == h_ref[k]


# ---- (b) results do not depend on the piece size ----------------------------------------------------
def _ebm_runs(be):
    from physdl.slmc import SLMC, PlaquetteIsing, local_metropolis
    xi = H.random_patterns(6, 48, seed=3)
    s0 = H.random_patterns(9, 48, seed=4)
    net = H.Hopfield.from_patterns(xi)  # integer couplings
    a = net.run(s0, seed=5, record_steps=True, backend=be)
    netf = H.Hopfield(H.hebb(xi) + 0.01 * H.spin_glass_couplings(48, seed=1), tie="keep")  # float couplings
    af = netf.run(s0, seed=5, record_steps=True, backend=be)
    s = netf.run_sync(s0, backend=be)
    rbm = RBM(7, 5, units="spin", seed=6, init_std=0.7)
    v0 = rbm.random_visible(20)
    v, h = rbm.gibbs(v0, k=7, backend=be)
    vs, hs = rbm.sample(5, k=4, backend=be)
    model = PlaquetteIsing(6)
    la = local_metropolis(model, 0.4, 30, 3, seed=9, keep_states=False, backend=be)
    lb = SLMC(model, [1.1, 0.05, 0.0], 0.4).run(40, 3, seed=9, start=la.states, n_clusters=2, backend=be)
    out = [a.states, a.energy, a.energy_steps, a.sweeps, a.flips, af.states, af.energy_steps, af.sweeps, af.flips,
           s.states, s.previous, s.steps, s.period, v, h, vs, hs, rbm._t]
    return out + [la.energy, la.magnetization, la.states, la.acceptance,
                  lb.energy, lb.magnetization, lb.cluster_size, lb.states, lb.acceptance]


def test_ebm_kernels_do_not_depend_on_the_piece_size(monkeypatch):
    whole = _ebm_runs("cpp")
    monkeypatch.setattr(itr, "PIECE_SECONDS", 1e-12)  # pieces of one chain / one step / one sweep
    for be in ("cpp", "numba"):
        cut = _ebm_runs(be)
        for i, (x, y) in enumerate(zip(whole, cut)):
            assert np.array_equal(x, y), (be, i)


def _fit(be, method, dt, X, epochs=3):
    r = RBM(16, 10, seed=3, init_std=0.1, dtype=dt)
    return r.fit(X.astype(dt), epochs=epochs, learning_rate=0.05, batch_size=20, k=2, method=method, backend=be)


@pytest.mark.parametrize("method", ["pcd", "cd"])
def test_rbm_fit_does_not_depend_on_the_piece_size(monkeypatch, method):
    X = (np.random.default_rng(0).random((200, 16)) < 0.5).astype(np.float64)
    for dt in (np.float64, np.float32):
        whole = {be: _fit(be, method, dt, X) for be in ("cpp", "numba")}
        with monkeypatch.context() as m:
            m.setattr(itr, "PIECE_SECONDS", 1e-12)  # pieces of one minibatch
            cut = {be: _fit(be, method, dt, X) for be in ("cpp", "numba")}
        for be in ("cpp", "numba"):
            _same_rbm(whole[be], cut[be])
        # the twin draws the same chains; its products round differently (NumPy's matmul)
        a, b = whole["cpp"], whole["numba"]
        assert a._t == b._t and np.array_equal(a._chains, b._chains) and np.array_equal(a._hchains, b._hchains)
        np.testing.assert_allclose(a.W, b.W, rtol=0, atol=1e-5 if dt == np.float32 else 1e-12)


# ---- (c) an interrupt inside an epoch: rolled back to the epoch's start, resumed bit for bit ---------
def _raise_on_call(monkeypatch, name, n):
    """Make the kernel getter ``physdl.boltzmann.<name>`` return a kernel that runs the real piece
    and then raises KeyboardInterrupt on its ``n``-th call (a SIGINT landing after that piece)."""
    import physdl.boltzmann as B
    real = getattr(B, name)
    calls = [0]

    def getter(*args):
        kernel = real(*args)

        def wrapped(*a):
            kernel(*a)
            calls[0] += 1
            if calls[0] == n:
                raise KeyboardInterrupt
        return wrapped
    monkeypatch.setattr(B, name, getter)
    return calls


@pytest.mark.parametrize("backend,method", [("cpp", "pcd"), ("cpp", "cd"), ("numba", "pcd")])
def test_rbm_fit_interrupted_mid_epoch_resumes_bit_for_bit(monkeypatch, tmp_path, backend, method):
    X = (np.random.default_rng(1).random((80, 12)) < 0.4).astype(np.float64)
    kw = dict(learning_rate=0.1, batch_size=20, k=2, method=method, backend=backend)  # 4 minibatches an epoch
    ref = RBM(12, 6, seed=2, init_std=0.2).fit(X, epochs=4, **kw)
    for via_file in (False, True):
        with monkeypatch.context() as m:
            m.setattr(itr, "PIECE_SECONDS", 1e-12)  # one minibatch a piece
            _raise_on_call(m, "_epoch_kernel", 10)  # the second minibatch of the third epoch
            r = RBM(12, 6, seed=2, init_std=0.2)
            with pytest.raises(KeyboardInterrupt):
                r.fit(X, epochs=4, **kw)
        assert r.history.epoch == [0, 1]
        two = RBM(12, 6, seed=2, init_std=0.2).fit(X, epochs=2, **kw)
        _same_rbm(r, two)  # exactly as after two whole epochs
        if via_file:
            r.save(tmp_path / "r.npz")
            r = RBM.load(tmp_path / "r.npz")
        r.fit(X, epochs=2, **kw)
        _same_rbm(r, ref)


CALLS = {
    "gibbs": lambda r, X: r.gibbs(X[:6], k=9),
    "sample": lambda r, X: r.sample(4, k=5),
    "cd_gradient": lambda r, X: r.cd_gradient(X[:10], k=3, persistent=True),
    "ais": lambda r, X: r.ais(n_chains=20, n_betas=12, seed=7),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_rbm_sampling_interrupted_leaves_no_trace(monkeypatch, name):
    X = (np.random.default_rng(1).random((30, 8)) < 0.4).astype(np.float64)
    call = CALLS[name]
    r, ref = (RBM(8, 5, seed=4, init_std=0.5).fit(X, epochs=1, batch_size=10) for _ in range(2))
    before = (r._t, r.seed, r._chains.copy(), r._hchains.copy(), r.W.copy(), r.c.copy())
    with monkeypatch.context() as m:
        m.setattr(itr, "PIECE_SECONDS", 1e-12)
        calls = _raise_on_call(m, "_gibbs_kernel", 3)  # after the third Gibbs step
        with pytest.raises(KeyboardInterrupt):
            call(r, X)
    assert calls[0] == 3
    after = (r._t, r.seed, r._chains, r._hchains, r.W, r.c)
    assert before[:2] == after[:2] and all(np.array_equal(x, y) for x, y in zip(before[2:], after[2:]))
    # the call again: as if the interrupted attempt had not happened
    got, want = call(r, X), call(ref, X)
    if name == "ais":
        assert (got.value, got.error) == (want.value, want.error)
    else:
        assert all(np.array_equal(x, y) for x, y in zip(got, want))
    assert r._t == ref._t and np.array_equal(r._chains, ref._chains)


def test_fully_visible_bm_interrupted_between_whole_steps(monkeypatch):
    from physdl.boltzmann import FullyVisibleBM
    s = np.where(np.random.default_rng(2).random((50, 6)) < 0.6, 1, -1)
    bm = FullyVisibleBM(6)
    real, calls = bm.moments, [0]

    def moments():
        calls[0] += 1
        if calls[0] == 4:
            raise KeyboardInterrupt
        return real()
    monkeypatch.setattr(bm, "moments", moments)
    with pytest.raises(KeyboardInterrupt):
        bm.fit(s, steps=10)
    ref = FullyVisibleBM(6).fit(s, steps=3)
    assert bm.steps_done == ref.steps_done == 3
    assert np.array_equal(bm.J, ref.J) and np.array_equal(bm.h, ref.h)


# ---- the sparse-modelling ADMM in pieces of iterations ---------------------------------------------
@pytest.fixture(scope="module")
def spm_problem():
    from physdl.inverse import add_noise, green_function, ir_basis, semicircle
    b = ir_basis(40.0, 4.0, n_tau=201, n_omega=201)
    return b, add_noise(green_function(b.tau, 40.0, semicircle), 1e-4, seed=1)


def test_spm_admm_does_not_depend_on_the_piece_size(monkeypatch, spm_problem):
    import physdl.inverse.continuation as C
    from physdl.inverse import _numba, spm_continuation
    from physdl.inverse._blas import core_inverse
    b, G = spm_problem
    gp, _ = C._project(b, G)
    a = np.ascontiguousarray(b.v.T @ np.sqrt(b.w_omega))
    v = np.ascontiguousarray(b.v)
    never_sure = lambda *args: False  # noqa: E731  every piece end is decided by the kernel's rerun
    stopped_early = 0
    for be, kernel in (("cpp", core_inverse().spm_admm), ("numba", _numba.spm_admm)):
        for lam, tol, max_iter in ((1e-2, 1e-5, 3000), (1e-6, 1e-4, 3000), (1e-9, 1e-8, 400)):
            st = [np.zeros(b.size), np.zeros(b.size), np.zeros(b.size), np.zeros(v.shape[0]), np.zeros(v.shape[0]),
                  np.array([1.0, 1.0, 0.0])]
            it = kernel(v, b.s, gp, a, lam, st[5], *st[:5], tol, max_iter)  # one call, as before the pieces
            stopped_early += it < max_iter
            for seconds, screen in ((0.02, C._clearly_unconverged), (1e-12, C._clearly_unconverged),
                                    (1e-12, never_sure), (0.002, never_sure)):
                with monkeypatch.context() as m:
                    m.setattr(itr, "PIECE_SECONDS", seconds)
                    m.setattr(C, "_clearly_unconverged", screen)
                    r = spm_continuation(b, G, lam, tol=tol, max_iter=max_iter, backend=be)
                assert r.n_iter == it, (be, lam, seconds)
                assert all(np.array_equal(x, y) for x, y in zip(r.state, st)), (be, lam, seconds)
    assert stopped_early >= 4  # the stopping test was met inside the runs, not only max_iter
