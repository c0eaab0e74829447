"""Time per training step (forward + backward + Adam) of physdl.nn against PyTorch CPU and NumPy.

Five problems (float32, PyTorch's default Adam): MLP 1024-100-2 batch 64; MLP 2-8-1 batch 32;
LSTM input 8 hidden 32 sequence 50 batch 32; Conv 1x32x32 -> 8 channels 3x3 periodic -> dense -> 2
batch 64; MLP 1024-100-2 batch 4096.  Implementations: physdl cpp (one fused C++ call per step),
physdl numba, PyTorch (eager, ``torch.optim.Adam``), hand-written NumPy.  Every implementation
starts from the same weights; the benchmark asserts that they compute the same first-step loss and
the same parameters after a few steps, so it cannot go stale.

Thread counts: BLAS (SciPy's and NumPy's OpenBLAS, via threadpoolctl) and PyTorch
(``torch.set_num_threads``) all use ``PHYSDL_BENCH_THREADS`` threads (default 1).

Run ``python benchmarks/bench_nn.py`` for the table with ratios, or
``pytest benchmarks/bench_nn.py --benchmark-enable`` for pytest-benchmark statistics.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from physdl import nn

THREADS = int(os.environ.get("PHYSDL_BENCH_THREADS", "1"))
torch = pytest.importorskip("torch", reason="the benchmark compares with PyTorch")


# ------------------------------------------------------------------ problems
def _problem(name):
    rng = np.random.default_rng(0)
    f32 = np.float32
    if name.startswith("mlp_1024"):
        b = 64 if name.endswith("b64") else 4096
        layers = [nn.Dense(1024, 100), nn.ReLU(), nn.Dense(100, 2)]
        X = rng.normal(size=(b, 1024)).astype(f32)
        y = rng.integers(0, 2, size=b)
        return layers, X, y, "softmax_cross_entropy"
    if name == "mlp_2_8_1_b32":
        layers = [nn.Dense(2, 8), nn.Tanh(), nn.Dense(8, 1)]
        X = rng.normal(size=(32, 2)).astype(f32)
        y = (X[:, :1] * X[:, 1:]).astype(f32)
        return layers, X, y, "mse"
    if name == "lstm_8_32_T50_b32":
        layers = [nn.LSTM(8, 32), nn.Dense(32, 2)]
        X = rng.normal(size=(32, 50, 8)).astype(f32)
        y = rng.integers(0, 2, size=32)
        return layers, X, y, "softmax_cross_entropy"
    if name == "conv_periodic_b64":
        layers = [nn.Conv2d(1, 8, 3, padding=1, padding_mode="periodic"), nn.ReLU(), nn.Flatten(),
                  nn.Dense(8 * 32 * 32, 2)]
        X = rng.normal(size=(64, 1, 32, 32)).astype(f32)
        y = rng.integers(0, 2, size=64)
        return layers, X, y, "softmax_cross_entropy"
    raise KeyError(name)


PROBLEMS = ["mlp_1024_100_2_b64", "mlp_2_8_1_b32", "lstm_8_32_T50_b32", "conv_periodic_b64", "mlp_1024_100_2_b4096"]
IMPLS = ["physdl_cpp", "physdl_numba", "torch", "numpy"]


# ------------------------------------------------------------------ NumPy reference (hand-written)
class _NumpyAdam:
    def __init__(self, params, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
        self.p, self.lr, self.b1, self.b2, self.eps, self.t = params, lr, b1, b2, eps, 0
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]

    def step(self, grads):
        self.t += 1
        bc1, bc2 = 1 - self.b1 ** self.t, 1 - self.b2 ** self.t
        for p, g, m, v in zip(self.p, grads, self.m, self.v):
            m += (1 - self.b1) * (g - m)
            v *= self.b2
            v += (1 - self.b2) * g * g
            p -= (self.lr / bc1) * m / (np.sqrt(v) / np.sqrt(bc2) + self.eps)


def _np_loss_grad(z, y, loss):
    if loss == "mse":
        d = z - y
        return float(np.mean(d * d)), (2.0 / d.size) * d
    zm = z - z.max(axis=1, keepdims=True)
    e = np.exp(zm)
    p = e / e.sum(axis=1, keepdims=True)
    n = z.shape[0]
    L = float(-np.mean(np.log(p[np.arange(n), y])))
    p[np.arange(n), y] -= 1
    return L, p / n


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


class NumpyModel:
    """Hand-written NumPy forward/backward/Adam for the five problems."""

    def __init__(self, name, model, loss):
        self.name, self.loss = name, loss
        self.P = [a.copy() for a in model.parameters().values()]
        self.opt = _NumpyAdam(self.P)

    def step(self, X, y):
        name = self.name
        if name.startswith("mlp"):
            W1, b1, W2, b2 = self.P
            a = X @ W1.T + b1
            h = np.tanh(a) if name == "mlp_2_8_1_b32" else np.maximum(a, 0)
            z = h @ W2.T + b2
            L, dz = _np_loss_grad(z, y, self.loss)
            dh = dz @ W2
            da = dh * (1 - h * h) if name == "mlp_2_8_1_b32" else dh * (a > 0)
            grads = [da.T @ X, da.sum(0), dz.T @ h, dz.sum(0)]
        elif name.startswith("conv"):
            W, b, Wd, bd = self.P
            n = X.shape[0]
            xp = np.pad(X[:, 0], ((0, 0), (1, 1), (1, 1)), mode="wrap")
            win = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(1, 2))  # n,32,32,3,3
            cols = win.reshape(n * 1024, 9)
            a = (cols @ W.reshape(8, 9).T).reshape(n, 1024, 8).transpose(0, 2, 1) + b[None, :, None]
            h = np.maximum(a, 0).reshape(n, -1)
            z = h @ Wd.T + bd
            L, dz = _np_loss_grad(z, y, self.loss)
            da = (dz @ Wd).reshape(n, 8, 1024) * (a > 0)
            dW = (da.transpose(1, 0, 2).reshape(8, -1) @ cols).reshape(W.shape)
            grads = [dW, da.sum((0, 2)), dz.T @ h, dz.sum(0)]
        else:  # LSTM, gates i, f, g, o
            Wx, Wh, bias, Wd, bd = self.P
            n, T, _ = X.shape
            H = Wh.shape[1]
            h = np.zeros((n, H), X.dtype)
            c = np.zeros((n, H), X.dtype)
            cache = []
            xp = (X.reshape(n * T, -1) @ Wx.T).reshape(n, T, -1) + bias
            for t in range(T):
                a = xp[:, t] + h @ Wh.T
                i, f, g, o = _sig(a[:, :H]), _sig(a[:, H:2 * H]), np.tanh(a[:, 2 * H:3 * H]), _sig(a[:, 3 * H:])
                cp, hp = c, h
                c = f * cp + i * g
                tc = np.tanh(c)
                h = o * tc
                cache.append((i, f, g, o, cp, hp, tc))
            z = h @ Wd.T + bd
            L, dz = _np_loss_grad(z, y, self.loss)
            dh = dz @ Wd
            dc = np.zeros_like(c)
            dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(bias)
            for t in range(T - 1, -1, -1):
                i, f, g, o, cp, hp, tc = cache[t]
                dc = dc + dh * o * (1 - tc * tc)
                da = np.concatenate([dc * g * i * (1 - i), dc * cp * f * (1 - f), dc * i * (1 - g * g),
                                     dh * tc * o * (1 - o)], axis=1)
                dWx += da.T @ X[:, t]
                dWh += da.T @ hp
                db += da.sum(0)
                dh = da @ Wh
                dc = dc * f
            grads = [dWx, dWh, db, dz.T @ h, dz.sum(0)]
        self.opt.step([g.astype(X.dtype, copy=False) for g in grads])
        return L

    def flat(self):
        return np.concatenate([p.reshape(-1) for p in self.P])


# ------------------------------------------------------------------ PyTorch
class _LastLSTM(torch.nn.LSTM):
    def forward(self, x):
        return torch.nn.LSTM.forward(self, x)[0][:, -1]


def torch_model(model):
    mods = []
    for l in model.layers:
        if isinstance(l, nn.Dense):
            mods.append(torch.nn.Linear(l.n_in, l.n_out))
        elif isinstance(l, nn.ReLU):
            mods.append(torch.nn.ReLU())
        elif isinstance(l, nn.Tanh):
            mods.append(torch.nn.Tanh())
        elif isinstance(l, nn.Flatten):
            mods.append(torch.nn.Flatten())
        elif isinstance(l, nn.Conv2d):
            mods.append(torch.nn.Conv2d(l.in_channels, l.out_channels, l.kernel_size, padding=l.padding,
                                        padding_mode="circular"))
        elif isinstance(l, nn.LSTM):
            mods.append(_LastLSTM(l.input_size, l.hidden_size, batch_first=True))
    tm = torch.nn.Sequential(*mods)
    tm.load_state_dict(model.to_torch_state_dict())
    for name, p in tm.named_parameters():
        if name.endswith("bias_hh_l0"):  # physdl has one bias per gate: keep the second at zero
            p.requires_grad_(False)
    return tm


class TorchStep:
    def __init__(self, model, loss):
        self.tm = torch_model(model)
        self.opt = torch.optim.Adam(self.tm.parameters())
        self.lossf = torch.nn.functional.mse_loss if loss == "mse" else torch.nn.functional.cross_entropy

    def step(self, X, y):
        self.opt.zero_grad()
        L = self.lossf(self.tm(X), y)
        L.backward()
        self.opt.step()
        return L.item()

    def flat(self):
        return torch.cat([p.detach().reshape(-1) for p in self.tm.parameters() if p.requires_grad]).numpy()


# ------------------------------------------------------------------ the step functions
def make_step(problem, impl):
    """A zero-argument training-step function, and a function returning the flat parameters."""
    layers, X, y, loss = _problem(problem)
    model = nn.Sequential(layers, input_shape=X.shape[1:], seed=0, dtype="float32",
                          backend="numba" if impl == "physdl_numba" else "cpp")
    if impl.startswith("physdl"):
        opt = nn.Adam()
        return (lambda: model.train_step(X, y, loss, opt)), (lambda: model.params.copy())
    if impl == "torch":
        ts = TorchStep(model, loss)
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        return (lambda: ts.step(Xt, yt)), ts.flat
    nm = NumpyModel(problem, model, loss)
    return (lambda: nm.step(X, y)), nm.flat


def check_agreement(problem, steps=3):
    """First-step losses equal and parameters after ``steps`` steps close, across implementations."""
    results = {}
    for impl in IMPLS:
        step, flat = make_step(problem, impl)
        losses = [step() for _ in range(steps)]
        results[impl] = (losses, flat())
    ref_l, ref_p = results["torch"]
    for impl, (losses, params) in results.items():
        assert losses[0] == pytest.approx(ref_l[0], rel=2e-4, abs=1e-5), (problem, impl, losses[0], ref_l[0])
        np.testing.assert_allclose(params, ref_p, rtol=0, atol=5e-4, err_msg=f"{problem} {impl}")
    return results


def time_step(step, min_time=0.3, repeats=5):
    """Median over ``repeats`` of the mean time per call, each repeat lasting about ``min_time``."""
    for _ in range(3):
        step()
    t0 = time.perf_counter()
    step()
    one = max(time.perf_counter() - t0, 1e-7)
    n = max(1, int(min_time / one))
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            step()
        out.append((time.perf_counter() - t0) / n)
    return float(np.median(out))


# ------------------------------------------------------------------ pytest entry points
@pytest.fixture(autouse=True)
def _threads():
    old = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    with threadpool_limits(THREADS):
        yield
    torch.set_num_threads(old)


@pytest.mark.parametrize("problem", PROBLEMS)
def test_implementations_agree(problem):
    check_agreement(problem)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("problem", PROBLEMS)
def test_train_step_time(benchmark, problem, impl):
    step, _ = make_step(problem, impl)
    benchmark.group = problem
    L0 = step()
    benchmark(step)
    assert np.isfinite(L0)


def main():
    torch.set_num_threads(THREADS)
    with threadpool_limits(THREADS):
        print(f"threads: BLAS and torch = {THREADS}; torch {torch.__version__}; times per training step")
        print(f"{'problem':24s}" + "".join(f"{i:>14s}" for i in IMPLS) + "   cpp/torch speed-up  numba  numpy")
        for problem in PROBLEMS:
            check_agreement(problem)
            t = {impl: time_step(make_step(problem, impl)[0]) for impl in IMPLS}
            cells = "".join(f"{t[i] * 1e6:12.1f}us" for i in IMPLS)
            print(f"{problem:24s}{cells}   {t['torch'] / t['physdl_cpp']:8.2f}x  "
                  f"{t['torch'] / t['physdl_numba']:8.2f}x {t['torch'] / t['numpy']:6.2f}x", flush=True)


if __name__ == "__main__":
    main()


# ------------------------------------------------------------------ backward / per-sample / double backward
# Critic-sized MLP 16-64-64-1 (tanh), float32, batch 256: a caller-supplied output gradient
# (Sequential.backward vs torch autograd), per-sample gradients (vs torch.func.vmap(grad)), and the
# WGAN-GP penalty's parameter gradient (double backward vs torch.autograd.grad(create_graph=True)).
GRAD_TASKS = ["backward", "per_sample", "double_backward"]


def make_grad_task(task, impl):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(256, 16)).astype(np.float32)
    dY = rng.normal(size=(256, 1)).astype(np.float32)
    model = nn.Sequential([nn.Dense(16, 64), nn.Tanh(), nn.Dense(64, 64), nn.Tanh(), nn.Dense(64, 1)],
                          seed=0, dtype="float32")
    if impl == "physdl_cpp":
        if task == "backward":
            return lambda: model.backward(X, dY).flat
        if task == "per_sample":
            return lambda: model.per_sample_gradients(X)
        return lambda: model.gradient_penalty(X)[1].flat
    tm = torch_model_smooth(model)
    params = dict(tm.named_parameters())
    Xt, dYt = torch.from_numpy(X), torch.from_numpy(dY)

    def flat(gs):
        return torch.cat([g.reshape(-1) for g in gs]).numpy()

    if task == "backward":
        return lambda: flat(torch.autograd.grad((tm(Xt) * dYt).sum(), list(params.values())))
    if task == "per_sample":
        f = torch.func.vmap(torch.func.grad(lambda p, x: torch.func.functional_call(tm, p, (x.unsqueeze(0),)).sum()),
                            in_dims=(None, 0))
        detached = {k: v.detach() for k, v in params.items()}
        return lambda: torch.cat([g.reshape(256, -1) for g in f(detached, Xt).values()], dim=1).numpy()

    def gp():
        x = Xt.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(tm(x).sum(), x, create_graph=True)
        pen = ((g.norm(dim=1) - 1) ** 2).mean()
        return flat(torch.autograd.grad(pen, list(params.values()), allow_unused=True, materialize_grads=True))

    return gp


def torch_model_smooth(model):
    mods = []
    for l in model.layers:
        mods.append(torch.nn.Linear(l.n_in, l.n_out) if isinstance(l, nn.Dense) else torch.nn.Tanh())
    tm = torch.nn.Sequential(*mods)
    tm.load_state_dict(model.to_torch_state_dict())
    return tm


@pytest.mark.parametrize("task", GRAD_TASKS)
def test_gradient_tasks_agree_with_torch(task):
    a, b = make_grad_task(task, "physdl_cpp")(), make_grad_task(task, "torch")()
    np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-5)


@pytest.mark.parametrize("impl", ["physdl_cpp", "torch"])
@pytest.mark.parametrize("task", GRAD_TASKS)
def test_gradient_task_time(benchmark, task, impl):
    f = make_grad_task(task, impl)
    benchmark.group = f"grad_{task}"
    assert np.isfinite(f()).all()
    benchmark(f)
