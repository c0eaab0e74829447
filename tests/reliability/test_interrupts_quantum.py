"""Ctrl-C in the quantum and tensor-network kernels: seen within 1 s, results independent of the cut,
and drivers (VMC, DMRG) left exactly as after whole steps / sweeps, resuming bit for bit.

(a) a child process runs a long call and is sent SIGINT (``sigint.sigint_reaction``);
(b) with pieces of one unit (``PIECE_SECONDS = 1e-12``, one thread) every kernel gives what one
    direct kernel call gives, bit for bit, on both backends;
(c) an interrupt in the middle of a VMC step or a DMRG sweep (a kernel raising KeyboardInterrupt on
    its N-th call), then continuing, equals an uninterrupted run bit for bit.
"""

import importlib
import textwrap

import numpy as np
import pytest

import physdl
import physdl._core as core
from physdl import _interrupt, _pieces, quantum
from physdl.geometry import Lattice
from physdl.quantum import _numba as qnb
from physdl.quantum import hilbert as qhilbert
from physdl.quantum import vmc as qvmc
from physdl.quantum.vmc import RBM, VMC, local_energy, sample
from physdl.tensornet import Batched, Expression, Sliced, dmrg, heisenberg_mpo

from .sigint import CHILD_PRELUDE, sigint_reaction

dmrg_mod = importlib.import_module("physdl.tensornet.dmrg")  # the module (the package exports the function)


@pytest.fixture
def one_unit(monkeypatch):
    """Pieces of a single unit: one thread (the C++ piece multiple) and a zero duration target."""
    th = physdl.get_num_threads()
    monkeypatch.setattr(_interrupt, "PIECE_SECONDS", 1e-12)
    physdl.set_num_threads(1)
    yield
    physdl.set_num_threads(th)


def counting(monkeypatch, owner, name):
    """Wrap ``owner.name`` to count its calls; returns the list of call sizes."""
    calls = []
    f = getattr(owner, name)

    def wrapped(*a, **k):
        calls.append(1)
        return f(*a, **k)

    monkeypatch.setattr(owner, name, wrapped)
    return calls


def same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b)) and len(a) == len(b)


# ---------------------------------------------------------------------------- (a) SIGINT
def child(body):
    return CHILD_PRELUDE + textwrap.dedent(body)


VMC_CHILD = child("""
    from physdl import quantum
    from physdl.geometry import Lattice
    from physdl.quantum.vmc import RBM, VMC
    be = sys.argv[1]
    lat = Lattice("chain", 16)
    def make(chains, sweep):
        return VMC(quantum.heisenberg(lat), RBM(16, alpha=1, seed=1, scale=0.1), n_samples=4 * chains,
                   n_chains=chains, sampler="exchange", sweep=sweep, n_discard=0, lr=0.01, backend=be)
    make(16, 4).step()  # compile / load the kernels
    v = make(4096, 20_000)  # one step: 3.3e8 moves, 8e4 a chain
    interrupted(v.step, steps=lambda: v.steps_done, counter=lambda: v.counter,
                history=lambda: len(v.history["energy"]))
""")

SAMPLE_CHILD = child("""
    from physdl.quantum.vmc import RBM, sample
    be = sys.argv[1]
    psi = RBM(16, alpha=1, seed=1, scale=0.1)
    st = np.arange(16384, dtype=np.uint64)
    sample(psi, st[:32], 2, sweep=4, backend=be)
    interrupted(lambda: sample(psi, st, 4, sweep=1000, backend=be))  # 6.6e7 moves, 4e3 a chain
""")

ELOC_CHILD = child("""
    from physdl import quantum
    from physdl.geometry import Lattice
    from physdl.quantum.vmc import RBM, local_energy
    be = sys.argv[1]
    H = quantum.heisenberg(Lattice("chain", 16))
    psi = RBM(16, alpha=2, seed=1, scale=0.1)
    s = np.random.default_rng(0).integers(0, 2**16, 10_000_000 if be == "cpp" else 5_000_000).astype(np.uint64)
    local_energy(H, psi, s[:10], backend=be)
    interrupted(lambda: local_energy(H, psi, s, backend=be))
""")

