"""contract / Expression against numpy.einsum and opt_einsum.contract on randomised networks."""

import numpy as np
import opt_einsum as oe
import pytest

from physdl import tensornet as tn
from physdl.tensornet import Batched, Expression, Sliced

LETTERS = "abcdefghijklmnopqrstuvwxyz"
DTYPES = [np.float32, np.float64, np.complex64, np.complex128]
TOL = {np.float32: 2e-4, np.float64: 1e-11, np.complex64: 2e-4, np.complex128: 1e-11}


def random_network(rng, n_tensors, n_labels=8, max_rank=4, repeat=True):
    """Random einsum: shared bonds, hyperedges (a label on 3+ tensors), repeated labels inside one
    tensor (traces / diagonals), labels only on one tensor (sums), disconnected parts (outer products)."""
    labels = LETTERS[:n_labels]
    size = {l: int(rng.integers(1, 4)) for l in labels}
    inputs = []
    for _ in range(n_tensors):
        r = int(rng.integers(0, max_rank + 1))
        t = list(rng.choice(list(labels), size=r))
        if not repeat:
            t = list(dict.fromkeys(t))
        inputs.append("".join(t))
    used = sorted(set("".join(inputs)))
    k = int(rng.integers(0, len(used) + 1)) if used else 0
    out = "".join(rng.permutation(used)[:k]) if k else ""
    return ",".join(inputs) + "->" + out, size


def make(rng, sub, size, dtype):
    ins = sub.split("->")[0].split(",")
    ops = []
    for t in ins:
        shape = tuple(size[c] for c in t)
        x = rng.normal(size=shape)
        if np.dtype(dtype).kind == "c":
            x = x + 1j * rng.normal(size=shape)
        ops.append(np.asarray(x, dtype=dtype))
    return ops


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", range(25))
def test_random_networks_equal_numpy_and_opt_einsum(seed, dtype):
    rng = np.random.default_rng(seed)
    sub, size = random_network(rng, int(rng.integers(1, 6)))
    ops = make(rng, sub, size, dtype)
    got = tn.contract(sub, *ops)
    ref = np.einsum(sub, *[o.astype(np.complex128 if np.dtype(dtype).kind == "c" else np.float64) for o in ops])
    ref2 = oe.contract(sub, *ops)
    scale = max(1.0, float(np.max(np.abs(ref)))) if np.size(ref) else 1.0
    assert got.shape == ref.shape
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_allclose(got, ref, rtol=TOL[dtype], atol=TOL[dtype] * scale)
    np.testing.assert_allclose(got, ref2, rtol=TOL[dtype] * 10, atol=TOL[dtype] * scale * 10)


@pytest.mark.parametrize("seed", range(8))
def test_numba_twin_equals_cpp(seed):
    rng = np.random.default_rng(100 + seed)
    sub, size = random_network(rng, int(rng.integers(2, 6)))
    ops = make(rng, sub, size, np.complex128)
    expr = Expression(sub, *[o.shape for o in ops])
    np.testing.assert_allclose(expr(*ops, backend="numba"), expr(*ops, backend="cpp"), rtol=1e-12, atol=1e-12)


def test_larger_bonds_use_blas_and_match():
    rng = np.random.default_rng(1)
    A, B, C = rng.normal(size=(40, 30, 20)), rng.normal(size=(20, 30, 50)), rng.normal(size=(50, 7))
    got = tn.contract("ijk,kjl,lm->im", A, B, C)
    np.testing.assert_allclose(got, np.einsum("ijk,kjl,lm->im", A, B, C), rtol=1e-10)
    # transposed and strided views go in place or through the gather; both must be right
    got = tn.contract("kji,lm,kjl->mi", A.transpose(2, 1, 0), C, B)
    np.testing.assert_allclose(got, np.einsum("ijk,kjl,lm->mi", A, B, C), rtol=1e-10)
    got = tn.contract("ij,jk->ik", A[::2, 3, :], B[:, ::3, 1])
    np.testing.assert_allclose(got, A[::2, 3, :] @ B[:, ::3, 1], rtol=1e-12)


