"""The table of fuzzed public entry points: each row is an entry, a strategy for its arguments and
how to run it.

An area adds its entries by appending `Entry` rows to `ENTRIES` (or a list of its own imported
here).  Every call must either return a value that passes ``check`` or raise TypeError /
ValueError (MemoryError subclasses of ValueError count); anything else -- another exception, a
crash, a hang, a NaN where none is allowed -- fails the fuzz test.  ``subprocess=True`` runs each
example in a child process, so that a segfault is a test failure rather than the end of the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from hypothesis import strategies as st

# values that have broken public APIs before: huge, tiny, non-finite, wrong types
weird_ints = st.one_of(st.integers(-3, 70), st.sampled_from([2**31, 2**63, 2**64, 2**64 - 1, -(2**63), 10**30]))
weird_floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([5e-324, 1e308, -0.0]),
                         st.just(10**400))
weird_scalars = st.one_of(weird_ints, weird_floats, st.just(None), st.just("x"), st.just(True), st.just(1j))
# sizes either small or past every bound (2**48 elements): a fuzz run never allocates gigabytes
huge_ints = st.sampled_from([2**63, 2**64, 10**30, -(2**63)])
small_shapes = st.one_of(st.integers(-3, 70), huge_ints, st.tuples(st.integers(-2, 6), st.integers(-2, 6)),
                         st.tuples(st.integers(0, 3), huge_ints))


def _filled(dt, shape, fill):
    if fill is None:
        return np.zeros(shape, dt)
    with np.errstate(invalid="ignore"):
        return np.full(shape, fill).astype(dt)


def small_arrays(dtypes=("float64", "int8", "int64", "bool", "complex128"), max_side=6):
    return st.builds(
        _filled,
        st.sampled_from(dtypes), st.tuples(st.integers(0, max_side)) | st.tuples(st.integers(0, 4), st.integers(0, 4)),
        st.one_of(st.none(), st.sampled_from([1, -1, 0, 3, 0.5, np.nan, np.inf])))


def finite_result(x) -> bool:
    """Numbers and arrays returned by a public function must be finite unless inf is meaningful."""
    if isinstance(x, dict):
        return all(finite_result(v) for v in x.values())
    if isinstance(x, (tuple, list)):
        return all(finite_result(v) for v in x)
    a = np.asarray(x)
    if a.dtype.kind in "fc":
        return not np.any(np.isnan(a))
    return True


@dataclass
class Entry:
    name: str
    call: Callable[..., Any]          # call(**kwargs) -> result
    args: st.SearchStrategy            # strategy of kwargs dicts
    check: Callable[[Any], bool] = finite_result
    subprocess: bool = False           # crash-prone: run each example in a child process
    max_examples: int = 25
    allowed: tuple = (TypeError, ValueError)
    extra: dict = field(default_factory=dict)


def _random():
    import physdl.random as r

    return [
        Entry("random.uniform", lambda **k: r.uniform(**k),
              st.fixed_dictionaries({"shape": small_shapes, "seed": weird_ints, "offset": weird_ints,
                                     "dtype": st.sampled_from([np.float64, np.float32, np.int32, "x"])}),
              check=lambda u: bool(np.all((u >= 0) & (u < 1)))),
        Entry("random.Generator.normal", lambda seed, shape, loc, scale: r.Generator(seed).normal(shape, loc, scale),
              st.fixed_dictionaries({"seed": weird_ints, "shape": small_shapes, "loc": weird_scalars,
                                     "scale": weird_scalars})),
        Entry("set_num_threads+uniform", None, st.fixed_dictionaries({"n": weird_ints}), subprocess=True,
              max_examples=6, extra={"code": "import physdl\ntry:\n    physdl.set_num_threads({n})\nexcept "
                                             "(TypeError, ValueError):\n    pass\nphysdl.random.uniform(10**5, seed=1)\n"}),
    ]


def _info():
    from physdl import info

    dists = small_arrays(("float64", "int64", "complex128"))
    return [
        Entry("info.entropy", lambda **k: info.entropy(**k),
              st.fixed_dictionaries({"p": dists, "axis": weird_ints})),
        Entry("info.kl_divergence", lambda **k: info.kl_divergence(**k),
              st.fixed_dictionaries({"p": dists, "q": dists})),
        Entry("info.multinomial_log_probability", lambda **k: info.multinomial_log_probability(**k),
              st.fixed_dictionaries({"counts": st.lists(st.one_of(st.floats(0, 1e308), st.integers(0, 10)),
                                                        min_size=1, max_size=3).map(np.array),
                                     "q": st.just(None) | dists})),
    ]


def _sampling():
    from physdl.sampling import markov, mcmc

    return [
        Entry("mcmc.mean_with_error", lambda x: mcmc.mean_with_error(x),
              st.fixed_dictionaries({"x": st.one_of(
                  small_arrays(("float64",), 40),
                  st.builds(lambda s, e: np.random.default_rng(0).normal(size=64) * 10.0**e,
                            st.just(0), st.integers(-300, 300)))})),
        Entry("markov.evolve", lambda T, n: markov.MarkovChain(T).evolve([1.0, 0.0], n),
              st.fixed_dictionaries({"T": st.just([[0.9, 0.5], [0.1, 0.5]]) | small_arrays(("float64",)),
                                     "n": weird_ints}),
              check=lambda p: bool(np.all(p >= 0) and abs(p.sum() - 1) < 1e-9)),
    ]


def _lattice():
    from physdl import lattice
    from physdl.lattice import enumerate as en
    from physdl.lattice import exact

    return [
        Entry("lattice.Simulation", lambda model_shape, T, update, storage, backend: lattice.Simulation(
            lattice.Ising(model_shape), T=T, update=update, storage=storage, backend=backend).run(2),
            st.fixed_dictionaries({"model_shape": small_shapes, "T": weird_floats,
                                   "update": st.sampled_from(["metropolis", "heat_bath", "wolff", "swendsen_wang",
                                                              "x"]),
                                   "storage": st.sampled_from(["byte", "multispin"]),
                                   "backend": st.sampled_from(["cpp", "numba", "bogus"])}),
            check=lambda r: finite_result(r.energy_series), max_examples=20),
        Entry("lattice.Ising.energy", lambda s: lattice.Ising((2, 2)).energy(s),
              st.fixed_dictionaries({"s": small_arrays()})),
        Entry("lattice.pack_multispin", lambda s: lattice.pack_multispin(s),
              st.fixed_dictionaries({"s": small_arrays()})),
        Entry("enumerate.state_spins", lambda states, n: en.state_spins(states, n),
              st.fixed_dictionaries({"states": small_arrays(), "n": weird_ints})),
        Entry("exact.onsager", lambda beta: (exact.onsager_energy(beta), exact.onsager_specific_heat(beta)),
              st.fixed_dictionaries({"beta": weird_floats | st.floats(0.01, 1e6)}),
              check=lambda r: finite_result(r) and bool(np.all(np.asarray(r[1]) >= 0))),
        Entry("exact.chain_thermodynamics", lambda n, beta: exact.chain_thermodynamics(n, beta),
              st.fixed_dictionaries({"n": weird_ints, "beta": weird_floats | st.floats(0.01, 5)}),
              check=lambda d: finite_result(d) and bool(np.all(d["specific_heat"] >= -1e-12))),
    ]


def _io():
    from physdl import io

    return [
        Entry("io.load_run(corrupt)", None,
              st.fixed_dictionaries({"data": st.binary(max_size=300), "suffix": st.sampled_from([".npz", ".h5"])}),
              extra={"kind": "corrupt-file"}),
        Entry("io.save_run", lambda arrays, params: io.save_run(_tmp() / "f.npz", arrays, params, kind="k"),
              st.fixed_dictionaries({"arrays": st.dictionaries(st.sampled_from(["a", "__m", "b"]), small_arrays(),
                                                               max_size=2),
                                     "params": st.dictionaries(st.sampled_from(["x"]), weird_scalars, max_size=1)}),
              check=lambda r: r is None),
    ]


def _cli():
    return [
        # every argv holds one bad argument, so nothing long ever starts; each must end in one line, exit 2
        Entry("cli", None, st.fixed_dictionaries({"argv": st.builds(
            lambda cmd, bad: [cmd, *bad], st.sampled_from(["phases", "tour"]),
            st.sampled_from([["--seed", "-1"], ["--seed", "18446744073709551615"], ["--seed", "1e3"],
                             ["--only", "zz"], ["--out", "/dev/null/x"], ["--bogus"], ["--quick", "--seed", ""]]))}),
              extra={"kind": "cli"}, max_examples=8),
    ]


def _nn():
    from physdl import nn

    tiny = st.sampled_from([-1, 0, 1, 2, 3, 2**62, 10**30, 2.5, "x", None])
    layer = st.one_of(
        st.builds(lambda a, b: ("Dense", a, b), tiny, tiny),
        st.builds(lambda c, o, k: ("Conv2d", c, o, k), tiny, tiny, tiny),
        st.builds(lambda k: ("MaxPool2d", k), tiny),
        st.builds(lambda n: (n,), st.sampled_from(["ReLU", "Tanh", "Sigmoid", "Softmax", "Flatten"])))

    def build(spec, input_shape=None):
        return nn.Sequential([getattr(nn, s[0])(*s[1:]) for s in spec], input_shape=input_shape)

    def fit(X, y, loss, epochs, batch_size, backend):
        m = nn.Sequential([nn.Dense(2, 3), nn.Tanh(), nn.Dense(3, 2)], backend=backend)
        h = m.fit(X, y, loss=loss, epochs=epochs, batch_size=batch_size)
        return h["loss"], m.predict(np.zeros((1, 2)))

    def load(data):
        f = _tmp() / "model.npz"
        f.write_bytes(data)
        return nn.Sequential.load(f)

    def state_dict(d):
        return nn.Sequential([nn.Dense(2, 2)]).from_torch_state_dict(d)

    arrays = small_arrays(("float64", "float32", "int64", "complex128", "bool"), 4)
    return [
        Entry("nn.Sequential(layers)", lambda spec, input_shape: build(spec, input_shape).predict(np.ones((1, 2))),
              st.fixed_dictionaries({"spec": st.lists(layer, max_size=3),
                                     "input_shape": st.sampled_from([None, (2,), (1, 4, 4), (0,), (2**62,), "x"])}),
              max_examples=40),
        Entry("nn.Sequential.fit", fit,
              st.fixed_dictionaries({"X": arrays | st.just(np.ones((4, 2))), "y": arrays | st.just(np.ones((4, 2))),
                                     "loss": st.sampled_from(["mse", "softmax_cross_entropy", "x"]),
                                     "epochs": st.sampled_from([-1, 0, 1, 2, 10**30]),
                                     "batch_size": st.sampled_from([-1, 0, 1, 3, 2**63]),
                                     "backend": st.sampled_from(["cpp", "numba", "bogus"])}),
              max_examples=40),
        Entry("nn.Sequential.predict", lambda X, batch_size: nn.Sequential([nn.Dense(2, 2)]).predict(X, batch_size),
              st.fixed_dictionaries({"X": arrays, "batch_size": weird_ints})),
        Entry("nn.Sequential.load(corrupt)", load, st.fixed_dictionaries({"data": st.binary(max_size=300)}),
              check=lambda r: False),
        Entry("nn.from_torch_state_dict", state_dict,
              st.fixed_dictionaries({"d": st.dictionaries(st.sampled_from(["0.weight", "0.bias", "1.weight", "x"]),
                                                          arrays, max_size=3)}),
              check=lambda r: r is None or isinstance(r, nn.Sequential)),
    ]


def _phases():
    from physdl import phases

    tiny = st.sampled_from([-1, 0, 1, 2, 4, 2**63, 10**30, 2.5, "x", None])
    temps = st.sampled_from([None, [], [2.0], [0.0], [-1.0], [np.nan], [np.inf], [1e-320], [2.0, 2.0], "x"])
    return [
        Entry("phases.ising_dataset", lambda **k: phases.ising_dataset(progress=False, **k),
              st.fixed_dictionaries({"L": tiny, "temperatures": temps, "n_per_T": tiny, "every": tiny,
                                     "burn_in": tiny, "geometry": st.sampled_from(["square", "triangular", "x"])}),
              check=lambda d: finite_result(d.X) and bool(np.all(np.abs(d.X) == 1)), max_examples=30),
        Entry("phases.PhaseClassifier", lambda L, kind, hidden, configs: phases.PhaseClassifier(
            L, kind, hidden).predict_proba(configs),
              st.fixed_dictionaries({"L": tiny, "kind": st.sampled_from(["fc", "cnn", "x"]), "hidden": tiny,
                                     "configs": small_arrays(("float64", "int8", "complex128"), 4)
                                     | st.just(np.ones((2, 16), np.int8))}),
              check=lambda p: finite_result(p) and bool(np.all((p >= 0) & (p <= 1)))),
        Entry("phases.Thermometer", lambda L, kind, hidden: phases.Thermometer(L, kind, hidden),
              st.fixed_dictionaries({"L": tiny, "kind": st.sampled_from(["fc", "cnn", "x"]), "hidden": tiny}),
              check=lambda r: True),
        Entry("phases.crossing_temperature", lambda **k: phases.crossing_temperature(**k),
              st.fixed_dictionaries({"T": small_arrays(("float64", "int64", "complex128"), 6),
                                     "output": small_arrays(("float64", "int64", "complex128"), 6),
                                     "level": weird_floats, "n_boot": tiny}),
              check=lambda e: finite_result(tuple(e))),
    ]


_TMP = []


def _tmp():
    import tempfile
    from pathlib import Path

    if not _TMP:
        _TMP.append(Path(tempfile.mkdtemp(prefix="physdl-fuzz-")))
    return _TMP[0]


def entries() -> list[Entry]:
    from .entries_more import more_entries

    return _random() + _info() + _sampling() + _lattice() + _io() + _cli() + _nn() + _phases() + more_entries()


def _run_in_child(code: str):
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"child crashed ({r.returncode}): {r.stderr[-800:]}"


def run_entry(entry: Entry, report: bool = False) -> None:
    """Run ``entry``'s hypothesis examples; ``report`` prints each example before it runs (so the
    output of a child that crashed ends with the example that crashed it)."""
    import subprocess
    import sys

    import pytest
    from hypothesis import HealthCheck, given, settings

    @settings(max_examples=entry.max_examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(entry.args)
    def one(kwargs):
        if report:
            print(entry.name, {k: (type(v).__name__, getattr(v, "shape", v) if not isinstance(v, bytes) else len(v))
                               for k, v in kwargs.items()}, flush=True)
        kind = entry.extra.get("kind")
        if entry.subprocess:
            _run_in_child(entry.extra["code"].format(**kwargs))
            return
        if kind == "corrupt-file":
            from physdl import io

            p = _tmp() / f"c{kwargs['suffix']}"
            p.write_bytes(kwargs["data"])
            with pytest.raises((ValueError, FileNotFoundError)):
                io.load_run(p)
            return
        if kind == "cli":
            r = subprocess.run([sys.executable, "-m", "physdl", *kwargs["argv"]], capture_output=True, text=True,
                               timeout=60, cwd=_tmp())
            assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-800:]
            assert len(r.stderr.strip().splitlines()) == 1, r.stderr
            return
        try:
            out = entry.call(**kwargs)
        except entry.allowed:
            return
        assert entry.check(out), f"{entry.name}({kwargs}) returned {out!r}"

    one()
