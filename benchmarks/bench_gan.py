"""Time of one WGAN-GP iteration (critic step with gradient penalty, then generator step) against PyTorch CPU.

Critic 2-128-128-1 (ReLU), generator 8-128-128-2 (ReLU), batch 256, Adam, float32, one thread
(``PHYSDL_BENCH_THREADS``).  Both start from the same weights, batch, latents and interpolation
weights; the benchmark asserts that after a few iterations both hold the same parameters.

Run ``python benchmarks/bench_gan.py`` for the table with the ratio.  The script's times are
the process's CPU time (``PHYSDL_BENCH_CLOCK=wall`` for wall time), the blocks of physdl, PyTorch and
the BLAS floor interleaved, so that the load of a shared machine falls on all three alike.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from physdl import generative, nn

THREADS = int(os.environ.get("PHYSDL_BENCH_THREADS", "1"))
torch = pytest.importorskip("torch", reason="the benchmark compares with PyTorch")


def _pair(G, D, tnet, X, dtype):
    """physdl's and PyTorch's WGAN-GP iteration (critic step with the penalty, then generator step,
    Adam 1e-4, betas (0.5, 0.9)) on the same weights, batch ``X``, latents and interpolation weights.
    Returns (G, D, torch G, torch D, ours, theirs)."""
    B = X.shape[0]
    tG, tD = tnet(G), tnet(D)
    gan = generative.WGAN(G, D, penalty=10.0, g_optimizer=nn.Adam(1e-4, (0.5, 0.9)), d_optimizer=nn.Adam(1e-4, (0.5, 0.9)))
    oG = torch.optim.Adam(tG.parameters(), lr=1e-4, betas=(0.5, 0.9))
    oD = torch.optim.Adam(tD.parameters(), lr=1e-4, betas=(0.5, 0.9))
    Z = np.random.default_rng(1).normal(size=(B,) + tuple(G.input_shape)).astype(dtype)
    eps = np.random.default_rng(2).uniform(size=B)
    tX, tZ = torch.from_numpy(X), torch.from_numpy(Z)
    te = torch.from_numpy(eps.astype(dtype)).reshape((-1,) + (1,) * (X.ndim - 1))

    def ours():
        gan.discriminator_step(X, Z, eps)
        gan.generator_step(Z=Z)

    def theirs():
        xf = tG(tZ).detach()
        xh = (te * tX + (1 - te) * xf).requires_grad_(True)
        (g,) = torch.autograd.grad(tD(xh).sum(), xh, create_graph=True)
        oD.zero_grad()
        (tD(xf).mean() - tD(tX).mean() + 10 * ((g.flatten(1).norm(dim=1) - 1) ** 2).mean()).backward()
        oD.step()
        oG.zero_grad()
        (-tD(tG(tZ)).mean()).backward()
        oG.step()

    return G, D, tG, tD, ours, theirs


def _same_parameters_after_three_iterations(setup):
    G, D, tG, tD, ours, theirs = setup
    with threadpool_limits(THREADS):
        for _ in range(3):
            ours()
            theirs()
    for m, t in ((G, tG), (D, tD)):
        for k, p in t.state_dict().items():
            np.testing.assert_allclose(m.parameters()[k], p.numpy(), rtol=0, atol=1e-6, err_msg=k)


def _setup(dtype="float32", B=256):
    G = nn.Sequential([nn.Dense(8, 128), nn.ReLU(), nn.Dense(128, 128), nn.ReLU(), nn.Dense(128, 2)], seed=1, dtype=dtype)
    D = nn.Sequential([nn.Dense(2, 128), nn.ReLU(), nn.Dense(128, 128), nn.ReLU(), nn.Dense(128, 1)], seed=2, dtype=dtype)
    tdt = torch.float32 if dtype == "float32" else torch.float64

    def tnet(m):
        mods = [torch.nn.Linear(l.n_in, l.n_out) if isinstance(l, nn.Dense) else torch.nn.ReLU() for l in m.layers]
        t = torch.nn.Sequential(*mods).to(tdt)
        t.load_state_dict(m.to_torch_state_dict())
        return t

    X = generative.ring_of_gaussians(B, seed=0).astype(dtype)
    return _pair(G, D, tnet, X, dtype)


def test_same_parameters_after_three_iterations():
    _same_parameters_after_three_iterations(_setup("float64", B=64))


@pytest.mark.parametrize("impl", ["physdl", "torch"])
def test_wgan_gp_iteration(benchmark, impl):
    _, _, _, _, ours, theirs = _setup()
    torch.set_num_threads(THREADS)
    with threadpool_limits(THREADS):
        benchmark(ours if impl == "physdl" else theirs)


# The clock of the ratio tables: the process's CPU time by default (PHYSDL_BENCH_CLOCK=process), which
# on this shared 2-core machine does not count the time slices other processes take; "wall" for
# perf_counter.  Every library runs on the calling thread here (one BLAS/torch thread).
CLOCK = time.perf_counter if os.environ.get("PHYSDL_BENCH_CLOCK", "process") == "wall" else time.process_time


def _time(f, n=200):
    return _time_many([f], n)[0]


def _time_many(fs, n=200):
    """Best time per call of each function, the five blocks of each interleaved with the others'."""
    for f in fs:
        for _ in range(10):
            f()
    best = [np.inf] * len(fs)
    for _ in range(5):
        for i, f in enumerate(fs):
            t = CLOCK()
            for _ in range(n // 5):
                f()
            best[i] = min(best[i], (CLOCK() - t) / (n // 5))
    return best


def _floor_products(B=256):
    """The matrix products of one WGAN-GP iteration as the engine forms them, as (m, k, n) shapes.

    Critic widths 2-128-128-1, generator 8-128-128-2.  Critic step: generator forward on B latents;
    critic forward on 2B (real and fake); weight gradients (3) and input gradients of layers 2-3;
    penalty on B interpolates: forward (3), input gradient (3, no weight gradients), tangent
    forward (3), tangent backward: weight gradients (2 per layer) and the two input-gradient
    products of layers 2-3 (and layer 1's).  Generator step: generator forward (3), critic forward
    (3), critic input gradient (3), generator weight gradients (3) and input gradients of layers 2-3.
    """
    c, g = [2, 128, 128, 1], [8, 128, 128, 2]
    P = []
    fwd = lambda w, n: [(n, w[i], w[i + 1]) for i in range(3)]  # noqa: E731
    wgrad = lambda w, n: [(w[i + 1], n, w[i]) for i in range(3)]  # noqa: E731
    dx = lambda w, n, first=True: [(n, w[i + 1], w[i]) for i in range(0 if first else 1, 3)]  # noqa: E731
    P += fwd(g, B) + fwd(c, 2 * B) + wgrad(c, 2 * B) + dx(c, 2 * B, False)
    P += fwd(c, B) + dx(c, B) + fwd(c, B) + wgrad(c, B) * 2 + dx(c, B) * 2
    P += fwd(g, B) + fwd(c, B) + dx(c, B) + wgrad(g, B) + dx(g, B, False)
    return P


def _products_fn(products):
    """One call of the returned function forms the given (m, k, n) products in NumPy's BLAS (float32)."""
    rng = np.random.default_rng(0)
    mats = [(rng.normal(size=(m, k)).astype(np.float32), rng.normal(size=(k, q)).astype(np.float32))
            for m, k, q in products]
    outs = [np.empty((a.shape[0], b.shape[1]), np.float32) for a, b in mats]

    def f():
        for (a, b), o in zip(mats, outs):
            np.dot(a, b, out=o)

    return f


def _blas_floor(B=256, n=200):
    """Seconds for the products of one iteration in NumPy's BLAS (float32), best of 5 blocks."""
    return _time(_products_fn(_floor_products(B)), n)




# ---------------------------------------------------------------------------------------------------
# Convolutional WGAN-GP on 16x16 Ising configurations: generator ising_generator(16) (per-site noise,
# 4 channels, periodic 3x3 convolutions 4-16-16-1, tanh), critic ising_critic(16, width=8) (periodic 3x3
# convolutions 1-8-8, softplus, 2x2 average pooling, dense 512-1), batch 64.

CONV_L, CONV_B = 16, 64


def _conv_setup(dtype="float32", B=CONV_B):
    L = CONV_L
    G = generative.ising_generator(L, dtype=dtype)
    D = generative.ising_critic(L, width=8, dtype=dtype)
    tdt = torch.float32 if dtype == "float32" else torch.float64

    def tlayer(layer):
        if isinstance(layer, nn.Dense):
            return torch.nn.Linear(layer.n_in, layer.n_out)
        if isinstance(layer, nn.ConvTranspose2d):
            return torch.nn.ConvTranspose2d(layer.in_channels, layer.out_channels, layer.kernel_size)
        if isinstance(layer, nn.Conv2d):
            return torch.nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size, padding=layer.padding,
                                   padding_mode="circular")
        return {nn.Tanh: torch.nn.Tanh, nn.Softplus: torch.nn.Softplus, nn.Flatten: torch.nn.Flatten,
                nn.AvgPool2d: lambda: torch.nn.AvgPool2d(2)}[type(layer)]()

    def tnet(m):
        t = torch.nn.Sequential(*[tlayer(layer) for layer in m.layers]).to(tdt)
        t.load_state_dict(m.to_torch_state_dict())
        return t

    X = generative.ising_configurations(L, 3.0, B, seed=0, every=2, burn_in=100, dtype=dtype).reshape(B, 1, L, L)
    return _pair(G, D, tnet, X, dtype)


def test_conv_same_parameters_after_three_iterations():
    _same_parameters_after_three_iterations(_conv_setup("float64", B=16))


@pytest.mark.parametrize("impl", ["physdl", "torch"])
def test_conv_wgan_gp_iteration(benchmark, impl):
    _, _, _, _, ours, theirs = _conv_setup()
    torch.set_num_threads(THREADS)
    with threadpool_limits(THREADS):
        benchmark(ours if impl == "physdl" else theirs)


def _conv_floor_products(B=CONV_B, L=CONV_L):
    """The products of one convolutional WGAN-GP iteration written as im2col matrix products, (m, k, n).

    Read from the benchmarked networks' layers (so the floor follows the architecture): a ``kh x kw``
    unit-stride convolution ``cin -> cout`` on ``P = B L^2`` positions is forward ``(P, kh kw cin) x
    (kh kw cin, cout)``, input gradient ``(P, cout) x (cout, kh kw cin)``, weight gradient ``(cout, P) x
    (P, kh kw cin)``; a dense layer ``(B, n_in) x (n_in, n_out)`` and its two gradients.  The same passes
    as the MLP's floor (:func:`_floor_products`).  Pooling, activations, padding copies and the im2col
    gathers themselves are left out, so this floor is lower than any im2col implementation's time;
    physdl's unit-stride convolutions form no im2col matrix (direct convolution on padded planes with
    the accumulators in vector registers), so they can run below it.
    """
    P = lambda n: n * L * L  # noqa: E731

    def products_of(model):
        out = []
        for layer in model.layers:
            if isinstance(layer, nn.Conv2d):
                kh, kw = layer.kernel_size
                if tuple(layer.stride) != (1, 1):
                    raise ValueError("the floor counts unit-stride convolutions only")
                out.append(("conv", kh * kw * layer.in_channels, layer.out_channels))
            elif isinstance(layer, nn.Dense):
                out.append(("dense", layer.n_in, layer.n_out))
        return out

    crit = products_of(generative.ising_critic(L, width=8))
    gen = products_of(generative.ising_generator(L))

    def fwd(net, n):
        return [(P(n), a, b) if t == "conv" else (n, a, b) for t, a, b in net]

    def wgrad(net, n):
        return [(b, P(n), a) if t == "conv" else (a, n, b) for t, a, b in net]

    def dx(net, n, first=True):
        return [(P(n), b, a) if t == "conv" else (n, b, a) for t, a, b in (net if first else net[1:])]

    out = fwd(gen, B) + fwd(crit, 2 * B) + wgrad(crit, 2 * B) + dx(crit, 2 * B, False)
    out += fwd(crit, B) + dx(crit, B) + fwd(crit, B) + wgrad(crit, B) * 2 + dx(crit, B) * 2
    out += fwd(gen, B) + fwd(crit, B) + dx(crit, B) + wgrad(gen, B) + dx(gen, B, False)
    return out


def _blas_floor_of(products, n=200):
    return _time(_products_fn(products), n)


def _clock_name():
    return "wall" if CLOCK is time.perf_counter else "CPU"


def main_conv():
    torch.set_num_threads(THREADS)
    with threadpool_limits(THREADS):
        _, _, _, _, ours, theirs = _conv_setup()
        a, b, f = _time_many([ours, theirs, _products_fn(_conv_floor_products())], 50)
    print(f"conv WGAN-GP iteration on 16x16 Ising (batch {CONV_B}, float32, {THREADS} thread, {_clock_name()} time): "
          f"physdl {a * 1e3:.2f} ms, "
          f"PyTorch {b * 1e3:.2f} ms, PyTorch/physdl = {b / a:.2f}; im2col BLAS floor {f * 1e3:.2f} ms, "
          f"physdl/floor = {a / f:.2f}, PyTorch/floor = {b / f:.2f}")


if __name__ == "__main__":
    torch.set_num_threads(THREADS)
    with threadpool_limits(THREADS):
        _, _, _, _, ours, theirs = _setup()
        a, b, f = _time_many([ours, theirs, _products_fn(_floor_products())])
    print(f"WGAN-GP iteration (batch 256, float32, {THREADS} thread, {_clock_name()} time): physdl {a * 1e3:.2f} ms, "
          f"PyTorch {b * 1e3:.2f} ms, PyTorch/physdl = {b / a:.2f}; BLAS floor (the step's products in "
          f"NumPy's BLAS) {f * 1e3:.2f} ms, physdl/floor = {a / f:.2f}, PyTorch/floor = {b / f:.2f}")
    main_conv()