def test_hyperedge_and_batch_index_kept():
    rng = np.random.default_rng(2)
    # eq. 11.12: the index t on three matrices
    L, M1, M2 = rng.normal(size=(2, 2)), rng.normal(size=(2, 2)), rng.normal(size=(2, 2))
    np.testing.assert_allclose(tn.contract("st,tu,tv->suv", L, M1, M2), np.einsum("st,tu,tv->suv", L, M1, M2))
    X, Y = rng.normal(size=(5, 3, 4)), rng.normal(size=(5, 4, 6))
    np.testing.assert_allclose(tn.contract("bij,bjk->bik", X, Y), X @ Y, rtol=1e-12)
    np.testing.assert_allclose(tn.contract("bij,bjk->ikb", X, Y), np.einsum("bij,bjk->ikb", X, Y), rtol=1e-12)


def test_outer_product_and_scalars():
    rng = np.random.default_rng(3)
    a, b, c = rng.normal(size=3), rng.normal(size=4), rng.normal(size=())
    np.testing.assert_allclose(tn.contract("i,j,->ji", a, b, c), np.einsum("i,j,->ji", a, b, c), rtol=1e-12)
    np.testing.assert_allclose(tn.contract("i,j->", a, b), a.sum() * b.sum(), rtol=1e-12)


def test_integer_labels_hundreds_of_indices():
    """A ring of 300 matrices: 300 indices, beyond numpy.einsum's 52 letters."""
    rng = np.random.default_rng(4)
    n = 300
    mats = [rng.normal(size=(2, 2)) / 1.5 for _ in range(n)]
    args = []
    for i, m in enumerate(mats):
        args += [m, [i, (i + 1) % n]]
    got = float(tn.contract(*args, []))
    ref = np.eye(2)
    for m in mats:
        ref = ref @ m
    np.testing.assert_allclose(got, np.trace(ref), rtol=1e-9)
    # same with an open chain and string-free labels, output given
    args = []
    for i, m in enumerate(mats[:100]):
        args += [m, [1000 + i, 1000 + i + 1]]
    np.testing.assert_allclose(tn.contract(*args, [1000, 1100]), np.linalg.multi_dot(mats[:100]), rtol=1e-9)


@pytest.mark.parametrize("optimize", ["greedy", "optimal", "auto", "cotengra"])
def test_optimisers_agree(optimize):
    rng = np.random.default_rng(5)
    sub, size = random_network(rng, 5, repeat=False)
    ops = make(rng, sub, size, np.float64)
    expr = Expression(sub, *[o.shape for o in ops], optimize=optimize)
    np.testing.assert_allclose(expr(*ops), np.einsum(sub, *ops), rtol=1e-10, atol=1e-10)


def test_expression_reuse_and_repr():
    rng = np.random.default_rng(6)
    expr = Expression("ab,bc->ac", (3, 4), (4, 2))
    for _ in range(3):
        A, B = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
        np.testing.assert_allclose(expr(A, B), A @ B, rtol=1e-12)
    assert "2 steps" not in repr(expr) and "Expression" in repr(expr)
    assert expr.flops == 3 * 4 * 2


def test_zero_size_dimension_gives_zeros_like_numpy():
    a, b = np.ones((0, 3)), np.ones((3, 2))
    np.testing.assert_array_equal(tn.contract("ij,jk->ik", a, b), np.einsum("ij,jk->ik", a, b))
    np.testing.assert_array_equal(tn.contract("ij,jk->k", a, b), np.einsum("ij,jk->k", a, b))


# ---------------------------------------------------------------------------- batched
@pytest.mark.parametrize("dtype", [np.float64, np.complex128, np.float32])
@pytest.mark.parametrize("seed", range(12))
def test_batched_equals_loop(seed, dtype):
    rng = np.random.default_rng(200 + seed)
    sub, size = random_network(rng, int(rng.integers(2, 5)))
    ops = make(rng, sub, size, dtype)
    S = 7
    which = rng.random(len(ops)) < 0.6
    which[0] = True
    args = []
    per = []
    for o, w in zip(ops, which):
        if w:
            x = np.stack([o * (1 + 0.1 * s) for s in range(S)])
            args.append(Batched(x))
            per.append(x)
        else:
            args.append(o)
            per.append(None)
    expr = Expression(sub, *[o.shape for o in ops])
    got = expr.batched(*args)
    ref = np.stack([np.einsum(sub, *[p[s] if p is not None else o for p, o in zip(per, ops)]) for s in range(S)])
    tol = TOL[dtype] * max(1.0, float(np.abs(ref).max()))
    np.testing.assert_allclose(got, ref, rtol=TOL[dtype], atol=tol)
    np.testing.assert_allclose(expr.batched(*args, backend="numba"), ref, rtol=TOL[dtype], atol=tol)


