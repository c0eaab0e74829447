"""physdl.tensornet on CUDA (cuBLAS strided-batched steps) against torch.einsum on the same card.

Batched networks, host arrays in and out for both (the same work a caller does): a ring of six D x D
matrices per sample (a periodic MPS-like trace) at several D.  Results are checked equal to rounding
before any time is reported.  Prints a table and writes --json.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def _best(f, repeat):
    f()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return min(ts)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--bonds", type=int, nargs="+", default=[4, 16, 32, 64])
    ap.add_argument("--samples", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", default=None)
    a = ap.parse_args(argv)
    import torch

    from physdl.tensornet import Batched, Expression

    rows = []
    L, eq = 6, "zab,zbc,zcd,zde,zef,zfa->z"
    for D in a.bonds:
        S = max(1, min(a.samples, int(2e8 // (L * D * D))))
        rng = np.random.default_rng(D)
        mats = rng.normal(size=(L, S, D, D)) / np.sqrt(D)
        expr = Expression([[i, (i + 1) % L] for i in range(L)], *[(D, D)] * L, output=[])
        ours = expr.batched(*[Batched(m) for m in mats], backend="cuda")
        ref = torch.einsum(eq, *[torch.from_numpy(m).cuda() for m in mats]).cpu().numpy()
        np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-12 * np.abs(ref).max())
        t_ours = _best(lambda: expr.batched(*[Batched(m) for m in mats], backend="cuda"), a.repeat)
        t_torch = _best(lambda: torch.einsum(eq, *[torch.from_numpy(m).cuda() for m in mats]).cpu().numpy(),
                        a.repeat)
        flops = 2.0 * S * (L - 1) * D ** 3
        rows.append({"network": f"ring6 D={D}", "samples": S, "physdl_s": t_ours, "torch_einsum_s": t_torch,
                     "speedup": t_torch / t_ours, "physdl_gflops": flops / t_ours / 1e9})
        print(f"ring of 6, D = {D:3d}, {S:6d} samples: physdl cuda {t_ours * 1e3:8.2f} ms, torch.einsum "
              f"{t_torch * 1e3:8.2f} ms, {t_torch / t_ours:5.2f}x, {flops / t_ours / 1e9:7.1f} GFLOP/s")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
