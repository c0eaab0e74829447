"""Time per training step of physdl.nn on CUDA against PyTorch eager and PyTorch with the whole step
captured as a CUDA graph, on the same card in the same run (issue 20's cases).

MLP 1024-100-2 (ReLU), Adam, MSE, float32, batch 64 and 4096 (the MLP variants start from the same
weights and batch), and LSTM(8, 32) over 50 steps with a Dense head, batch 32.  Every variant brings
its loss back to the host each step, as physdl's train_step returns it.  Agreement of the results
with the CPU engine is tested in tests/nn/test_cuda_nn.py, not here.

    python benchmarks/gpu/bench_gpu_nn.py [--steps 500] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def physdl_us(model, X, Y, steps):
    """Microseconds per ``train_step`` of a ``backend="cuda"`` model (after the eager step, the
    capture and warm replays)."""
    from physdl import nn

    opt = nn.Adam(lr=1e-3)
    for _ in range(10):
        model.train_step(X, Y, "mse", opt)
    t0 = time.perf_counter()
    for _ in range(steps):
        model.train_step(X, Y, "mse", opt)
    return (time.perf_counter() - t0) / steps * 1e6


def torch_us(net, X, Y, steps, graphed):
    """Microseconds per Adam/MSE step of a CUDA torch module, eager or captured as one CUDA graph."""
    import torch

    dev = torch.device("cuda")
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, capturable=graphed)
    xs, ys = torch.from_numpy(X).to(dev), torch.from_numpy(Y).to(dev)

    def step():
        opt.zero_grad(set_to_none=not graphed)
        loss = torch.nn.functional.mse_loss(net(xs), ys)
        loss.backward()
        opt.step()
        return loss

    run = step
    if graphed:
        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            for _ in range(3):
                step()
        torch.cuda.current_stream().wait_stream(s)
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            static_loss = step()

        def run():
            g.replay()
            return static_loss
    for _ in range(10):
        run().item()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(steps):
        run().item()  # the loss comes back each step, as physdl's train_step returns it
    torch.cuda.synchronize()
    return (time.perf_counter() - t0) / steps * 1e6


def measure(row, make_physdl, make_torch, X, Y, steps):
    """Fill ``row`` with physdl's and torch's (eager, graphed) times; a failing variant is reported."""
    try:
        row["physdl_us"] = physdl_us(make_physdl(), X, Y, steps)
    except Exception as e:  # noqa: BLE001 - report, keep measuring the peers
        row["physdl_error"] = f"{type(e).__name__}: {e}"
    for graphed, key in ((False, "torch_eager_us"), (True, "torch_graph_us")):
        try:
            row[key] = torch_us(make_torch().to("cuda"), X, Y, steps, graphed)
        except Exception as e:  # noqa: BLE001
            row[key.replace("_us", "_error")] = f"{type(e).__name__}: {e}"
    return row


def mlp_row(batch, steps, n_in=1024, hidden=100, n_out=2):
    """MLP n_in-hidden-n_out (ReLU), both libraries starting from the same weights."""
    import torch

    from physdl import nn

    rng = np.random.default_rng(0)
    X = rng.normal(size=(batch, n_in)).astype(np.float32)
    Y = rng.normal(size=(batch, n_out)).astype(np.float32)
    layers = lambda: [nn.Dense(n_in, hidden), nn.ReLU(), nn.Dense(hidden, n_out)]  # noqa: E731
    init = nn.Sequential(layers(), seed=0).params.copy()

    def make_physdl():
        m = nn.Sequential(layers(), backend="cuda", seed=0)
        m.params[:] = init
        return m

    def make_torch():
        net = torch.nn.Sequential(torch.nn.Linear(n_in, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, n_out))
        with torch.no_grad():
            off = 0
            for p in net.parameters():
                k = p.numel()
                p.copy_(torch.from_numpy(init[off:off + k].reshape(p.shape)))
                off += k
        return net

    return measure({"case": f"MLP {n_in}-{hidden}-{n_out} Adam", "batch": batch}, make_physdl, make_torch, X, Y,
                   steps)


def lstm_row(steps, n=32, Tn=50, I=8, H=32):
    """LSTM(8, 32) over 50 steps, last hidden state -> Dense(32, 1), MSE, Adam, batch 32."""
    import torch

    from physdl import nn

    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, Tn, I)).astype(np.float32)
    Y = rng.normal(size=(n, 1)).astype(np.float32)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(I, H, batch_first=True)
            self.head = torch.nn.Linear(H, 1)

        def forward(self, x):
            return self.head(self.lstm(x)[0][:, -1])

    return measure({"case": f"LSTM {I}-{H} seq {Tn} + Dense Adam", "batch": n},
                   lambda: nn.Sequential([nn.LSTM(I, H), nn.Dense(H, 1)], input_shape=(Tn, I), seed=0,
                                         backend="cuda"),
                   Net, X, Y, steps)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--json", default=None)
    a = ap.parse_args(argv)
    rows = [mlp_row(batch, a.steps) for batch in (64, 4096)]
    rows.append(lstm_row(a.steps))
    print(f"{'case':34s} {'batch':>6s} {'physdl us':>10s} {'torch eager':>12s} {'torch graph':>12s} "
          f"{'x eager':>8s} {'x graph':>8s}")
    for r in rows:
        p = r.get("physdl_us")
        e, g = r.get("torch_eager_us"), r.get("torch_graph_us")
        fmt = lambda v: f"{v:10.1f}" if v is not None else f"{'-':>10s}"  # noqa: E731
        xe = f"{e / p:8.2f}" if p and e else f"{'-':>8s}"
        xg = f"{g / p:8.2f}" if p and g else f"{'-':>8s}"
        print(f"{r['case']:34s} {r['batch']:6d} {fmt(p)} {fmt(e):>12s} {fmt(g):>12s} {xe} {xg}"
              + (f"  ({r['physdl_error']})" if "physdl_error" in r else ""))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)
    return rows


if __name__ == "__main__":
    main()
