"""Every kernel path of Conv2d against PyTorch (circular padding for "periodic").

The C++ engine picks, per layer: the direct unit-stride convolution on padded planes (forward, its
tangent, the weight gradient and, when the input gradient is itself such a convolution, the
flipped-kernel input gradient) for rows of at least half a vector register; im2col products in
chunks of samples otherwise (strides > 1, narrow images); the col2im scatter for input gradients
that are not a convolution of the same kind (even kernels with periodic padding, wide channel
ratios).  The cases below reach each of them, with odd image sizes, widths that are not a multiple
of the vector length, output-channel counts that leave remainders of the eight-channel blocks,
kernels larger than 3 and several chunks of samples.  Each is checked for the output, the
parameter and input gradients of a given output gradient, and the gradient penalty's parameter
gradient (double backward) against torch.autograd with create_graph.
"""

import numpy as np
import pytest

from physdl import nn

from .torch_ref import torch_grads, torch_model

torch = pytest.importorskip("torch", reason="PyTorch is not installed")

# (in_channels, out_channels, kernel, stride, padding, padding_mode, input shape, batch)
CASES = {
    "periodic_odd_sizes": (3, 5, 3, 1, 1, "periodic", (3, 7, 9), 5),
    "periodic_k5_cout9": (2, 9, 5, 1, 2, "periodic", (2, 11, 13), 4),
    "periodic_even_kernel": (2, 3, 4, 1, 1, "periodic", (2, 6, 7), 3),
    "periodic_pad_beyond_half": (2, 3, 3, 1, 3, "periodic", (2, 4, 5), 3),
    "periodic_stride2": (2, 4, 3, 2, 1, "periodic", (2, 9, 7), 4),
    "periodic_stride2_chunks": (8, 8, 3, 2, 1, "periodic", (8, 32, 32), 9),
    "periodic_narrow": (2, 2, 3, 1, 1, "periodic", (2, 3, 3), 4),
    "periodic_one_to_many": (1, 12, 3, 1, 1, "periodic", (1, 16, 20), 3),
    "zeros_valid_cout12": (3, 12, 3, 1, 0, "zeros", (3, 8, 20), 3),
    "zeros_pad_k_minus_1": (1, 6, 5, 1, 4, "zeros", (1, 5, 6), 3),
    "zeros_pad_beyond_kernel": (2, 3, 3, 1, 3, "zeros", (2, 5, 6), 2),
}


def _model(case, dtype, backend="cpp"):
    cin, cout, k, st, pad, mode, shape, _ = CASES[case]
    conv = nn.Conv2d(cin, cout, k, stride=st, padding=pad, padding_mode=mode)
    probe = nn.Sequential([conv], input_shape=shape, seed=0, dtype="float64")
    m = int(np.prod(probe.output_shape))
    return nn.Sequential([nn.Conv2d(cin, cout, k, stride=st, padding=pad, padding_mode=mode), nn.Softplus(),
                          nn.Flatten(), nn.Dense(m, 1)], input_shape=shape, seed=7, dtype=dtype, backend=backend)


def _data(case):
    _, _, _, _, _, _, shape, n = CASES[case]
    rng = np.random.default_rng(11)
    return rng.normal(size=(n,) + shape), rng.normal(size=(n, 1))


def _torch_reference(model, X, dY):
    tm = torch_model(model)
    xt = torch.tensor(X, requires_grad=True)
    out = tm(xt)
    (g,) = torch.autograd.grad((out * torch.tensor(dY)).sum(), xt, create_graph=True)
    gp = ((g.reshape(g.shape[0], -1).norm(dim=1) - 1) ** 2).mean()
    gp.backward()
    gp_grads = torch_grads(model, tm)
    tm.zero_grad()
    xt2 = torch.tensor(X, requires_grad=True)
    (tm(xt2) * torch.tensor(dY)).sum().backward()
    return out.detach().numpy(), torch_grads(model, tm), xt2.grad.numpy(), float(gp.detach()), gp_grads


