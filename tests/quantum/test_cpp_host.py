"""The C++ core computes connected elements, the sector CSR and RBM local energies without Python
(examples/quantum/cpp_host); its output equals the Python API's."""

from pathlib import Path

import numpy as np
import pytest

from physdl import quantum
from physdl.geometry import Lattice
from physdl.quantum.vmc import RBM, local_energy, marshall_mask
from tests.conftest import run_cpp_example

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "quantum" / "cpp_host" / "main.cpp"


def test_cpp_host_example_matches_python(tmp_path):
    stdout = run_cpp_example(EXAMPLE, tmp_path)
    lines = dict(line.split(" ", 1) for line in stdout.strip().splitlines())
    n = 8
    lat = Lattice("chain", n)
    H = quantum.heisenberg(lat)
    conn, mel, cnt = H.connected([0x55])
    ours = sorted((int(c), float(m.real)) for c, m in zip(conn[0, :cnt[0]], mel[0, :cnt[0]]))
    theirs = sorted((int(t.split(":")[0]), float(t.split(":")[1])) for t in lines["connected"].split())
    assert ours == theirs
    M = H.to_sparse(quantum.SpinHilbert(n, 0))
    f = lines["csr"].split()
    assert int(f[1]) == M.shape[0] and int(f[3]) == M.nnz and int(f[5]) == 0
    assert float(f[7]) == pytest.approx(M.diagonal().sum())
    psi = RBM(n, alpha=1, scale=0.0, sign_mask=marshall_mask(lat))
    a = 0.01 * np.arange(n)
    b = -0.02 * np.arange(n)
    W = 0.05 * ((np.arange(n)[None, :] + 2 * np.arange(n)[:, None]) % 5 - 2)
    psi.params = np.concatenate([a, b, W.reshape(-1)])
    el = local_energy(H, psi, np.array([0x55, 0x0F, 0x33], np.uint64))
    assert np.allclose([float(v) for v in lines["eloc"].split()], el, rtol=1e-13, atol=1e-13)