CSR_CHILD = child("""
    from physdl import quantum
    from physdl.geometry import Lattice
    be = sys.argv[1]
    L = 24
    H = quantum.heisenberg(Lattice("chain", L))
    quantum.heisenberg(Lattice("chain", 4)).to_sparse(quantum.SpinHilbert(4, 0), backend=be)
    hs = quantum.SpinHilbert(L, 0)
    basis = hs.states(be)
    interrupted(lambda: H.to_sparse(hs, backend=be))  # 2.7e6 rows, 3.5e7 elements: seconds
""")

ED_ELOC_CHILD = child("""
    from physdl import quantum
    from physdl.geometry import Lattice
    be = sys.argv[1]
    L = 24
    H = quantum.heisenberg(Lattice("chain", L))
    hs = quantum.SpinHilbert(L, 0)
    v = np.random.default_rng(0).normal(size=hs.dim)
    quantum.local_energies(H, v, hs, states=hs.states()[:10], backend=be)
    interrupted(lambda: quantum.local_energies(H, v, hs, backend=be))  # 2.7e6 states, 25 flip groups
""")

BATCHED_CHILD = child("""
    from physdl.tensornet import Expression, Sliced
    be = sys.argv[1]
    L, D = 16, 48
    rng = np.random.default_rng(0)
    A = [rng.normal(size=(1 if i == 0 else D, 2, 1 if i == L - 1 else D)) / D ** 0.5 for i in range(L)]
    letters = "abcdefghijklmnopqrstuvwxyz"
    subs = ",".join(letters[i] + letters[i + 1] for i in range(L)) + "->" + letters[0] + letters[L]
    expr = Expression(subs, *[(a.shape[0], a.shape[2]) for a in A])
    n = 400_000 if be == "cpp" else 200_000
    conf = rng.integers(0, 2, size=(n, L))
    ops = lambda m: [Sliced(A[i], (1,), conf[:m, i:i + 1]) for i in range(L)]
    expr.batched(*ops(10), backend=be)
    interrupted(lambda: expr.batched(*ops(n), backend=be))
""")

DMRG_CHILD = child("""
    from physdl.tensornet import dmrg, heisenberg_mpo
    seen = []
    dmrg(heisenberg_mpo(6), bond_dims=4, sweeps=1)
    def cb(sw, r):
        seen.append(r)
    def state():
        r = seen[-1] if seen else None
        return {"sweeps": len(r.energies) if r else 0, "bonds": [int(b) for b in r.mps.bonds] if r else []}
    interrupted(lambda: dmrg(heisenberg_mpo(60), bond_dims=[16, 32, 48, 64], sweeps=10_000, tol=1e-300,
                             callback=cb, variance=True), result=state)
""")


@pytest.mark.parametrize("backend", ["cpp", "numba"])
@pytest.mark.parametrize("case", ["vmc", "sample", "local_energy", "csr", "ed_local_energies", "batched"])
def test_sigint_reaction_within_a_second(case, backend):
    src = {"vmc": VMC_CHILD, "sample": SAMPLE_CHILD, "local_energy": ELOC_CHILD, "csr": CSR_CHILD,
           "ed_local_energies": ED_ELOC_CHILD, "batched": BATCHED_CHILD}[case]
    dt, res = sigint_reaction(src, backend, delay=0.3)
    assert dt < 1.0, f"{case} ({backend}) reacted to SIGINT after {dt:.2f} s"
    if case == "vmc":  # the step did not land: nothing of the driver changed
        assert res["steps"] == 0 and res["counter"] == 0 and res["history"] == 0


def test_sigint_reaction_dmrg():
    dt, res = sigint_reaction(DMRG_CHILD, delay=0.5)
    assert dt < 1.0, f"DMRG reacted to SIGINT after {dt:.2f} s"
    r = res["result"]
    assert r["sweeps"] == 0 or len(r["bonds"]) == 59


