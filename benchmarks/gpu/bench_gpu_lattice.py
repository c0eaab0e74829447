"""physdl's CUDA multi-spin checkerboard: flips per nanosecond on one GPU.

Run on a GPU machine (benchmarks/gpu/run.sh runs it beside the PyTorch peer):
python benchmarks/gpu/bench_gpu_lattice.py --sizes 4096 16384 32768 65536
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


# (update, tuned kernel?, measure every n sweeps (0: never))
CASES = [("metropolis", True, 0), ("metropolis", True, 1), ("metropolis", False, 0),
         ("heat_bath", True, 0), ("heat_bath", True, 1), ("heat_bath", False, 0)]


def _name(update: str, tuned: bool, every: int) -> str:
    return f"physdl cuda {'tuned' if tuned else 'plain port'} {update}" + (" +measure/sweep" if every else "")


def measure_size(L: int, beta: float, seconds: float, burn_in: int) -> list[dict]:
    """flips/ns of each case on one L x L lattice resident on the device, after `burn_in` sweeps from a
    random start at `beta` (so the timed sweeps see near-equilibrium neighbourhoods, not a random lattice)."""
    cu = physdl._backend.module("cuda")
    ly = lx = L
    shape = S.multispin_words_shape(ly, lx)
    nwords = math.prod(shape)
    words = random.uint32(2 * nwords, seed=1).view(np.uint64).reshape(shape).copy()
    n = lx // 2
    if n % 64:
        words[..., -1] &= np.uint64((1 << (n % 64)) - 1)
    lat = cu.lattice.MultispinLattice(ly, lx, words.reshape(-1))
    del words
    tables = {u: S._multispin_table(u, beta, 1.0, 0.0) for u in ("metropolis", "heat_bath")}
    code = {"metropolis": 0, "heat_bath": 1}
    t = 0
    lat.sweeps(0, tables["metropolis"], 1.0, 0.0, 1, 0, t, burn_in, 0, True)
    t += burn_in
    rows = []
    for update, tuned, every in CASES:
        t0 = time.perf_counter()
        lat.sweeps(code[update], tables[update], 1.0, 0.0, 1, 0, t, 4, every, tuned)  # warm-up, calibration
        per_sweep = (time.perf_counter() - t0) / 4
        t += 4
        sweeps = max(10, min(20000, int(seconds / max(per_sweep, 1e-7))))
        t0 = time.perf_counter()
        e_series, _ = lat.sweeps(code[update], tables[update], 1.0, 0.0, 1, 0, t, sweeps, every, tuned)  # syncs
        dt = time.perf_counter() - t0
        t += sweeps
        e, _ = lat.measure(1.0, 0.0)
        rows.append({"impl": _name(update, tuned, every), "L": L, "sweeps": sweeps,
                     "flips_per_ns": L * L * sweeps / (dt * 1e9), "energy_per_spin": e / (L * L),
                     "measurements": int(len(e_series))})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[4096, 16384, 32768])
    ap.add_argument("--burn-in", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=0.4, help="timed run per case (sweeps are chosen to fit)")
    ap.add_argument("--beta", type=float, default=math.log(1 + math.sqrt(2)) / 2)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    rows = []
    for L in args.sizes:
        try:
            rows += measure_size(L, args.beta, args.seconds, args.burn_in)
        except Exception as exc:  # noqa: BLE001 - e.g. not enough device memory: report and go on
            rows.append({"impl": "physdl cuda (all cases)", "L": L, "error": str(exc)[:200]})
            print(json.dumps(rows[-1]), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
