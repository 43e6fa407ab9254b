#!/usr/bin/env bash
# Everything the CUDA backend owes a GPU, in one command, on the GPU machine (it needs only the
# tree: the header-only dependencies come from third_party/ where the machine has none):
#   bash scripts/gpu_check.sh [OUT_DIR]
# 1. builds with -DMB_CUDA=ON for this GPU; 2. runs the gpu tests (every op against the CPU
# oracle, gradcheck on the device, the fixtures on the device, training steps) and the unit
# tests; 3. the kernel lab, every kernel and version; 4. a training step, ours vs PyTorch on
# the same GPU in the same run, for the small preset and a GPU-sized config, fp32 and bf16.
# Logs go to OUT_DIR (default runs/gpu_check).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/gpu_check}
mkdir -p "$OUT"
PY=${PYTHON:-python3}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"

cmake -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DMB_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=native \
  >"$OUT/configure.log" 2>&1 || { tail -30 "$OUT/configure.log"; exit 1; }
cmake --build build-gpu -j "$(nproc)" >"$OUT/build.log" 2>&1 || { grep -B2 -A8 error "$OUT/build.log" | head -80; exit 1; }
echo "== build ok"

ctest --test-dir build-gpu -L gpu --output-on-failure -j 4 >"$OUT/ctest_gpu.log" 2>&1
tail -25 "$OUT/ctest_gpu.log"
ctest --test-dir build-gpu -L unit -j 8 >"$OUT/ctest_unit.log" 2>&1
tail -4 "$OUT/ctest_unit.log"

build-gpu/cuda/dev/kernel_lab --kernel all 2>&1 | tee "$OUT/kernel_lab.txt"

# a training step: ours (fp32, bf16) then PyTorch (eager fp32, eager bf16, compiled bf16), per config
REF=${TORCH_REF:-bench/reference/torch_megabyte.py}
bench() {
  local name=$1 ours=$2 theirs=$3
  echo "== $name"
  for p in fp32 bf16; do
    build-gpu/megabyte bench $ours --device cuda --precision "$p" --steps 20 --warmup 5 | sed "s/^/ours $p: /"
  done
  $PY bench/gpu_vs_torch.py "$REF" $theirs
} 2>&1
{
  bench small "--preset small" "--seq 2048 --patch 8 --gdim 256 --glayers 4 --gheads 4 --ldim 128 --llayers 2 --lheads 4 --batch 4"
  bench gpu-large "--preset small --seq 8192 --patch 8 --gdim 1024 --glayers 8 --gheads 16 --ldim 512 --llayers 4 --lheads 8 --batch 8" \
    "--seq 8192 --patch 8 --gdim 1024 --glayers 8 --gheads 16 --ldim 512 --llayers 4 --lheads 8 --batch 8"
} | tee "$OUT/bench.txt"
echo "logs in $OUT"
