"""MPOs built from the quantum engine's PauliSum, checked against its own sparse matrix and ED."""

import numpy as np
import pytest

from physdl.geometry import Lattice
from physdl.quantum import PauliSum, SpinHilbert, ground_state, heisenberg, transverse_field_ising
from physdl.tensornet import dmrg, heisenberg_mpo, pauli_mpo


def _to_mpo_order(L):
    # PauliSum states: bit i is site i, bit 1 is Z = +1; MPO dense index: site 0 most significant, 0 is Z = +1
    return np.array([int(format((2**L - 1) ^ s, f"0{L}b")[::-1], 2) for s in range(2**L)])


def _random_sum(L, n_terms, rng):
    terms = []
    for _ in range(n_terms):
        k = int(rng.integers(0, min(L, 3) + 1))
        sites = rng.choice(L, size=k, replace=False)  # distinct sites: a real coefficient is Hermitian
        letters = rng.choice(list("XYZ"), size=k)
        f = " ".join(f"{a}{i}" for a, i in zip(letters, sites))
        c = rng.normal()
        terms.append((c, f))
    return PauliSum(L, terms)


@pytest.mark.parametrize("seed", range(6))
def test_random_pauli_sums_equal_to_sparse(seed):
    rng = np.random.default_rng(seed)
    L = int(rng.integers(1, 7))
    op = _random_sum(L, 12, rng)
    A = op.to_sparse(SpinHilbert(L)).toarray()
    M = pauli_mpo(op).to_dense()
    p = _to_mpo_order(L)
    np.testing.assert_allclose(M[np.ix_(p, p)], A, atol=1e-12)


def test_complex_terms_and_same_site_products():
    L = 5
    op = PauliSum(L, [(0.4, "Y3"), (0.2j, "X0 Z0 X1"), (0.7, "X1 X1 Z2"), (0.5, ""), (1.1, "Y1 Y4")])
    M = pauli_mpo(op).to_dense()
    assert np.iscomplexobj(M)
    p = _to_mpo_order(L)
    np.testing.assert_allclose(M[np.ix_(p, p)], op.to_sparse(SpinHilbert(L)).toarray(), atol=1e-12)


def test_real_hamiltonians_give_real_mpos_of_hand_size():
    H = pauli_mpo(heisenberg(Lattice("chain", 8, pbc=False)))
    assert H.tensors[0].dtype == np.float64
    assert max(w.shape[3] for w in H.tensors) == 5
    np.testing.assert_allclose(H.to_dense(), heisenberg_mpo(8).to_dense(), atol=1e-12)


@pytest.mark.parametrize("make", ["heisenberg", "tfi_periodic"])
def test_dmrg_takes_the_ed_hamiltonian(make):
    L = 12
    if make == "heisenberg":
        H = heisenberg(Lattice("chain", L, pbc=False))
        hil = SpinHilbert(L, total_sz=0)
    else:
        H = transverse_field_ising(Lattice("chain", L, pbc=True), J=1.0, h=0.8)
        hil = SpinHilbert(L)
    e_ed = ground_state(H, hil).energies[0]
    r = dmrg(H, bond_dims=[16, 32, 64], sweeps=6)
    assert abs(r.energy - e_ed) <= 1e-8 * abs(e_ed)


def test_bad_operator():
    with pytest.raises(TypeError, match="op must be"):
        pauli_mpo(np.eye(4))
    with pytest.raises(TypeError, match="mpo must be"):
        dmrg("H")


def test_dmrg_checkpoint_resumes_bit_for_bit(tmp_path):
    from physdl.tensornet import ising_mpo

    H = ising_mpo(10, J=1.0, h=0.9)
    kw = dict(bond_dims=[4, 8, 16], sweeps=6, tol=1e-14, seed=3)
    ref = dmrg(H, **kw)

    class Stop(Exception):
        pass

    def stop_after_two(sw, res):
        if sw == 1:
            raise Stop

    ck = tmp_path / "dmrg"
    with pytest.raises(Stop):
        dmrg(H, checkpoint=ck, callback=stop_after_two, **kw)
    assert (tmp_path / "dmrg.npz").is_file()   # the first sweep was saved before the stop
    out = dmrg(H, checkpoint=ck, **kw)
    assert out.energies == ref.energies and out.variances == ref.variances
    assert out.truncation_errors == ref.truncation_errors and out.bond_dims == ref.bond_dims
    for a, b in zip(out.mps.tensors, ref.mps.tensors):
        assert np.array_equal(a, b)
    again = dmrg(H, checkpoint=ck, **kw)       # a finished file returns the finished result
    assert again.energies == ref.energies
    with pytest.raises(ValueError, match="other DMRG arguments"):
        dmrg(H, checkpoint=ck, **dict(kw, seed=4))
