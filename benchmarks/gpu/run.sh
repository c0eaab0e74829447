#!/usr/bin/env bash
# One script for a lent GPU machine, from the repository root:
#   build physdl with CUDA, run the GPU tests, measure flips/ns against the PyTorch peer.
# Writes everything under $OUT (or ./gpu-results) and prints a summary table last.
set -uo pipefail
REPO=$(pwd)
OUT=${OUT:-$REPO/gpu-results}
mkdir -p "$OUT"
t0=$(date +%s)
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv 2>&1 | tee "$OUT/gpu.txt"
date -u +%Y-%m-%dT%H:%MZ >> "$OUT/gpu.txt"

echo "== build (PHYSDL_CUDA=ON, sm_90)"
# The lent machine is disposable and has no package index: install into its python (which holds
# torch, numpy, numba, scipy, pytest, pybind11 and scikit-build-core) without resolving dependencies.
PY=${PYTHON:-python3}
PHYSDL_CUDA=ON CMAKE_ARGS="-DCMAKE_CUDA_ARCHITECTURES=90" \
  $PY -m pip install --no-build-isolation --no-deps -q "$REPO" > "$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }
python() { $PY "$@"; }
echo "built in $(( $(date +%s) - t0 )) s"
python -c "import physdl; physdl.show_config()" 2>&1 | tee "$OUT/config.txt"

echo "== GPU tests"
(cd /tmp && python -m pytest "$REPO/tests/random/test_philox.py" "$REPO/tests/lattice/test_cuda_multispin.py" \
   -q -p no:cacheprovider -W default -k "cuda" 2>&1 | tee "$OUT/tests.log" | tail -15)

echo "== benchmarks"
SIZES="4096 16384 32768 65536"
python "$REPO/benchmarks/gpu/bench_gpu_lattice.py" --sizes $SIZES --sweeps 50 --json "$OUT/physdl.json" 2>&1 | tail -8
python "$REPO/benchmarks/gpu/torch_checkerboard.py" --sizes 4096 16384 32768 --sweeps 10 --json "$OUT/torch.json" 2>&1 | tail -6

python - "$OUT" <<'PY'
import json, sys, os
out = sys.argv[1]
rows = json.load(open(os.path.join(out, "physdl.json"))) + json.load(open(os.path.join(out, "torch.json")))
best_torch = {}
for r in rows:
    if "flips_per_ns" in r and "torch" in r.get("peer", ""):
        best_torch[r["L"]] = max(best_torch.get(r["L"], 0), r["flips_per_ns"])
print(f"{'implementation':40s} {'L':>6s} {'flips/ns':>10s} {'x best torch':>12s}")
for r in rows:
    name = r.get("impl") or r.get("peer")
    if "flips_per_ns" not in r:
        print(f"{name:40s} {r['L']:6d}  error: {r.get('error')}")
        continue
    ratio = r["flips_per_ns"] / best_torch[r["L"]] if r["L"] in best_torch else float("nan")
    print(f"{name:40s} {r['L']:6d} {r['flips_per_ns']:10.1f} {ratio:12.1f}")
PY
echo "total $(( $(date +%s) - t0 )) s"
