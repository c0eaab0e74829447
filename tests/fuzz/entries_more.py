"""Fuzz entries of the second half of the book's areas: energy-based models, inverse problems,
dynamics, quantum states, tensor networks, generative models, holography and sweeps.

Each calls a public entry with hostile arguments (huge, tiny, non-finite, wrong types and shapes)
at sizes a fuzz run can afford.  Entries that reach compiled kernels are ``isolate``d: their whole
loop runs in a child process, so a crash is a failure of that entry, not of the run.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from .entries import Entry, _tmp, finite_result, huge_ints, small_arrays, weird_floats, weird_ints, weird_scalars

tiny = st.sampled_from([-1, 0, 1, 2, 3, 2**63, 10**30, 2.5, "x", None, True])
backends = st.sampled_from([None, "cpp", "numba", "bogus"])
spins = st.one_of(small_arrays(("float64", "int8", "int64", "complex128"), 5),
                  st.just(np.ones((2, 4), np.int8)), st.just(-np.ones((3, 4))))


def _finite_or_none(x) -> bool:
    return x is None or finite_result(x)


def _corrupt_loader(load, name):
    def call(data):
        f = _tmp() / name
        f.write_bytes(data)
        return load(f)
    return call


def _energy_based():
    from physdl import boltzmann, hopfield, slmc

    def rbm_fit(nv, nh, data, epochs, batch_size, k, method, backend):
        r = boltzmann.RBM(nv, nh, seed=1)
        r.fit(data, epochs=epochs, batch_size=batch_size, k=k, method=method, backend=backend, monitor=False)
        return r.W, r.b, r.c

    def rbm_gibbs(v, k, units, backend):
        r = boltzmann.RBM(4, 3, units=units, seed=1)
        return r.gibbs(v, k=k, backend=backend)

    def hop_run(patterns, S, max_sweeps, backend):
        net = hopfield.Hopfield.from_patterns(patterns)
        res = net.run(S, max_sweeps=max_sweeps, backend=backend)
        return res.states, res.energy

    def slmc_run(L, beta, n_sweeps, n_chains, backend):
        return local_energy(slmc.local_metropolis(slmc.PlaquetteIsing(L), beta, n_sweeps, n_chains, backend=backend))

    def local_energy(r):
        return r.energy

    binary = st.one_of(small_arrays(("float64", "int8", "bool", "complex128"), 5),
                       st.just(np.ones((6, 4))), st.just(np.zeros((6, 4))))
    return [
        Entry("boltzmann.RBM.fit", rbm_fit,
              st.fixed_dictionaries({"nv": st.sampled_from([4, 0, -1, 2**40, "x"]), "nh": st.sampled_from([3, 0, 10**30]),
                                     "data": binary, "epochs": tiny, "batch_size": tiny, "k": tiny,
                                     "method": st.sampled_from(["cd", "pcd", "x"]), "backend": backends}),
              max_examples=40, extra={"isolate": True}),
        Entry("boltzmann.RBM.gibbs", rbm_gibbs,
              st.fixed_dictionaries({"v": binary, "k": tiny, "units": st.sampled_from(["binary", "spin", "x"]),
                                     "backend": backends}),
              max_examples=30, extra={"isolate": True}),
        Entry("boltzmann.RBM.load(corrupt)", _corrupt_loader(boltzmann.RBM.load, "rbm.npz"),
              st.fixed_dictionaries({"data": st.binary(max_size=300)}), check=lambda r: False),
        Entry("boltzmann.FullyVisibleBM", lambda n, data: boltzmann.FullyVisibleBM(n).fit(data, steps=5).log_weights(),
              st.fixed_dictionaries({"n": tiny | st.just(30), "data": binary})),
        Entry("hopfield.Hopfield.run", hop_run,
              st.fixed_dictionaries({"patterns": spins, "S": spins, "max_sweeps": tiny, "backend": backends}),
              max_examples=40, extra={"isolate": True}),
        Entry("hopfield.random_patterns+corrupt", lambda P, N, f: hopfield.corrupt(hopfield.random_patterns(P, N), f),
              st.fixed_dictionaries({"P": tiny, "N": tiny | st.just(10**12), "f": weird_scalars}),
              check=lambda x: bool(np.all(np.abs(x) == 1))),
        Entry("hopfield.ground_states", lambda J: hopfield.ground_states(J),
              st.fixed_dictionaries({"J": small_arrays(("float64", "int64", "complex128"), 5)
                                     | st.just(np.ones((40, 40)))})),
        Entry("slmc.local_metropolis", slmc_run,
              st.fixed_dictionaries({"L": tiny | st.just(4), "beta": weird_scalars, "n_sweeps": tiny,
                                     "n_chains": tiny, "backend": backends}),
              max_examples=30, extra={"isolate": True}),
    ]


def _inverse():
    from physdl import inverse

    X = st.one_of(small_arrays(("float64", "int64", "complex128", "bool"), 5), st.just(np.eye(4)),
                  st.just(np.full((4, 3), np.nan)))
    y = st.one_of(small_arrays(("float64", "int64", "complex128"), 5), st.just(np.ones(4)))
    return [
        Entry("inverse.lasso", lambda X, y, alpha, solver, backend: inverse.lasso(X, y, alpha, solver=solver,
                                                                                  backend=backend).coef,
              st.fixed_dictionaries({"X": X, "y": y, "alpha": weird_scalars,
                                     "solver": st.sampled_from(["cd", "admm", "x"]), "backend": backends}),
              max_examples=40, extra={"isolate": True}),
        Entry("inverse.lasso_path", lambda X, y, n_alphas, eps: inverse.lasso_path(X, y, n_alphas=n_alphas, eps=eps).coefs,
              st.fixed_dictionaries({"X": X, "y": y, "n_alphas": tiny, "eps": weird_scalars}),
              max_examples=30, extra={"isolate": True}),
        Entry("inverse.lasso_cv", lambda X, y, cv, n_alphas, backend: inverse.lasso_cv(
            X, y, cv=cv, n_alphas=n_alphas, backend=backend).coef,
              st.fixed_dictionaries({"X": st.one_of(X, st.just(np.random.default_rng(0).standard_normal((24, 3)))),
                                     "y": st.one_of(y, st.just(np.arange(24.0))), "cv": tiny, "n_alphas": tiny,
                                     "backend": backends}),
              max_examples=30, extra={"isolate": True}),
        Entry("inverse.Tikhonov", lambda J, y, lam: inverse.Tikhonov(J, y).solve(lam),
              st.fixed_dictionaries({"J": X, "y": y, "lam": weird_scalars})),
        Entry("inverse.kernels", lambda tau, omega, beta: (inverse.fermionic_kernel(tau, omega, beta),
                                                            inverse.bosonic_kernel(tau, omega, beta)),
              st.fixed_dictionaries({"tau": y, "omega": y, "beta": weird_scalars})),
        Entry("inverse.green_function", lambda tau, beta, n_panels: inverse.green_function(
            tau, beta, inverse.semicircle, n_panels=n_panels),
              st.fixed_dictionaries({"tau": y, "beta": weird_scalars, "n_panels": tiny})),
        Entry("inverse.add_noise", lambda g, sigma, seed: inverse.add_noise(g, sigma, seed=seed),
              st.fixed_dictionaries({"g": y, "sigma": weird_scalars, "seed": weird_ints})),
    ]


def _dynamics():
    from physdl import dynamics

    qp = st.one_of(small_arrays(("float64", "int64", "complex128"), 4), st.just(np.ones((3, 1))),
                   st.just(np.ones((3, 2))))
    return [
        Entry("dynamics.integrate", lambda system, method, q, p, dt, steps, backend: dynamics.integrate(
            system, method, q, p, dt=dt, steps=steps, backend=backend),
              st.fixed_dictionaries({"system": st.sampled_from(["pendulum", "kepler", "henon_heiles", "x"]),
                                     "method": st.sampled_from(["leapfrog", "yoshida4", "euler", "x"]),
                                     "q": qp, "p": qp, "dt": weird_scalars, "steps": tiny | st.just(10**12),
                                     "backend": backends}),
              max_examples=40, extra={"isolate": True}),
        Entry("dynamics.lorenz_lyapunov", lambda dt, time, renorm: dynamics.lorenz_lyapunov(dt=dt, time=time,
                                                                                            renorm=renorm),
              st.fixed_dictionaries({"dt": weird_scalars | st.just(0.01), "time": st.sampled_from([1.0, -1.0, 0.0,
                                                                                                  np.nan, 1e300]),
                                     "renorm": tiny}),
              extra={"isolate": True}),
        Entry("dynamics.networks", lambda kind, width, n_layers, x: getattr(dynamics, kind)(width, n_layers).forward(x),
              st.fixed_dictionaries({"kind": st.sampled_from(["ResNet", "RevNet", "HamiltonianInspiredNet"]),
                                     "width": tiny, "n_layers": tiny, "x": qp})),
        Entry("dynamics.HamiltonianNetwork.fit", lambda dt, n_basis, q, n_layers: dynamics.HamiltonianNetwork(
            dt, n_basis=n_basis).fit(q, q, n_layers=n_layers, max_iter=3),
              st.fixed_dictionaries({"dt": weird_scalars, "n_basis": tiny, "q": qp | st.just(np.ones((2, 6))),
                                     "n_layers": tiny})),
    ]


def _quantum():
    from physdl import quantum

    def ed(n, sz, J, k, lattice):
        from physdl.geometry import Lattice

        h = quantum.SpinHilbert(n, sz)
        H = quantum.heisenberg(Lattice("chain", n) if lattice else n, J=J)
        return quantum.ground_state(H, h, k=k).energies

    def pauli(n, terms):
        return quantum.PauliSum(n, terms)

    term = st.tuples(st.one_of(weird_floats, st.just(1.0), st.just(1j)),
                     st.sampled_from(["X0", "Z0 Z1", "Y7", "Q0", "", "X0 X0", "Z-1"]))
    return [
        Entry("quantum.PauliSum", pauli,
              st.fixed_dictionaries({"n": tiny | st.just(4), "terms": st.lists(term, max_size=3) | st.just("x")}),
              check=lambda r: True),
        Entry("quantum.SpinHilbert", lambda n, sz: quantum.SpinHilbert(n, sz).size if hasattr(
            quantum.SpinHilbert(n, sz), "size") else None,
              st.fixed_dictionaries({"n": tiny | st.just(40) | st.just(64), "sz": tiny})),
        Entry("quantum.ground_state", ed,
              st.fixed_dictionaries({"n": st.sampled_from([1, 2, 4, 6, 0, -1, 80]), "sz": st.sampled_from([None, 0, 1,
                                                                                                             99]),
                                     "J": weird_scalars, "k": tiny, "lattice": st.booleans()}),
              max_examples=30, extra={"isolate": True}),
    ]


def _tensornet():
    from physdl import tensornet as tn

    ops = st.lists(small_arrays(("float64", "float32", "complex128", "int64", "bool"), 3), min_size=0, max_size=3)
    subs = st.sampled_from(["ij,jk->ik", "ii->i", "i,i->", "ij->ji", "ab,bc,cd->ad", "...i,i->...", "ij,jk",
                            "i->j", "", "ij,jk->ikk", "Ω,Ω->"])

    def mps(L, d, bond, configs):
        return tn.MPS.random(L, d, bond, seed=1).amplitudes(configs)

    return [
        Entry("tensornet.contract", lambda s, ops, backend: tn.contract(s, *ops, backend=backend),
              st.fixed_dictionaries({"s": subs, "ops": ops, "backend": backends}),
              max_examples=60, extra={"isolate": True}),
        Entry("tensornet.MPS.amplitudes", mps,
              st.fixed_dictionaries({"L": tiny | st.just(4), "d": tiny, "bond": tiny | st.just(10**9),
                                     "configs": small_arrays(("int64", "float64", "int8"), 4)
                                     | st.just(np.array([[0, 1, 0, 1]]))}),
              max_examples=40, extra={"isolate": True}),
        Entry("tensornet.dmrg", lambda L, J, h, bond, sweeps: tn.dmrg(tn.ising_mpo(L, J, h), bond, sweeps=sweeps,
                                                                      variance=False).energy,
              st.fixed_dictionaries({"L": st.sampled_from([2, 4, 1, 0, -1, "x"]), "J": weird_scalars,
                                     "h": st.sampled_from([1.0, np.nan, 1e308]), "bond": tiny, "sweeps": tiny}),
              max_examples=30, extra={"isolate": True}),
        Entry("tensornet.rbm_mps", lambda a, b, J: tn.rbm_mps(a, b, J).tensors,
              st.fixed_dictionaries({"a": small_arrays(("float64", "complex128", "int64"), 4),
                                     "b": small_arrays(("float64", "complex128"), 4),
                                     "J": small_arrays(("float64", "complex128"), 4)}),
              extra={"isolate": True}),
    ]


def _generative():
    from physdl import generative as gen

    return [
        Entry("generative.ring_of_gaussians", lambda n, m, r, s: gen.ring_of_gaussians(n, m, r, s),
              st.fixed_dictionaries({"n": tiny | st.just(10**12), "m": tiny, "r": weird_scalars, "s": weird_scalars})),
        Entry("generative.mode_coverage", lambda x, std: gen.mode_coverage(x, gen.ring_modes(8, 2.0), std),
              st.fixed_dictionaries({"x": small_arrays(("float64", "complex128", "int64"), 4), "std": weird_scalars})),
        Entry("generative.ising_observables", lambda x, L: gen.ising_observables(x, L),
              st.fixed_dictionaries({"x": small_arrays(("float64", "int8", "complex128"), 5), "L": tiny})),
        Entry("generative.distribution_test", lambda a, b: gen.distribution_test(a, b),
              st.fixed_dictionaries({"a": small_arrays(("float64", "int64", "complex128"), 6),
                                     "b": small_arrays(("float64", "int64"), 6)})),
    ]


def _holography():
    from physdl import holography as ho

    def fit(n_layers, x, labels, epochs, batch, lr, backend):
        net = ho.HolographicNetwork(n_layers, backend=backend)
        return net.fit(x, labels, epochs=epochs, batch=batch, lr=lr).h

    xs = st.one_of(small_arrays(("float64", "complex128", "int64"), 4), st.just(np.ones((4, 2))))
    labels = st.one_of(small_arrays(("float64", "int64", "bool"), 4), st.just(np.array([0, 1, 0, 1])))
    return [
        Entry("holography.HolographicNetwork.fit", fit,
              st.fixed_dictionaries({"n_layers": tiny | st.just(4), "x": xs, "labels": labels, "epochs": tiny,
                                     "batch": tiny, "lr": weird_scalars, "backend": backends}),
              max_examples=40, extra={"isolate": True}),
        Entry("holography.data", lambda n, seed: ho.ads_schwarzschild_data(n, seed=seed),
              st.fixed_dictionaries({"n": tiny | huge_ints, "seed": weird_ints})),
    ]


def _distributed():
    from physdl import distributed

    return [
        Entry("distributed.grid", lambda axes: distributed.grid(**axes),
              st.fixed_dictionaries({"axes": st.dictionaries(st.sampled_from(["T", "L", "x"]),
                                                             st.one_of(st.lists(weird_scalars, max_size=3),
                                                                       weird_scalars), max_size=3)}),
              check=lambda r: isinstance(r, list)),
        Entry("distributed.point_seed", lambda seed, params: distributed.point_seed(seed, params),
              st.fixed_dictionaries({"seed": weird_ints, "params": st.dictionaries(st.sampled_from(["T", "L"]),
                                                                                    weird_scalars, max_size=2)
                                     | st.just("x")}),
              check=lambda s: isinstance(s, int) and 0 <= s < 2**64),
    ]


def more_entries() -> list[Entry]:
    return (_energy_based() + _inverse() + _dynamics() + _quantum() + _tensornet() + _generative() + _holography()
            + _distributed())
