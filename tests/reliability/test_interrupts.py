"""Ctrl-C inside long kernels: seen within 1 s, and the chain stays exactly as after whole sweeps.

Each case runs a chain in a subprocess, sends it SIGINT at a random moment, lets it save, then
resumes the saved chain here and compares it bit for bit with an uninterrupted run of the same
number of sweeps.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import zlib

import numpy as np
import pytest

from physdl import lattice

CHILD = textwrap.dedent("""
    import json, sys, time
    from physdl import lattice
    path, backend, update, storage, L, mode = sys.argv[1:7]
    L = int(L)
    sim = lattice.Simulation(lattice.Ising((L, L)), T=2.4, update=update, storage=storage, seed=11,
                             backend=backend)
    sim.run(2)  # compile / pilot outside the timed part
    print("ready", flush=True)
    try:
        if mode == "configurations":
            sim.configurations(1, every=10**9)
        else:
            sim.run(10**9 - 2)
    except KeyboardInterrupt:
        t = time.time()
        sim.save(path)
        print(json.dumps({"done": sim.sweeps_done, "t": t}), flush=True)
""")

CASES = [
    ("cpp", "metropolis", "byte", 32, "run"),
    ("cpp", "wolff", "byte", 24, "run"),
    ("cpp", "heat_bath", "multispin", 32, "run"),
    ("numba", "metropolis", "byte", 16, "run"),
    ("numba", "heat_bath", "byte", 64, "run"),
    ("numba", "wolff", "byte", 24, "run"),
    ("numba", "swendsen_wang", "byte", 24, "run"),
    ("numba", "metropolis", "multispin", 32, "run"),
    ("cpp", "metropolis", "byte", 256, "configurations"),
    ("numba", "metropolis", "byte", 128, "configurations"),
]


def interrupt_child(tmp_path, backend, update, storage, L, mode, delay):
    path = tmp_path / "chain.npz"
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(path), backend, update, storage, str(L), mode],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        time.sleep(delay)
        sent = time.time()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    res = json.loads(out.strip().splitlines()[-1])
    return path, res["done"], res["t"] - sent


@pytest.mark.parametrize("backend,update,storage,L,mode", CASES)
def test_sigint_then_resume_equals_uninterrupted(tmp_path, backend, update, storage, L, mode):
    # a fixed delay per case (str hashes change from process to process; crc32 does not)
    delay = float(np.random.default_rng(zlib.crc32(f"{backend}-{update}-{L}".encode())).uniform(0.05, 0.6))
    path, done, reaction = interrupt_child(tmp_path, backend, update, storage, L, mode, delay)
    # the C++ kernels poll every 2 ms; the Numba twins run in calls of ~20 ms (physdl._interrupt.run_in_pieces)
    assert reaction < 1.0, f"SIGINT seen after {reaction:.2f} s"
    assert done >= 2
    resumed = lattice.Simulation.load(path)
    assert resumed.sweeps_done == done
    extra = 7
    resumed.run(extra)
    ref = lattice.Simulation(lattice.Ising((L, L)), T=2.4, update=update, storage=storage, seed=11, backend=backend)
    ref.run(2)
    ref.run(done + extra - 2)
    assert ref.sweeps_done == resumed.sweeps_done
    assert ref.cluster == resumed.cluster
    np.testing.assert_array_equal(ref.spins, resumed.spins)


def test_wolff_pilot_interrupt_leaves_no_trace(monkeypatch):
    """An interrupt inside the Wolff pilot leaves spins and counters as they were."""
    sim = lattice.Simulation(lattice.Ising((16, 16)), T=2.3, update="wolff", seed=2, backend="cpp")
    before = sim.spins, sim.cluster
    calls = {"n": 0}
    orig = lattice.Simulation._wolff

    def flaky(self, *a):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return orig(self, *a)

    monkeypatch.setattr(lattice.Simulation, "_wolff", flaky)
    with pytest.raises(KeyboardInterrupt):
        sim.run(5)
    np.testing.assert_array_equal(sim.spins, before[0])
    assert (sim.cluster, sim.sweeps_done, sim.clusters_per_sweep) == (before[1], 0, None)


def test_run_in_pieces_bounds_each_call_and_covers_the_work():
    """Pieces cover [0, total) in order, are multiples of `multiple`, and settle near the target time."""
    from physdl._interrupt import run_in_pieces

    seen = []

    def step(start, count):
        seen.append((start, count, time.perf_counter()))
        time.sleep(count * 1e-4)  # 0.1 ms per unit

    run_in_pieces(step, 3000, first=1, multiple=3, target=0.01)
    starts = [a for a, _, _ in seen]
    counts = [c for _, c, _ in seen]
    assert starts[0] == 0 and sum(counts) == 3000
    assert all(a + c == b for (a, c, _), b in zip(seen, starts[1:]))
    assert all(c % 3 == 0 for c in counts[:-1])
    # the 0.01 s target is 100 units; growth is at most 4x a call, so no call exceeds ~4 targets
    assert max(counts) <= 400
    assert max(counts[5:-1]) >= 60


def test_run_in_pieces_raises_after_a_whole_piece():
    """A SIGINT arriving inside a piece is raised once the piece has finished."""
    from physdl._interrupt import run_in_pieces

    done = []

    def step(start, count):
        if start == 4:
            signal.raise_signal(signal.SIGINT)
        done.append(count)

    with pytest.raises(KeyboardInterrupt):
        run_in_pieces(step, 100, first=4, target=1e-9)
    assert done == [4, 1]  # the interrupted piece (start 4) completed, no later one ran


DYN_CHILD = textwrap.dedent("""
    import json, sys, time
    import numpy as np
    from physdl import dynamics
    backend = sys.argv[1]
    q = np.linspace(0.1, 1.0, 4000).reshape(-1, 1)
    dynamics.integrate("pendulum", "leapfrog", q[:2], np.zeros((2, 1)), dt=0.01, steps=10, backend=backend)
    q0, p0 = np.random.default_rng(0).uniform(-0.3, 0.3, (2, 2000, 2))
    dynamics.henon_heiles_lyapunov(q0[:1], p0[:1], time=1.0)
    dynamics.lorenz_lyapunov(time=1.0, transient=0.0)
    print("ready", flush=True)
    try:
        if sys.argv[2] == "integrate":
            dynamics.integrate("pendulum", "leapfrog", q, np.zeros_like(q), dt=0.01, steps=200000,
                               record_every=200000, backend=backend)
        elif sys.argv[2] == "lorenz":
            dynamics.lorenz_lyapunov(time=10.0**6)  # 10^8 RK4 steps of one trajectory in one kernel call
        else:
            dynamics.henon_heiles_lyapunov(q0, p0, time=20000.0)
        print(json.dumps({"t": None}), flush=True)
    except KeyboardInterrupt:
        print(json.dumps({"t": time.time()}), flush=True)
