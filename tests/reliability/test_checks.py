"""Arguments that used to be accepted silently or fail unclearly (issue 11)."""

import math
import subprocess
import sys

import numpy as np
import pytest

from physdl import lattice
from physdl._validate import check_float
from physdl.io import CorruptFileError, save_run
from physdl.lattice import enumerate as en
from physdl.lattice import exact
from physdl.nn import automata, datasets


def test_float_overflow_names_argument():
    with pytest.raises(ValueError, match="J must be a finite"):
        check_float(10**400, "J")
    with pytest.raises(ValueError, match="J must be a finite"):
        lattice.Ising((4, 4), J=10**400)


def test_chain_specific_heat_huge_n_matches_thermodynamic_limit():
    # h = 0: c = K^2 / cosh^2 K per spin in the limit; at N = 10**30 the finite-size part is r^N = 0
    for beta in (0.3, 1.0, 3.0):
        d = exact.chain_thermodynamics(10**30, beta)
        assert math.isclose(float(d["specific_heat"]), beta**2 / math.cosh(beta) ** 2, rel_tol=1e-10)
    # and a mid-size chain agrees with brute-force enumeration of all its states
    n, beta, h = 12, 0.7, 0.3
    E, M = en.lattice_state_energies((n,), "chain", h=h)
    w = np.exp(-beta * (E - E.min()))
    var = np.average(E**2, weights=w) - np.average(E, weights=w) ** 2
    assert math.isclose(float(exact.chain_thermodynamics(n, beta, h=h)["specific_heat"]), beta**2 * var / n,
                        rel_tol=1e-10)


def test_enumerate_states_checked():
    with pytest.raises(ValueError, match=r"\[0, 2\*\*2\)"):
        en.state_spins([5], 2)
    with pytest.raises(TypeError, match="integers"):
        en.lattice_state_energies((2, 2), states=[0.7])
    with pytest.raises(ValueError, match="shape"):
        en.enumerate_ising((3, 6148914691236517206))
    np.testing.assert_array_equal(en.state_spins([5], 3), [[1, -1, 1]])


def test_nn_helpers_checked():
    with pytest.raises(ValueError, match="0 .*and 1"):
        automata.soliton_sizes([0, 2, 2, 0, 1])
    assert automata.soliton_sizes([0, 1, 1, 0, 1]) == [2, 1]
    with pytest.raises(TypeError, match="integers"):
        datasets.encode_sorting([[1.5]])
    with pytest.raises(ValueError, match="max_len must be <="):
        datasets.sorting_task(max_len=10**30)


def test_lattice_values_checked():
    with pytest.raises(ValueError, match="only \\+1 and -1"):
        lattice.pack_multispin(np.full((4, 4), 3))
    with pytest.raises(ValueError, match="even sides"):
        lattice.pack_multispin(np.ones((3, 4)))
    m = lattice.Ising((4, 4))
    with pytest.raises(ValueError, match="only \\+1 and -1"):
        m.energy(np.full((4, 4), 7))
    with pytest.raises(TypeError, match="spins"):
        m.energy(np.full((4, 4), "a"))
    assert m.energy(np.ones((4, 4))) == -32.0
    for bad in ([0.3, 0.3], [0.3, 0.5, 0.4]):
        with pytest.raises(ValueError, match="strictly"):
            lattice.ParallelTempering(m, betas=bad)


def test_ising_dataset_cache_validated(tmp_path):
    from physdl.phases import DATASET_KIND, ising_dataset

    path = tmp_path / "d.h5"
    ds = ising_dataset("square", 4, [2.0, 3.0], 3, 1, 5, 0, path)
    for name, configs, T in (("values", np.full_like(ds.configs, 7), ds.T),
                             ("shape", ds.configs[:4], ds.T[:4]),
                             ("T", ds.configs, ds.T[::-1].copy())):
        save_run(path, {"configs": configs, "T": T}, ds.params, kind=DATASET_KIND)
        with pytest.raises(CorruptFileError, match="d.h5"):
            ising_dataset("square", 4, [2.0, 3.0], 3, 1, 5, 0, path)


@pytest.mark.parametrize("args", [["phases", "--seed", "18446744073709551615"], ["phases", "--seed", "x"],
                                  ["tour", "--only", "no-such"], ["tour", "--out", "/dev/null/x"]])
def test_cli_bad_arguments_one_line_exit_2(args):
    r = subprocess.run([sys.executable, "-m", "physdl", *args], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "error" in r.stderr and "Traceback" not in r.stderr
