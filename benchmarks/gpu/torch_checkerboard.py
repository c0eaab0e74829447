"""The idiomatic PyTorch checkerboard Metropolis a physicist would write (the GPU peer of physdl's
multi-spin kernels): spins as a float tensor, neighbours by torch.roll, acceptance by torch.rand.
Measured eagerly and under torch.compile; prints flips/ns.

python benchmarks/gpu/torch_checkerboard.py --sizes 4096 16384 --sweeps 20
"""

from __future__ import annotations

import argparse
import json
import math

import torch


def make_sweep(L: int, beta: float, device):
    x = torch.arange(L, device=device)
    parity = ((x[:, None] + x[None, :]) % 2).to(torch.bool)
    masks = (~parity, parity)

    def sweep(s: torch.Tensor) -> torch.Tensor:
        for mask in masks:
            nn = torch.roll(s, 1, 0) + torch.roll(s, -1, 0) + torch.roll(s, 1, 1) + torch.roll(s, -1, 1)
            dE = 2.0 * s * nn
            accept = torch.rand_like(s) < torch.exp(-beta * dE)
            s = torch.where(mask & accept, -s, s)
        return s

    return sweep


def measure(L: int, sweeps: int, beta: float, compiled: bool, dtype=torch.float32) -> dict:
    dev = torch.device("cuda")
    torch.manual_seed(0)
    s = torch.where(torch.rand(L, L, device=dev) < 0.5, -1.0, 1.0).to(dtype)
    sweep = make_sweep(L, beta, dev)
    if compiled:
        torch._dynamo.reset()  # each size compiled afresh, for its static shape (no dynamic-shape kernels)
        sweep = torch.compile(sweep, dynamic=False)
    for _ in range(3):
        s = sweep(s)
    torch.cuda.synchronize()
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(sweeps):
        s = sweep(s)
    stop.record()
    torch.cuda.synchronize()
    ms = start.elapsed_time(stop)
    e = float(-(s * (torch.roll(s, 1, 0) + torch.roll(s, 1, 1))).mean())
    return {"peer": "torch.compile" if compiled else "torch eager", "L": L, "sweeps": sweeps,
            "flips_per_ns": L * L * sweeps / (ms * 1e6), "energy_per_spin": e}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[4096, 16384])
    ap.add_argument("--sweeps", type=int, default=20)
    ap.add_argument("--beta", type=float, default=math.log(1 + math.sqrt(2)) / 2)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    rows = []
    for L in args.sizes:
        for compiled in (False, True):
            try:
                r = measure(L, args.sweeps, args.beta, compiled)
            except Exception as exc:  # noqa: BLE001 - report and go on (e.g. out of memory)
                r = {"peer": "torch.compile" if compiled else "torch eager", "L": L, "error": str(exc)[:200]}
            rows.append(r)
            print(json.dumps(r), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