""")


@pytest.mark.parametrize("backend,what", [("numba", "integrate"), ("cpp", "integrate"), ("cpp", "henon_heiles"),
                                          ("cpp", "lorenz")])
def test_sigint_inside_a_long_integrate_is_seen_within_a_second(backend, what):
    """dynamics.integrate and the Lyapunov scans run in ~20 ms calls over blocks of states; the single
    Lorenz trajectory polls the signal flag inside its kernel."""
    from .sigint import sigint_reaction

    reaction, res = sigint_reaction(DYN_CHILD, backend, what)
    assert res["t"] is not None, "the run finished before the signal: make it longer"
    assert reaction < 1.0, f"SIGINT seen after {reaction:.2f} s"


def test_dynamics_results_do_not_depend_on_the_piece_size(monkeypatch):
    import physdl._interrupt as itr
    from physdl import dynamics

    rng = np.random.default_rng(1)
    q, p = rng.uniform(-1, 1, (2, 30, 1))
    h0, h1 = rng.uniform(-0.3, 0.3, (2, 6, 2))

    def run():
        a = dynamics.integrate("pendulum", "yoshida4", q.copy(), p.copy(), dt=0.01, steps=50, record_every=5,
                               backend="cpp")
        b = dynamics.standard_map_lyapunov(q[:, 0], p[:, 0], K=1.5, iterations=300, transient=10)
        c = dynamics.henon_heiles_lyapunov(h0, h1, time=20.0)
        return [*a, b, c]

    whole = run()
    monkeypatch.setattr(itr, "PIECE_SECONDS", 1e-12)  # one state per call
    cut = run()
    assert all(np.array_equal(x, y) for x, y in zip(whole, cut))


# ---- Numba twins of the energy-based kernels: bounded pieces, results independent of the cut ------
EBM_CHILD = textwrap.dedent("""
    import sys, time
    import numpy as np
    from physdl import hopfield as H
    from physdl.boltzmann import RBM
    kind = sys.argv[1]
    if kind == "hopfield":
        xi = H.random_patterns(40, 400, seed=1)
        net = H.Hopfield.from_patterns(xi)
        net.run(xi[:2], max_sweeps=2, backend="numba")  # compile outside the timed part
        work = lambda: net.run(H.random_patterns(200000, 400, seed=2), max_sweeps=50, backend="numba")
    elif kind == "slmc":
        from physdl.slmc import PlaquetteIsing, SLMC, local_metropolis
        model = PlaquetteIsing(32)
        local_metropolis(model, 0.4, 2, 2, keep_states=False, backend="numba")
        sl = SLMC(model, [1.1, 0.05, 0.0], 0.4)
        sl.run(2, 2, backend="numba")
        work = lambda: (local_metropolis(model, 0.4, 10**7, 4, keep_states=False, backend="numba")
                        if sys.argv[2] == "local" else sl.run(10**7, 4, backend="numba"))
    else:
        rbm = RBM(64, 64, seed=1)
        v = rbm.random_visible(64)
        rbm.gibbs(v, k=2, backend="numba")
        work = lambda: rbm.gibbs(v, k=10**8, backend="numba")
    print("ready", flush=True)
    try:
        work()
        print("finished", flush=True)
    except KeyboardInterrupt:
        print(time.time(), flush=True)