def test_sliced_one_hot_legs_equal_one_hot_contraction():
    """MPS amplitudes psi(s) = Tr prod_i A_i[s_i]: slicing equals contracting with one-hot vectors."""
    rng = np.random.default_rng(7)
    L, D, d, S = 6, 4, 2, 50
    A = [rng.normal(size=(D, d, D)) for _ in range(L)]
    conf = rng.integers(0, d, size=(S, L))
    ins = [[i, 100 + i, (i + 1) % L] for i in range(L)]
    expr = Expression([[i, (i + 1) % L] for i in range(L)], *[(D, D)] * L, output=[])
    got = expr.batched(*[Sliced(A[i], (1,), conf[:, i:i + 1]) for i in range(L)])
    onehot = np.eye(d)[conf]  # (S, L, d): the materialised one-hot form, as a peer
    args = []
    for i in range(L):
        args += [A[i], ins[i], onehot[:, i, :], [-1, 100 + i]]
    ref = oe.contract(*args, [-1])
    np.testing.assert_allclose(got, ref, rtol=1e-10)
    np.testing.assert_allclose(expr.batched(*[Sliced(A[i], (1,), conf[:, i]) for i in range(L)], backend="numba"),
                               ref, rtol=1e-10)


def test_batched_same_on_one_and_two_threads():
    physdl = pytest.importorskip("physdl")
    rng = np.random.default_rng(8)
    x = rng.normal(size=(101, 3, 4))
    y = rng.normal(size=(4, 5))
    expr = Expression("ij,jk->ik", (3, 4), (4, 5))
    from physdl import _backend

    core = _backend.module("cpp")
    n0 = core.max_threads()
    try:
        core.set_num_threads(1)
        one = expr.batched(Batched(x), y)
        core.set_num_threads(2)
        two = expr.batched(Batched(x), y)
    finally:
        core.set_num_threads(n0)
    np.testing.assert_array_equal(one, two)
    np.testing.assert_allclose(one, x @ y, rtol=1e-12)


# ---------------------------------------------------------------------------- validation
def test_bad_input_raises_clear_errors():
    a, b = np.ones((2, 3)), np.ones((4, 2))
    with pytest.raises(ValueError, match="index 'j' has size 3 in operand 0 but size 4 in operand 1"):
        tn.contract("ij,jk->ik", a, b)
    with pytest.raises(ValueError, match="operand 1 has 2 axes"):
        tn.contract("ij,j->i", a, np.ones((3, 3)))
    with pytest.raises(ValueError, match="operand 0 contains NaN"):
        tn.contract("ij,jk->ik", np.full((2, 3), np.nan), np.ones((3, 2)))
    with pytest.raises(ValueError, match="output index 'z'"):
        tn.contract("ij,jk->iz", a, np.ones((3, 2)))
    with pytest.raises(ValueError, match="2 operands but 1"):
        tn.contract("ij,jk->ik", a)
    with pytest.raises(ValueError, match="ellipsis"):
        tn.contract("...i,i->...", a, np.ones(3))
    expr = Expression("ij,jk->ik", (2, 3), (3, 2))
    with pytest.raises(ValueError, match="operand 1 has shape"):
        expr(a, np.ones((3, 3)))
    with pytest.raises(TypeError, match="operand 0 must be a numeric"):
        expr(np.array([["a"] * 3] * 2), np.ones((3, 2)))
    with pytest.raises(ValueError, match="index column 0 outside"):
        expr.batched(Sliced(np.ones((2, 2, 3)), (1,), np.array([[0], [2]])), np.ones((3, 2)))
    with pytest.raises(ValueError, match="operand 1 has 3 samples"):
        expr.batched(Batched(np.ones((2, 2, 3))), Batched(np.ones((3, 3, 2))))