def _compare(model, X, dY, tol):
    y_t, g_t, gx_t, gp_t, gpg_t = _torch_reference(model, X, dY)
    Xd = X.astype(model.dtype)
    np.testing.assert_allclose(model.predict(Xd), y_t, **tol)
    g = model.backward(Xd, dY.astype(model.dtype), input_grad=True)
    np.testing.assert_allclose(g.flat, g_t, **tol)
    np.testing.assert_allclose(g.input, gx_t, **tol)
    gp, grads = model.gradient_penalty(Xd, dY=dY.astype(model.dtype))
    assert gp == pytest.approx(gp_t, rel=tol["rtol"] * 10, abs=tol["atol"])
    np.testing.assert_allclose(grads.flat, gpg_t, **tol)


@pytest.mark.parametrize("case", sorted(CASES))
def test_conv_paths_equal_torch_float64(case, cpu_backend):
    model = _model(case, "float64", cpu_backend)
    X, dY = _data(case)
    _compare(model, X, dY, dict(rtol=1e-6, atol=1e-10))


@pytest.mark.parametrize("case", sorted(CASES))
def test_conv_paths_equal_torch_float32(case):
    """The float32 kernels (16 lanes per vector where double has 8) against float64 PyTorch."""
    model = _model(case, "float32")
    X, dY = _data(case)
    # float64 copy of the same float32 weights for the reference
    ref = _model(case, "float64")
    ref.params[:] = model.params.astype(np.float64)
    y_t, g_t, gx_t, gp_t, gpg_t = _torch_reference(ref, X.astype(np.float32).astype(np.float64),
                                                   dY.astype(np.float32).astype(np.float64))
    Xf, dYf = X.astype(np.float32), dY.astype(np.float32)
    scale = lambda a: dict(rtol=2e-4, atol=2e-5 * max(1.0, float(np.abs(a).max())))  # noqa: E731
    np.testing.assert_allclose(model.predict(Xf), y_t, **scale(y_t))
    g = model.backward(Xf, dYf, input_grad=True)
    np.testing.assert_allclose(g.flat, g_t, **scale(g_t))
    np.testing.assert_allclose(g.input, gx_t, **scale(gx_t))
    gp, grads = model.gradient_penalty(Xf, dY=dYf)
    assert gp == pytest.approx(gp_t, rel=1e-3)
    np.testing.assert_allclose(grads.flat, gpg_t, **scale(gpg_t))


def test_conv_paths_same_on_cpp_and_numba():
    import physdl

    if not physdl.backends()["numba"].available:
        pytest.skip("the numba backend is not available")
    for case in ("periodic_odd_sizes", "periodic_stride2_chunks", "zeros_pad_k_minus_1"):
        X, dY = _data(case)
        a, b = _model(case, "float64", "cpp"), _model(case, "float64", "numba")
        ga, gb = a.gradient_penalty(X, dY=dY)[1], b.gradient_penalty(X, dY=dY)[1]
        np.testing.assert_allclose(ga.flat, gb.flat, rtol=1e-10, atol=1e-12, err_msg=case)
        np.testing.assert_allclose(a.backward(X, dY, input_grad=True).input, b.backward(X, dY, input_grad=True).input,
                                   rtol=1e-10, atol=1e-12, err_msg=case)


POOLS = {  # non-overlapping average windows (the row-sum path) on sizes the windows do not divide, and an overlapping one
    "avg2_odd": (2, None, (2, 7, 9)),
    "avg3x2": ((3, 2), None, (2, 8, 7)),
    "avg3_stride2_overlapping": (3, 2, (2, 9, 8)),
}


@pytest.mark.parametrize("case", sorted(POOLS))
def test_average_pooling_paths_equal_torch(case, cpu_backend):
    k, st, shape = POOLS[case]
    probe = nn.Sequential([nn.Conv2d(shape[0], 3, 3, padding=1, padding_mode="periodic"), nn.AvgPool2d(k, st)],
                          input_shape=shape, seed=0, dtype="float64")
    m = int(np.prod(probe.output_shape))
    model = nn.Sequential([nn.Conv2d(shape[0], 3, 3, padding=1, padding_mode="periodic"), nn.Softplus(),
                           nn.AvgPool2d(k, st), nn.Flatten(), nn.Dense(m, 1)], input_shape=shape, seed=5,
                          dtype="float64", backend=cpu_backend)
    rng = np.random.default_rng(12)
    X, dY = rng.normal(size=(3,) + shape), rng.normal(size=(3, 1))
    _compare(model, X, dY, dict(rtol=1e-6, atol=1e-10))