""")


@pytest.mark.parametrize("kind,variant", [("hopfield", ""), ("rbm", ""), ("slmc", "local"), ("slmc", "cluster")])
def test_ebm_numba_twins_see_sigint_within_a_second(kind, variant):
    proc = subprocess.Popen([sys.executable, "-c", EBM_CHILD, kind, variant], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        time.sleep(0.3)
        sent = time.time()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    last = out.strip().splitlines()[-1]
    assert last != "finished"
    assert float(last) - sent < 1.0, f"SIGINT seen after {float(last) - sent:.2f} s"


def test_ebm_numba_results_do_not_depend_on_the_piece_size(monkeypatch):
    import physdl._interrupt as itr
    from physdl import hopfield as H
    from physdl.boltzmann import RBM
    from physdl.slmc import SLMC, PlaquetteIsing, local_metropolis

    xi = H.random_patterns(6, 48, seed=3)
    net = H.Hopfield.from_patterns(xi)
    s0 = H.random_patterns(9, 48, seed=4)
    rbm = RBM(7, 5, units="spin", seed=6, init_std=0.7)
    v0 = rbm.random_visible(20)
    t0 = rbm._t

    def everything():
        rbm._t = t0
        a = net.run(s0, seed=5, record_steps=True, backend="numba")
        s = net.run_sync(s0, backend="numba")
        v, h = rbm.gibbs(v0, k=7, backend="numba")
        return a, s, v, h, rbm._t

    model = PlaquetteIsing(6)

    def slmc_runs():
        a = local_metropolis(model, 0.4, 30, 3, seed=9, keep_states=False, backend="numba")
        b = SLMC(model, [1.1, 0.05, 0.0], 0.4).run(40, 3, seed=9, start=a.states, n_clusters=2, backend="numba")
        return a, b

    whole = everything()
    sw = slmc_runs()
    monkeypatch.setattr(itr, "PIECE_SECONDS", 1e-12)  # pieces of one chain / one Gibbs step / one sweep
    cut = everything()
    sc = slmc_runs()
    monkeypatch.undo()
    a0 = local_metropolis(model, 0.4, 30, 3, seed=9, keep_states=False, backend="cpp")
    b0 = SLMC(model, [1.1, 0.05, 0.0], 0.4).run(40, 3, seed=9, start=a0.states, n_clusters=2, backend="cpp")
    for a, b in (sw, sc):
        for x, y in ((a, a0), (b, b0)):
            assert np.array_equal(x.energy, y.energy) and np.array_equal(x.states, y.states)
            assert np.array_equal(x.magnetization, y.magnetization)
            assert np.array_equal(x.acceptance, y.acceptance)
        assert np.array_equal(b.cluster_size, b0.cluster_size)
    cpp = net.run(s0, seed=5, record_steps=True, backend="cpp")
    for r in (whole[0], cut[0]):
        assert np.array_equal(r.states, cpp.states) and np.array_equal(r.energy_steps, cpp.energy_steps)
        assert np.array_equal(r.sweeps, cpp.sweeps) and np.array_equal(r.flips, cpp.flips)
    assert np.array_equal(whole[1].states, cut[1].states) and np.array_equal(whole[1].period, cut[1].period)
    assert np.array_equal(whole[2], cut[2]) and np.array_equal(whole[3], cut[3])
    assert whole[4] == cut[4] == t0 + 7


def test_numba_nn_step_lands_whole_when_sigint_arrives_inside_it(monkeypatch):
    """A SIGINT raised inside a Numba training step is acted on after the step, never half way."""
    from physdl import nn

    def model():
        return nn.Sequential([nn.Dense(6, 16), nn.Tanh(), nn.Dense(16, 3)], seed=4, backend="numba")

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(32, 6)), rng.normal(size=(32, 3))
    ref = model()
    ref.train_step(X, y, "mse", nn.Adam(1e-2))
    net = model()
    opt = nn.Adam(1e-2)
    engine = net._engine
    orig = engine.train_values

    def interrupted(*a, **k):
        os.kill(os.getpid(), signal.SIGINT)  # the handler would run at the next bytecode
        time.sleep(0.01)
        return orig(*a, **k)

    monkeypatch.setattr(engine, "train_values", interrupted)
    with pytest.raises(KeyboardInterrupt):
        net.train_step(X, y, "mse", opt)
    assert np.array_equal(np.asarray(net.params), np.asarray(ref.params))


# ---- parallel tempering: kernel rounds in pieces of bounded duration -------------------------------
PT_CHILD = textwrap.dedent("""
    import json, sys, time
    from physdl import lattice
    path, backend, update = sys.argv[1:4]
    pt = lattice.ParallelTempering(lattice.Ising((24, 24)), [0.3, 0.38, 0.44, 0.52], update=update, seed=5,
                                   backend=backend, exchange_every=2)
    pt.run(3)  # compile / Wolff pilots outside the timed part
    print("ready", flush=True)
    try:
        pt.run(3 * 10**6)
        print("finished", flush=True)
    except KeyboardInterrupt:
        t = time.time()
        pt.save(path)
        print(json.dumps({"t": t, "rounds": pt.rounds}), flush=True)
