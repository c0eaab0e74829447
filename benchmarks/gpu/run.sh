#!/usr/bin/env bash
# One script for a lent GPU machine, from the repository root:
#   build physdl with CUDA, run the GPU tests, measure flips/ns against the PyTorch peer.
# Writes everything under $OUT (or ./gpu-results) and prints a summary table last.
# Every stage has its own time limit, so a stuck stage still leaves the others' results.
set -uo pipefail
REPO=$(pwd)
OUT=${OUT:-$REPO/gpu-results}
mkdir -p "$OUT"
t0=$(date +%s)
stamp() { echo "[$(( $(date +%s) - t0 )) s] $*"; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv 2>&1 | tee "$OUT/gpu.txt"
date -u +%Y-%m-%dT%H:%MZ >> "$OUT/gpu.txt"

# The lent machine has no package index: build tools of the versions the project was developed with
# travel as wheels in .whl (pure Python), the rest (numpy, scipy, numba, torch, pytest) is already there.
# Made beforehand, where pip works (and .whl kept out of git):
#   python3 -m pip download --no-deps --only-binary=:all: -d .whl scikit-build-core==1.1.2 pybind11==3.1.0
PY=${PYTHON:-python3}
if compgen -G "$REPO/.whl/*.whl" > /dev/null; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$REPO"/.whl/*.whl \
    && export PYTHONPATH=/tmp/site
fi
export CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) PYTHONUNBUFFERED=1

stamp "build (PHYSDL_CUDA=ON, sm_90)"
PHYSDL_CUDA=ON CMAKE_ARGS="-DCMAKE_CUDA_ARCHITECTURES=90" \
  timeout 300 $PY -m pip install --no-build-isolation --no-deps -q "$REPO" > "$OUT/build.log" 2>&1 \
  || { tail -40 "$OUT/build.log"; exit 1; }
stamp "built"
(cd /tmp && $PY -c "import physdl; physdl.show_config()" 2>&1 | tee "$OUT/config.txt")

stamp "GPU tests"
(cd /tmp && timeout 180 $PY -m pytest "$REPO/tests/random/test_philox.py" "$REPO/tests/lattice/test_cuda_multispin.py" \
   -q -p no:cacheprovider -W default -k "cuda" --durations=5 2>&1 | tee "$OUT/tests.log" | tail -25)
stamp "GPU tests: tensornet (cuBLAS batched contraction)"
(cd /tmp && timeout 180 $PY -m pytest "$REPO/tests/tensornet/test_cuda_tensornet.py" \
   -q -p no:cacheprovider -W default -m gpu --durations=5 2>&1 | tee "$OUT/tests_tensornet.log" | tail -15)

stamp "GPU tests: nn (CUDA dense engine, CUDA graphs)"
(cd /tmp && timeout 180 $PY -m pytest "$REPO/tests/nn/test_cuda_nn.py" \
   -q -p no:cacheprovider -W default -m gpu --durations=5 2>&1 | tee "$OUT/tests_nn.log" | tail -15)
stamp "benchmarks: nn training step against PyTorch eager and CUDA-graphed"
(cd /tmp && timeout 150 $PY "$REPO/benchmarks/gpu/bench_gpu_nn.py" --json "$OUT/nn.json" 2>&1 | tee "$OUT/nn.txt" | tail -8)

stamp "benchmarks: tensornet cuda against torch.einsum"
(cd /tmp && timeout 120 $PY "$REPO/benchmarks/gpu/bench_gpu_tensornet.py" --json "$OUT/tensornet.json" 2>&1 | tail -8)
stamp "benchmarks: physdl"
(cd /tmp && timeout 150 $PY "$REPO/benchmarks/gpu/bench_gpu_lattice.py" --sizes 4096 16384 32768 65536 \
   --json "$OUT/physdl.json" 2>&1 | tail -22)
stamp "benchmarks: PyTorch peer"
(cd /tmp && timeout 150 $PY "$REPO/benchmarks/gpu/torch_checkerboard.py" --sizes 4096 16384 32768 --sweeps 10 \
   --json "$OUT/torch.json" 2>&1 | tail -6)

if [ "${PHYSDL_GPU_PROFILE:-1}" = 1 ] && command -v ncu > /dev/null; then
  stamp "profile (ncu, one tuned Metropolis launch at L = 16384)"
  (cd /tmp && timeout 90 ncu --kernel-name regex:k_grouped_colour --launch-skip 20 --launch-count 1 \
     --section SpeedOfLight --section ComputeWorkloadAnalysis --section Occupancy --section WarpStateStats \
     $PY "$REPO/benchmarks/gpu/bench_gpu_lattice.py" --sizes 16384 --burn-in 20 --seconds 0.01 \
     > "$OUT/ncu.txt" 2>&1; grep -E "Compute \(SM\)|Memory Throughput|Executed Ipc A|Issue Slots Busy|Achieved Occupancy|Registers Per|Warp Cycles Per Issued|Duration" "$OUT/ncu.txt" | head -20)
fi

$PY - "$OUT" <<'PY'
import json, sys, os
out = sys.argv[1]
rows = []
for name in ("physdl.json", "torch.json"):
    try:
        rows += json.load(open(os.path.join(out, name)))
    except (OSError, ValueError) as exc:
        print(f"no {name}: {exc}")
best_torch = {}
for r in rows:
    if "flips_per_ns" in r and "torch" in r.get("peer", ""):
        best_torch[r["L"]] = max(best_torch.get(r["L"], 0), r["flips_per_ns"])
print(f"{'implementation':48s} {'L':>6s} {'flips/ns':>10s} {'x best torch':>12s} {'E/N':>8s}")
for r in rows:
    name = r.get("impl") or r.get("peer")
    if "flips_per_ns" not in r:
        print(f"{name:48s} {r['L']:6d}  error: {r.get('error')}")
        continue
    ratio = r["flips_per_ns"] / best_torch[r["L"]] if r["L"] in best_torch else float("nan")
    print(f"{name:48s} {r['L']:6d} {r['flips_per_ns']:10.1f} {ratio:12.1f} {r.get('energy_per_spin', float('nan')):8.4f}")
PY
stamp "done"