# ---------------------------------------------------------------------------- (b) the cut does not matter
def vmc_setup(n=8, sampler="exchange"):
    lat = Lattice("chain", n)
    H = quantum.heisenberg(lat) if sampler == "exchange" else quantum.transverse_field_ising(lat, h=0.9)
    return H, RBM(n, alpha=2, seed=4, scale=0.4)


@pytest.mark.parametrize("sampler", ["exchange", "flip"])
def test_vmc_sampler_in_pieces_equals_one_kernel_call(one_unit, monkeypatch, sampler):
    H, psi = vmc_setup(sampler=sampler)
    got = {}
    for be in ("cpp", "numba"):
        v = VMC(H, psi, n_samples=96, n_chains=6, sampler=sampler, seed=5, backend=be)
        with monkeypatch.context() as mp:
            calls = counting(mp, core if be == "cpp" else qnb,
                             "quantum_rbm_vmc_sample" if be == "cpp" else "rbm_vmc_sample")
            got[be] = v._sample_step(16, True)
        assert len(calls) == 6  # one chain a piece
    # one direct call of each kernel
    a, b, W = psi.split()
    W = np.ascontiguousarray(W)
    bonds = v.bonds if v.bonds is not None else np.zeros((1, 2), np.int64)
    mv = 0 if sampler == "flip" else 1
    s0 = qvmc.streams.stream("quantum", qvmc.CHAIN_STREAM0)
    st = v.states.copy()
    ref = core.quantum_rbm_vmc_sample(a, b, W, H.core(), 0, mv, bonds, st, 16, v.sweep, v.n_discard, 5, s0, 0, True)
    assert same(got["cpp"], ref + (st,))
    st2 = v.states.copy()
    smp, el, acc = np.zeros((6, 16), np.uint64), np.zeros((6, 16)), np.zeros(6, np.int64)
    O = np.zeros((96, psi.n_params))
    qnb.rbm_vmc_sample(a, b, W, *H.numba_args(), np.uint64(0), mv, bonds, st2, 16, v.sweep, v.n_discard,
                       np.uint64(5), np.uint64(s0), np.uint64(0), True, smp, el, O, acc)
    assert same(got["numba"], (smp, el, O, acc, st2))
    # the two backends: the same chains (integers exactly; values to the last bits of libm)
    c, nb_ = got["cpp"], got["numba"]
    assert np.array_equal(c[0], nb_[0]) and np.array_equal(c[3], nb_[3]) and np.array_equal(c[4], nb_[4])
    assert np.allclose(c[1], nb_[1], rtol=1e-12, atol=1e-12) and np.allclose(c[2], nb_[2], rtol=1e-12, atol=1e-12)