@pytest.mark.parametrize("dtype", DTYPES)
def test_blas_path_all_dtypes(dtype):
    """Products above the small-product threshold go through SciPy's d/s/z/cgemm."""
    rng = np.random.default_rng(9)
    ops = make(rng, "abc,cbd,de->ae", {"a": 30, "b": 6, "c": 20, "d": 25, "e": 7}, dtype)
    wide = np.complex128 if np.dtype(dtype).kind == "c" else np.float64
    ref = np.einsum("abc,cbd,de->ae", *[o.astype(wide) for o in ops])
    got = tn.contract("abc,cbd,de->ae", *ops)
    tol = 1e-4 if np.dtype(dtype) in (np.float32, np.complex64) else 1e-11
    np.testing.assert_allclose(got, ref, rtol=tol, atol=tol * np.abs(ref).max())
    # transposed operands (in place with BLAS 'T') and a batch index
    X, Y = make(rng, "bij,bkj->bik", {"b": 3, "i": 40, "j": 30, "k": 20}, dtype)
    got = tn.contract("bij,bkj->bik", X, Y)
    ref = np.einsum("bij,bkj->bik", X.astype(wide), Y.astype(wide))
    np.testing.assert_allclose(got, ref, rtol=tol, atol=tol * np.abs(ref).max())
    got = tn.contract("bji,bjk->bik", X.transpose(0, 2, 1), Y.transpose(0, 2, 1))
    np.testing.assert_allclose(got, ref, rtol=tol, atol=tol * np.abs(ref).max())


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
@pytest.mark.parametrize("D", [2, 3, 4, 8])
def test_batched_ring_small_products_equal_opt_einsum(dtype, D):
    """Rings of D x D matrices with mixed bond sizes (the fixed-size product kernels for 2, 4, 8 and the
    general loop for 3) equal opt_einsum sample by sample, in every dtype."""
    rng = np.random.default_rng(8 + D)
    L, d, S = 5, 3, 40
    dims = [D, 2 * D if D < 8 else D, D, 4, D][:L]

    def t(*shape):
        a = rng.normal(size=shape)
        if np.issubdtype(dtype, np.complexfloating):
            a = a + 1j * rng.normal(size=shape)
        return a.astype(dtype)

    A = [t(dims[i], d, dims[(i + 1) % L]) for i in range(L)]
    conf = rng.integers(0, d, size=(S, L))
    expr = Expression([[i, (i + 1) % L] for i in range(L)], *[(dims[i], dims[(i + 1) % L]) for i in range(L)],
                      output=[])
    got = expr.batched(*[Sliced(A[i], (1,), conf[:, i:i + 1]) for i in range(L)])
    ref = np.array([oe.contract(*[x for i in range(L) for x in (A[i][:, c[i], :], [i, (i + 1) % L])], [])
                    for c in conf])
    tol = 1e-4 if dtype in (np.float32, np.complex64) else 1e-11
    np.testing.assert_allclose(got, ref, rtol=tol, atol=tol * np.abs(ref).max())


# ---------------------------------------------------------------------------- small-product kernels
SMALL_M = [1, 2, 3, 4, 5, 7, 9]
SMALL_K = [1, 2, 3, 4, 5, 8, 16]
SMALL_N = [1, 2, 3, 4, 6, 8]


@pytest.mark.parametrize("layout", ["bij,bjk->bik", "bji,bjk->bik", "bij,bkj->bik", "bji,bkj->bki"])
def test_small_kernels_every_size_and_layout_equal_einsum(layout):
    """Every fixed-size kernel (n in 1-8, k in 1-16, rows in blocks of 4, 2, 1, the dot products) and the
    general loop, with operands read in place, transposed (B copied) or gathered, per sample of a batch
    and with a batch index, equal numpy.einsum."""
    rng = np.random.default_rng(11)
    ins, out = layout.split("->")
    la, lb = ins.split(",")
    S = 3
    for t, (k, n) in enumerate([(k, n) for k in SMALL_K for n in SMALL_N]):
        m = SMALL_M[t % len(SMALL_M)]  # every (k, n) kernel, the row counts in turn
        nb = 2 if (m + k + n) % 3 == 0 else 1
        size = {"b": nb, "i": m, "j": k, "k": n}
        A = rng.normal(size=(S,) + tuple(size[c] for c in la))
        B = rng.normal(size=tuple(size[c] for c in lb))
        expr = Expression(layout, A.shape[1:], B.shape)
        got = expr.batched(Batched(A), B)
        ref = np.einsum("s" + la + "," + lb + "->s" + out, A, B)
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12, err_msg=f"{layout} m={m} k={k} n={n}")
        # both operands per sample
        B2 = rng.normal(size=(S,) + B.shape)
        got = expr.batched(Batched(A), Batched(B2))
        ref = np.einsum("s" + la + ",s" + lb + "->s" + out, A, B2)
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12, err_msg=f"{layout} m={m} k={k} n={n}")


