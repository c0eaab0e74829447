"""The holographic QCD network (book sec. 12.4: 15 layers, batch 10, Adam) per training epoch of the
10,000-point data set: physdl's fused C++ epochs against the same network written in PyTorch (what the
book used), one thread each, in one run; and the book's whole protocol (1500 epochs x 8 trials)
timed or extrapolated from the measured epochs.

Run with timings:  python -m pytest benchmarks/bench_holography.py --benchmark-enable -s
The PyTorch network is checked to give physdl's loss and gradient before anything is timed.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import physdl
from physdl.holography import HolographicNetwork, qcd_data

torch = pytest.importorskip("torch")

N = 15
SETTINGS = dict(m2=-3.0, lam=0.2, R=0.8, input_map="qcd", output="window", eps=0.1, sharpness=10.0,
                c_smooth=0.01, c_bdry=0.01, d_bdry=4.0)


class TorchHolo(torch.nn.Module):
    """The same network in PyTorch: eq. 12.22-12.24 input, eq. 12.5-12.6 layers, window output."""

    def __init__(self, h, lam, R):
        super().__init__()
        self.h = torch.nn.Parameter(torch.tensor(h, dtype=torch.float64))
        self.lam = torch.nn.Parameter(torch.tensor(lam, dtype=torch.float64))
        self.R = torch.nn.Parameter(torch.tensor(R, dtype=torch.float64))
        self.eta = torch.tensor(1.0 + (0.1 - 1.0) / N * np.arange(N))

    def forward(self, x):
        d = (0.1 - 1.0) / N
        al = np.sqrt(3) / (2 * np.pi) * x[:, 0] * self.R
        be = np.pi / np.sqrt(3) * x[:, 1] * self.R**3
        e1, e3, eta = np.exp(-1.0), np.exp(-3.0), 1.0
        phi = al * e1 + be * e3 - 0.5 * self.lam * al**3 * eta * e3
        pi = -al * e1 - (3 * be + 0.5 * self.lam * al**3) * e3 + 1.5 * self.lam * al**3 * eta * e3
        for n in range(N):
            phi, pi = phi + d * pi, pi + d * (-self.h[n] * pi - 3.0 * phi + self.lam * phi**3)
        s, eps = 10.0, 0.1
        return 1.0 + 0.5 * (torch.tanh(s * (pi - eps)) - torch.tanh(s * (pi + eps)))

    def loss(self, x, y):
        data = torch.mean((self.forward(x) - y) ** 2)
        w = 0.01 * self.eta[:-1] ** 4
        return data + torch.sum(w * (self.h[1:] - self.h[:-1]) ** 2) + 0.01 * (4.0 - self.h[0]) ** 2


def torch_epoch(model, opt, X, Y, order, batch=10):
    for s in range(0, len(order), batch):
        idx = order[s:s + batch]
        opt.zero_grad()
        loss = model.loss(X[idx], Y[idx])
        loss.backward()
        opt.step()


def test_epoch_speed_against_pytorch(request, benchmark):
    quick = benchmark.disabled
    n_points = 500 if quick else 10000
    x, lab = qcd_data(n_points, seed=1)
    h0 = 4.0 + 3.0 * np.random.default_rng(0).normal(size=N)
    net = HolographicNetwork(N, 1.0, 0.1, h=h0, **SETTINGS)
    model = TorchHolo(h0, 0.2, 0.8)
    X, Y = torch.tensor(x), torch.tensor(lab)
    # same loss and gradient before timing anything
    total, _, g = net.loss_and_grad(x[:10], lab[:10])
    loss = model.loss(X[:10], Y[:10])
    loss.backward()
    assert float(loss.detach()) == pytest.approx(total, rel=1e-12)
    tg = np.concatenate([model.h.grad.numpy(), [model.lam.grad.item(), model.R.grad.item()]])
    np.testing.assert_allclose(tg, g, rtol=1e-9, atol=1e-14)

    n_threads, t_threads = physdl.get_num_threads(), torch.get_num_threads()
    torch.set_num_threads(1)
    physdl.set_num_threads(1)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    order = torch.randperm(n_points, generator=torch.Generator().manual_seed(0))
    t0 = time.perf_counter()
    torch_epoch(model, opt, X, Y, order)
    t_torch = time.perf_counter() - t0

    def physdl_epochs(k):
        return net.fit(x, lab, epochs=k, batch=10, lr=1e-3, train=("h", "lam", "R"), seed=0)

    k = 2 if quick else 20
    t0 = time.perf_counter()
    res = benchmark.pedantic(physdl_epochs, args=(k,), rounds=1, iterations=1)
    t_physdl = (time.perf_counter() - t0) / k
    assert np.all(np.isfinite(res.history))
    physdl.set_num_threads(2)
    try:
        t0 = time.perf_counter()
        net.fit(x, lab, epochs=k, batch=10, lr=1e-3, trials=8, train=("h", "lam", "R"), seed=0)
        t_trials = (time.perf_counter() - t0) / k  # 8 trials per epoch, 2 threads
    finally:
        physdl.set_num_threads(n_threads)
        torch.set_num_threads(t_threads)
    scale = 10000 / n_points
    print(f"\nholographic QCD network, epoch of {n_points} points (batch 10, Adam, 1 thread): PyTorch "
          f"{t_torch * 1e3:.1f} ms, physdl {t_physdl * 1e3:.2f} ms: {t_torch / t_physdl:.0f}x; "
          f"book protocol (1500 epochs x 8 trials of 10,000 points) on 2 threads: "
          f"{t_trials * scale * 1500:.0f} s (PyTorch, 1 thread: {t_torch * scale * 1500 * 8 / 3600:.1f} h)")