def test_sample_local_energy_and_amplitudes_in_pieces_equal_one_call(one_unit):
    H, psi = vmc_setup()
    a, b, W = psi.split()
    W = np.ascontiguousarray(W)
    st = np.array([3, 5, 6, 9, 10, 12, 17, 129], np.uint64)
    bonds = np.array([[i, (i + 1) % 8] for i in range(8)], np.int64)
    s0 = qvmc.streams.stream("quantum", qvmc.CHAIN_STREAM0)
    st_ref = st.copy()
    ref = core.quantum_rbm_sample(a, b, W, 1, bonds, st_ref, 5, 3, 7, 2, s0, 11)
    res = {}
    for be in ("cpp", "numba"):
        res[be] = sample(psi, st, 5, move="exchange", bonds=bonds, sweep=3, n_discard=7, seed=2, counter=11,
                         backend=be)
        smp, st1, th, acc = res[be]
        assert np.array_equal(smp, ref[0]) and np.array_equal(st1, st_ref) and np.array_equal(acc, ref[2])
    assert np.array_equal(res["cpp"][2], ref[1])
    assert np.allclose(res["numba"][2], ref[1], rtol=1e-12, atol=1e-12)
    flat = res["cpp"][0].reshape(-1)
    e_ref = core.quantum_rbm_local_energy(a, b, W, H.core(), 0, flat)
    assert np.array_equal(local_energy(H, psi, flat, backend="cpp"), e_ref)
    e_nb = np.empty(flat.size)
    qnb.rbm_local_energy(a, b, W, *H.numba_args(), np.uint64(0), flat, e_nb)
    assert np.array_equal(local_energy(H, psi, flat, backend="numba"), e_nb)
    for kernel, shape in (("log_psi", ()), ("theta", (psi.m,)), ("log_derivs", (psi.n_params,))):
        assert np.array_equal(getattr(psi, kernel)(flat, backend="cpp"),
                              getattr(core, "quantum_rbm_" + kernel)(a, b, W, flat))
        out = np.empty((flat.size,) + shape)
        getattr(qnb, "rbm_" + kernel)(a, b, W, flat, out)
        assert np.array_equal(getattr(psi, kernel)(flat, backend="numba"), out)


@pytest.mark.parametrize("n,total_sz", [(10, 0), (8, None)])
def test_ed_build_in_pieces_equals_one_call(one_unit, monkeypatch, n, total_sz):
    monkeypatch.setattr(qhilbert, "LEAF_STATES", 7)  # many blocks of the basis
    hs = quantum.SpinHilbert(n, total_sz)
    H = quantum.heisenberg(Lattice("chain", n)) + 0.3 * quantum.transverse_field_ising(Lattice("chain", n), h=0.0)
    basis = core.quantum_sector_states(n, hs.n_up)
    assert len(qhilbert._leaves(n, hs.n_up, 7)) > 20
    for be in ("cpp", "numba"):
        assert np.array_equal(hs.states(be), basis)
        assert np.array_equal(hs.rank(basis[::-1], backend=be), core.quantum_rank(basis[::-1], n, hs.n_up))
        conn, mel, counts = H.connected(basis, backend=be)
        c_ref, re, im, n_ref = core.quantum_connected(H.core(), basis)
        assert np.array_equal(conn, c_ref) and np.array_equal(mel, re + 1j * im) and np.array_equal(counts, n_ref)
    ip, ind, re, im = core.quantum_csr(H.core(), basis, hs.n_up)
    calls = counting(monkeypatch, core, "quantum_csr")
    for be in ("cpp", "numba"):
        M = H.to_sparse(hs, backend=be)
        assert len(calls) == hs.dim  # one row a block (numba: its count and fill kernels, in place)
        assert np.array_equal(M.indptr, ip) and np.array_equal(M.indices, ind) and np.array_equal(M.data, re)
    # ED local energies in blocks of one state equal the whole basis at once
    v = np.random.default_rng(1).normal(size=hs.dim)
    from physdl.quantum.ed import _local_energies

    whole = _local_energies(H, v, hs, basis, "cpp")
    for be in ("cpp", "numba"):
        assert np.array_equal(quantum.local_energies(H, v, hs, backend=be), whole)


def test_csr_leaving_the_sector_still_raises(one_unit):
    H = quantum.PauliSum(4, [(1.0, "X0 X1"), (1.0, "X2 X3"), (0.5, "Z0 Z1")])
    hs = quantum.SpinHilbert(4, 0)
    for be in ("cpp", "numba"):
        with pytest.raises(ValueError, match="does not conserve"):
            H.to_sparse(hs, backend=be)


def mps_network(L=6, D=4, seed=0):
    rng = np.random.default_rng(seed)
    A = [rng.normal(size=(1 if i == 0 else D, 2, 1 if i == L - 1 else D)) for i in range(L)]
    letters = "abcdefghijklmnopqrstuvwxyz"
    subs = ",".join(letters[i] + letters[i + 1] for i in range(L)) + "->" + letters[0] + letters[L]
    return A, Expression(subs, *[(a.shape[0], a.shape[2]) for a in A])