@pytest.mark.parametrize("dtype", [np.float32, np.complex64, np.complex128])
def test_small_kernels_other_dtypes_equal_einsum(dtype):
    rng = np.random.default_rng(12)
    for m, k, n in [(1, 16, 1), (2, 8, 1), (4, 4, 4), (3, 2, 8), (5, 3, 3), (9, 16, 2), (2, 5, 6)]:
        A = rng.normal(size=(4, m, k)) + (1j * rng.normal(size=(4, m, k)) if np.dtype(dtype).kind == "c" else 0)
        B = rng.normal(size=(4, k, n)) + (1j * rng.normal(size=(4, k, n)) if np.dtype(dtype).kind == "c" else 0)
        A, B = A.astype(dtype), B.astype(dtype)
        expr = Expression("ij,jk->ik", (m, k), (k, n))
        got = expr.batched(Batched(A), Batched(B))
        wide = np.complex128 if np.dtype(dtype).kind == "c" else np.float64
        ref = np.einsum("sij,sjk->sik", A.astype(wide), B.astype(wide))
        tol = 1e-5 if dtype in (np.float32, np.complex64) else 1e-12
        np.testing.assert_allclose(got, ref, rtol=tol, atol=tol * np.abs(ref).max())


def test_default_instruction_set_equals_avx2_and_einsum():
    """The kernels compiled for the baseline instruction set (forced by PHYSDL_TENSORNET_ISA=default, in a
    fresh process) give numpy.einsum's values and agree with this process's kernels to rounding."""
    import os
    import subprocess
    import sys

    code = (
        "import numpy as np\n"
        "from physdl.tensornet import Expression, Sliced\n"
        "rng = np.random.default_rng(5)\n"
        "L, D, d, S = 6, 4, 2, 200\n"
        "A = [rng.normal(size=(D, d, D)) for _ in range(L)]\n"
        "conf = rng.integers(0, d, size=(S, L))\n"
        "expr = Expression([[i, (i + 1) % L] for i in range(L)], *[(D, D)] * L, output=[])\n"
        "out = expr.batched(*[Sliced(A[i], (1,), conf[:, i:i + 1]) for i in range(L)])\n"
        "np.save(__import__('sys').argv[1], out)\n"
    )
    results = {}
    for isa in ("default", "native"):
        path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"physdl_tn_isa_{os.getpid()}_{isa}.npy")
        env = dict(os.environ)
        if isa == "default":
            env["PHYSDL_TENSORNET_ISA"] = "default"
        else:
            env.pop("PHYSDL_TENSORNET_ISA", None)
        subprocess.run([sys.executable, "-c", code, path], check=True, env=env, timeout=120)
        results[isa] = np.load(path)
        os.unlink(path)
    rng = np.random.default_rng(5)
    L, D, d, S = 6, 4, 2, 200
    A = [rng.normal(size=(D, d, D)) for _ in range(L)]
    conf = rng.integers(0, d, size=(S, L))
    ref = np.array([np.trace(np.linalg.multi_dot([A[i][:, c[i], :] for i in range(L)])) for c in conf])
    scale = np.abs(ref).max()
    for isa, got in results.items():
        np.testing.assert_allclose(got, ref, rtol=1e-11, atol=1e-13 * scale, err_msg=isa)
    np.testing.assert_allclose(results["default"], results["native"], rtol=1e-12, atol=1e-14 * scale)