""")


@pytest.mark.parametrize("backend,update", [("cpp", "metropolis"), ("numba", "metropolis"), ("numba", "wolff")])
def test_parallel_tempering_sigint_within_a_second_then_resume_equals_uninterrupted(tmp_path, backend, update):
    from .sigint import sigint_reaction

    path = tmp_path / "pt.npz"
    reaction, res = sigint_reaction(PT_CHILD, path, backend, update, delay=0.4)
    assert reaction < 1.0, f"SIGINT seen after {reaction:.2f} s"
    done = res["rounds"]
    assert done > 3
    resumed = lattice.ParallelTempering.load(path)
    resumed.run(4)
    ref = lattice.ParallelTempering(lattice.Ising((24, 24)), [0.3, 0.38, 0.44, 0.52], update=update, seed=5,
                                    backend=backend, exchange_every=2)
    ref.run(3)
    ref.run(done - 3 + 4)
    assert ref.rounds == resumed.rounds
    for a, b in zip(ref.replicas, resumed.replicas):
        np.testing.assert_array_equal(a.spins, b.spins)
        assert (a.sweeps_done, a.cluster) == (b.sweeps_done, b.cluster)
    np.testing.assert_array_equal(ref.accepted, resumed.accepted)
    np.testing.assert_array_equal(ref.attempted, resumed.attempted)


@pytest.mark.parametrize("backend", ["cpp", "numba"])
def test_parallel_tempering_results_do_not_depend_on_the_piece_size(monkeypatch, backend):
    import physdl._interrupt as itr

    def run():
        pt = lattice.ParallelTempering(lattice.Ising((8, 8)), [0.3, 0.4, 0.5], seed=3, backend=backend)
        res = pt.run(40, burn_in=5)
        return pt, np.array([r.energy_series for r in res]), pt.configurations(6)

    whole = run()
    monkeypatch.setattr(itr, "PIECE_SECONDS", 1e-12)  # one round per kernel call
    cut = run()
    assert np.array_equal(whole[1], cut[1]) and np.array_equal(whole[2], cut[2])
    assert np.array_equal(whole[0].accepted, cut[0].accepted) and whole[0].rounds == cut[0].rounds == 51


RANDOM_CHILD = textwrap.dedent("""
    import json, time
    import numpy as np
    from physdl import random
    random.uniform(10, seed=1)
    print("ready", flush=True)
    try:
        random.uniform(3 * 10**8, seed=1, dtype=np.float32)
        print("finished", flush=True)
    except KeyboardInterrupt:
        print(json.dumps({"t": time.time()}), flush=True)
""")


def test_sigint_inside_a_huge_random_draw_is_seen_within_a_second():
    from .sigint import sigint_reaction

    reaction, _ = sigint_reaction(RANDOM_CHILD, delay=0.2)
    assert reaction < 1.0, f"SIGINT seen after {reaction:.2f} s"


@pytest.mark.parametrize("backend", ["cpp", "numba"])
def test_random_draws_in_pieces_equal_one_call(monkeypatch, backend):
    import physdl._interrupt as itr
    from physdl import random

    draws = lambda: [random.uniform(4099, seed=3, offset=5, backend=backend),
                     random.uniform(4099, seed=3, offset=5, dtype=np.float32, backend=backend),
                     random.normal(4099, seed=3, stream=2, backend=backend), random.uint32(4099, seed=3, backend=backend)]
    whole = draws()
    monkeypatch.setattr(random, "_PIECES_FROM", 0)
    monkeypatch.setattr(itr, "PIECE_SECONDS", 1e-12)  # pieces of a few blocks
    cut = draws()
    assert all(np.array_equal(a, b) for a, b in zip(whole, cut))