def test_batched_in_pieces_equals_one_call(one_unit):
    L = 6
    A, expr = mps_network(L)
    rng = np.random.default_rng(2)
    conf = rng.integers(0, 2, size=(13, L))
    X = rng.normal(size=(13, 4, 4))
    ops = [Sliced(A[i], (1,), conf[:, i:i + 1]) for i in range(L)]
    ops[2] = Batched(X)  # a batched operand among the sliced ones
    # C++: one direct call of the program
    items = [(A[i], False, [1], np.ascontiguousarray(conf[:, i:i + 1])) for i in range(L)]
    items[2] = (X, True, [], None)
    prog = expr._program()
    ref = prog.execute(items, 13, "float64", True).reshape(13, 1, 1)

    class Counted:  # the program, counting its calls
        def __init__(self):
            self.calls = 0

        def execute(self, *a):
            self.calls += 1
            return prog.execute(*a)

    expr._programs["p"] = counted = Counted()
    try:
        assert np.array_equal(expr.batched(*ops), ref)
    finally:
        expr._programs["p"] = prog
    assert counted.calls == 13  # one sample a block
    # a shared operand (steps on shared inputs are redone in every block)
    ops2 = list(ops)
    ops2[3], ops2[4] = A[3][:, 0], A[4][:, 1]
    items2 = list(items)
    items2[3], items2[4] = (A[3][:, 0], False, [], None), (A[4][:, 1], False, [], None)
    ref2 = expr._program().execute(items2, 13, "float64", True).reshape(13, 1, 1)
    assert np.array_equal(expr.batched(*ops2), ref2)
    # Numba: one run of the network with a sample hyperedge on the same path
    for o in (ops, ops2):
        blocks = expr.batched(*o, backend="numba")
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(_interrupt, "PIECE_SECONDS", 1e9)
            mp.setattr(_pieces, "_RATE", {("tensornet.batched.numba", id(expr), tuple(
                "b" if isinstance(x, Batched) else "s" if isinstance(x, Sliced) else "p" for x in o)): 1e9})
            whole = expr.batched(*o, backend="numba")
        assert np.array_equal(blocks, whole)
        assert np.allclose(blocks, expr.batched(*o), rtol=1e-12, atol=1e-12)
    # a later call with another number of samples plans its own network (it used to reuse a stale one)
    first5 = [Sliced(A[i], (1,), conf[:5, i:i + 1]) for i in range(L)]
    five = expr.batched(*first5, backend="numba")
    assert five.shape == (5, 1, 1) and np.allclose(five, expr.batched(*first5), rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------- (c) interrupt, then continue
class Raiser:
    """Wrap a function so that its ``at``-th call raises KeyboardInterrupt (before or after running)."""

    def __init__(self, f, at, after=False):
        self.f, self.at, self.after, self.n = f, at, after, 0

    def __call__(self, *a, **k):
        self.n += 1
        if self.n == self.at and not self.after:
            raise KeyboardInterrupt
        r = self.f(*a, **k)
        if self.n == self.at:
            raise KeyboardInterrupt
        return r


def vmc_state(v):
    return ([v.psi.params, v.states, v._m, v._v, np.array([v.counter, v.steps_done])]
            + [np.array(v.history[k]) for k in sorted(v.history)])


def make_vmc(backend, optimizer):
    H, _ = vmc_setup()
    return VMC(H, RBM(8, alpha=2, seed=4, scale=0.4), n_samples=48, n_chains=6, sampler="exchange", seed=3,
               lr=0.02, sr=0.05, optimizer=optimizer, backend=backend)


@pytest.mark.parametrize("backend,optimizer,where", [
    ("cpp", "sgd", "sr"), ("numba", "adam", "sr"), ("cpp", "adam", "kernel"), ("numba", "sgd", "kernel"),
    ("cpp", "sgd", "history")])
def test_vmc_interrupted_mid_step_then_continued_equals_uninterrupted(monkeypatch, tmp_path, backend, optimizer,
                                                                      where):
    ref = make_vmc(backend, optimizer)
    ref.run(6)
    v = make_vmc(backend, optimizer)
    v.run(2)
    before = vmc_state(v)
    with monkeypatch.context() as mp:
        if where == "sr":  # after the samples of step 3, in the SR solve
            mp.setattr(qvmc, "sr_solve", Raiser(qvmc.sr_solve, 1, after=True))
        elif where == "kernel":  # between two blocks of chains of step 3
            mp.setattr(_interrupt, "PIECE_SECONDS", 1e-12)
            if backend == "cpp":
                mp.setattr(core, "quantum_rbm_vmc_sample", Raiser(core.quantum_rbm_vmc_sample, 3))
            else:
                mp.setattr(qnb, "rbm_vmc_sample", Raiser(qnb.rbm_vmc_sample, 3))
        else:  # while the step's records are written (the update is held until they all land)
            mp.setattr(qvmc, "energy_estimate", Raiser(qvmc.energy_estimate, 1, after=True))
        with pytest.raises(KeyboardInterrupt):
            v.run(6, checkpoint=tmp_path / "c", checkpoint_every=1)
    assert same(vmc_state(v), before)  # exactly as after two whole steps
    v.save(tmp_path / "c")
    w = make_vmc(backend, optimizer)  # save + load, then continue
    w.run(6, checkpoint=tmp_path / "c")
    v.run(6)  # continue in place
    assert same(vmc_state(v), vmc_state(ref))
    assert same(vmc_state(w), vmc_state(ref))


def test_vmc_estimate_interrupted_leaves_chains_and_counter(monkeypatch):
    v = make_vmc("numba", "sgd")
    v.run(1)
    before = vmc_state(v)
    with monkeypatch.context() as mp:
        mp.setattr(_interrupt, "PIECE_SECONDS", 1e-12)
        mp.setattr(qnb, "rbm_vmc_sample", Raiser(qnb.rbm_vmc_sample, 4))
        with pytest.raises(KeyboardInterrupt):
            v.estimate(600)
    assert same(vmc_state(v), before)


def mps_tensors(m):
    return [np.asarray(t) for t in m.tensors]


@pytest.mark.parametrize("where", ["bond", "variance"])
def test_dmrg_interrupted_mid_sweep_keeps_last_sweep_and_resumes(monkeypatch, tmp_path, where):
    mpo = heisenberg_mpo(8)
    kw = dict(bond_dims=[4, 8], sweeps=4, tol=1e-300, seed=3)
    full = dmrg(mpo, **kw)
    two = dmrg(mpo, **dict(kw, sweeps=2))
    seen = []
    path = tmp_path / "d"
    with monkeypatch.context() as mp:
        if where == "bond":  # the 6th bond update of sweep 3 (14 bond updates a sweep)
            mp.setattr(dmrg_mod, "_lowest", Raiser(dmrg_mod._lowest, 2 * 14 + 6))
        else:  # the variance after sweep 3
            mp.setattr(dmrg_mod, "_variance", Raiser(dmrg_mod._variance, 3))
        with pytest.raises(KeyboardInterrupt):
            dmrg(mpo, checkpoint=path, callback=lambda sw, r: seen.append(r), **kw)
    r = seen[-1]  # what a caller holds: the state and the records of the same two sweeps
    assert len(r.energies) == 2 and len(r.variances) == 2
    assert r.energies == two.energies and r.variances == two.variances and r.bond_dims == two.bond_dims
    assert same(mps_tensors(r.mps), mps_tensors(two.mps))
    res = dmrg(mpo, checkpoint=path, **kw)  # resume from the checkpoint of sweep 2
    assert res.energies == full.energies and res.variances == full.variances
    assert res.truncation_errors == full.truncation_errors
    assert same(mps_tensors(res.mps), mps_tensors(full.mps))
