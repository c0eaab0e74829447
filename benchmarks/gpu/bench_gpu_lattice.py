"""physdl's CUDA multi-spin checkerboard: flips per nanosecond on one GPU.

Run on a GPU machine (benchmarks/gpu/run.sh runs it beside the PyTorch peer):
python benchmarks/gpu/bench_gpu_lattice.py --sizes 4096 16384 32768 65536 --sweeps 50
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np

import physdl
from physdl import random
from physdl.lattice import simulation as S


def measure(L: int, sweeps: int, beta: float, update: str) -> dict:
    cu = physdl._backend.module("cuda")
    ly = lx = L
    shape = S.multispin_words_shape(ly, lx)
    nwords = math.prod(shape)
    words = random.uint32(2 * nwords, seed=1).view(np.uint64).reshape(shape).copy()
    n = lx // 2
    if n % 64:
        words[..., -1] &= np.uint64((1 << (n % 64)) - 1)
    table = S._multispin_table(update, beta, 1.0, 0.0)
    code = 0 if update == "metropolis" else 1
    lat = cu.lattice.MultispinLattice(ly, lx, words.reshape(-1))
    lat.sweeps(code, table, 1.0, 0.0, 1, 0, 0, 3, 0)  # warm-up
    t0 = time.perf_counter()
    lat.sweeps(code, table, 1.0, 0.0, 1, 0, 3, sweeps, 0)  # synchronises at the end
    dt = time.perf_counter() - t0
    e, m = lat.measure(1.0, 0.0)
    return {"impl": f"physdl cuda multispin {update}", "L": L, "sweeps": sweeps,
            "flips_per_ns": L * L * sweeps / (dt * 1e9), "energy_per_spin": e / (L * L)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[4096, 16384, 32768])
    ap.add_argument("--sweeps", type=int, default=50)
    ap.add_argument("--beta", type=float, default=math.log(1 + math.sqrt(2)) / 2)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    rows = []
    for L in args.sizes:
        for update in ("metropolis", "heat_bath"):
            try:
                r = measure(L, args.sweeps, args.beta, update)
            except Exception as exc:  # noqa: BLE001 - e.g. not enough device memory: report and go on
                r = {"impl": f"physdl cuda multispin {update}", "L": L, "error": str(exc)[:200]}
            rows.append(r)
            print(json.dumps(r), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
