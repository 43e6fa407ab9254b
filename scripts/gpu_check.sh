#!/usr/bin/env bash
# The GPU check, in one command on the GPU machine, from the tree alone (the header-only
# dependencies come from third_party/ where the machine has none):
#   bash scripts/gpu_check.sh OUT_DIR
# Stages run in order of value, each under its own time limit and all under one deadline
# (GPU_CHECK_SECONDS, default 360): a stage that fails or runs out of time is reported and the
# next one still runs; a stage that no longer fits before the deadline is skipped. Eight logs
# at most, all in OUT_DIR; summary.txt says how each stage went. GPU_CHECK_ARCH (default native:
# the GPU present) sets the architecture, e.g. 90 to time the build on a machine without a GPU.
#
#   stage       limit  what                                            emulator here*  H100/H200 estimate
#   build        170s  cmake, only test_gpu kernel_lab megabyte       125 s (2 cores)  90-120 s (16 cores,
#                      bench_generate, for this GPU's architecture                     one architecture)
#   tests         60s  the gpu tests (ctest -L gpu)                   see below        15-30 s
#   sanitizer     45s  compute-sanitizer memcheck on the kernel        -               20-40 s
#                      tests, racecheck on attention
#   resources     10s  registers, stack, spills, shared memory of     -                2 s
#                      every kernel (cuobjdump)
#   lab           40s  the kernel lab, every version vs its oracle     see below        15-30 s
#   bench         90s  a training step, ours fp32/bf16 vs PyTorch      -               50-80 s (model builds,
#                      eager fp32/bf16, small and GPU-sized; cached                     torch import, 25
#                      generation vs PyTorch's recomputation; MFU                      steps each)
#   profile       25s  MB_PROFILE with MB_CUDA_SYNC=1: per-op GPU time -               10 s
#   compile     rest   torch.compile bf16, small, if time is left      -               60-120 s
#
# * on the emulator the gpu tests and the lab take the time in BENCHMARKS.md's GPU section; a
#   GPU runs them 100-1000x faster. Expected total on the GPU: 4-6 minutes, within the deadline.
set -uo pipefail
cd "$(dirname "$0")/.."
[ -d /usr/local/cuda/bin ] && PATH=$PATH:/usr/local/cuda/bin  # nvcc, compute-sanitizer, cuobjdump

# ---- the stages (run as `gpu_check.sh --stage NAME OUT_DIR`, so `timeout` can bound each) ----
BUILD=build-gpu
REF=bench/reference/torch_megabyte.py
# the first Python that has torch ($PYTHON, python3, Debian's /usr/bin/python3)
PY=python3
for p in ${PYTHON:-} python3 /usr/bin/python3; do
  if "$p" -c "import torch" 2>/dev/null; then PY=$p; break; fi
done
SMALL_OURS="--preset small"
SMALL_REF="--seq 2048 --patch 8 --gdim 256 --glayers 4 --gheads 4 --ldim 128 --llayers 2 --lheads 4 --batch 4"
LARGE="--seq 8192 --patch 8 --gdim 1024 --glayers 8 --gheads 16 --ldim 512 --llayers 4 --lheads 8 --batch 8"
BF16_PEAK_TFLOPS=989  # H100/H200 SXM, dense bf16: MFU below is against this

stage_build() {
  # -Xptxas=-v: every kernel's registers, stack, spills and shared memory go into build.log
  cmake -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMB_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="${GPU_CHECK_ARCH:-native}" \
    -DCMAKE_CUDA_FLAGS=-Xptxas=-v &&
    cmake --build "$BUILD" -j "$(nproc)" --target test_gpu kernel_lab megabyte bench_generate
}
stage_tests() {
  ctest --test-dir "$BUILD" -L gpu -j 4 --timeout 50 --output-on-failure
}
stage_sanitizer() {
  local ok=0
  compute-sanitizer --tool memcheck --error-exitcode 9 "$BUILD/tests/test_gpu" \
    "-tc=rows:*,reduce:*,gather:*,optim:*,bmm:*,attention: strided*" || ok=1
  compute-sanitizer --tool racecheck --error-exitcode 9 "$BUILD/tests/test_gpu" \
    "-tc=attention: head widths*,attention: bf16*" || ok=1
  return $ok
}
stage_resources() {  # ptxas's report from build.log: per kernel, then the ones that spill
  grep -E "Compiling entry function|Function properties|stack frame|Used [0-9]+ registers" "$OUT/build.log" |
    awk '/Compiling entry/ {name = $7; gsub("\047", "", name)} /Used/ {n++; print name ": " $0}
         /spill stores/ && !/ 0 bytes spill stores/ {bad[++s] = name}
         END {print "\n" n + 0 " kernels compiled; " s + 0 " spill registers to local memory:";
              for (i = 1; i <= s; i++) print "  " bad[i]}' | { command -v c++filt >/dev/null && c++filt || cat; }
  grep -q "Used [0-9]* registers" "$OUT/build.log" 2>/dev/null ||
    { echo "no ptxas report in build.log: the build compiled nothing (remove $BUILD to see it)"; return 1; }
}
stage_lab() {
  "$BUILD/cuda/dev/kernel_lab" --kernel all
}
mfu() {  # ours: "... -> X GFLOP/s ..." -> MFU against the bf16 peak
  awk -v peak="$BF16_PEAK_TFLOPS" '{print} match($0, /-> [0-9.]+ GFLOP\/s/) {
    split(substr($0, RSTART + 3, RLENGTH - 3), a, " "); printf "  MFU %.1f%% of %d TFLOP/s bf16\n", a[1] / 10 / peak, peak}'
}
stage_bench() {
  local ok=0
  for cfg in small large; do
    local ours=$SMALL_OURS theirs=$SMALL_REF
    [ "$cfg" = large ] && ours="--preset small $LARGE" theirs=$LARGE
    echo "== $cfg"
    for p in fp32 bf16; do
      # shellcheck disable=SC2086  # the flag lists split on purpose
      "$BUILD/megabyte" bench $ours --device cuda --precision "$p" --steps 20 --warmup 5 | sed "s/^/ours $p: /" | mfu || ok=1
    done
    # the tensor-core attention against the CUDA-core kernels, same run
    # shellcheck disable=SC2086
    [ "$cfg" = large ] && { MB_ATTENTION_MMA=0 "$BUILD/megabyte" bench $ours --device cuda --precision bf16 --steps 10 \
      --warmup 3 | sed "s/^/ours bf16, attention on CUDA cores (MB_ATTENTION_MMA=0): /" | mfu || ok=1; }
    # shellcheck disable=SC2086
    "$PY" bench/gpu_vs_torch.py "$REF" $theirs --modes fp32,bf16 || ok=1
  done
  echo "== cached generation, small at T 8192, vs PyTorch recomputing"
  "$BUILD/bench/bench_generate" --preset small --seq 8192 --prompt 8000 --bytes 128 --recompute-bytes 8 --device cuda || ok=1
  "$PY" "$REF" genbench --device cuda --seq 8192 --patch 8 --gdim 256 --glayers 4 --gheads 4 --ldim 128 \
    --llayers 2 --lheads 4 --prompt 8000 --bytes 8 || ok=1
  return $ok
}
stage_profile() {
  MB_PROFILE=1 MB_CUDA_SYNC=1 "$BUILD/megabyte" bench --preset small --device cuda --precision bf16 --steps 3 --warmup 1
}
stage_compile() {
  # shellcheck disable=SC2086
  "$PY" bench/gpu_vs_torch.py "$REF" $SMALL_REF --modes compile-bf16
}

if [ "${1:-}" = "--stage" ]; then
  OUT=$3
  "stage_$2"
  exit $?
fi

# ---- the driver ----
[ $# -eq 1 ] || { echo "usage: bash scripts/gpu_check.sh OUT_DIR" >&2; exit 2; }
OUT=$1
mkdir -p "$OUT" || exit 1
DEADLINE=$((SECONDS + ${GPU_CHECK_SECONDS:-360}))
: >"$OUT/summary.txt"
{
  nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv
  nvcc --version | tail -2
  echo "cores: $(nproc)"
} >"$OUT/gpu.txt" 2>&1
cat "$OUT/gpu.txt"

# run NAME LIMIT LOG: the stage under min(LIMIT, time to the deadline), its output appended to
# LOG, its outcome to summary.txt
run() {
  local name=$1 limit=$2 log=$3 left=$((DEADLINE - SECONDS))
  [ "$limit" = rest ] && limit=$left
  [ "$left" -lt "$limit" ] && limit=$left
  if [ "$limit" -lt 10 ]; then
    printf '%-10s skipped: %ds left before the deadline\n' "$name" "$left" | tee -a "$OUT/summary.txt"
    return
  fi
  echo "== $name (limit ${limit}s)" >>"$OUT/$log"
  local t0=$SECONDS
  timeout -k 5 "$limit" bash "$0" --stage "$name" "$OUT" >>"$OUT/$log" 2>&1
  local rc=$? verdict=ok
  [ $rc -ne 0 ] && verdict="FAILED (exit $rc)"
  [ $rc -eq 124 ] || [ $rc -eq 137 ] && verdict="TIMED OUT"
  printf '%-10s %-16s %4ds of %4ds   %s\n' "$name" "$verdict" $((SECONDS - t0)) "$limit" "$OUT/$log" |
    tee -a "$OUT/summary.txt"
}
run build 170 build.log
run tests 60 tests.log
run sanitizer 45 tests.log
run resources 10 resources.log
run lab 40 kernel_lab.txt
run bench 90 bench.txt
run profile 25 bench.txt
run compile rest bench.txt
echo "logs in $OUT: $(ls "$OUT" | tr '\n' ' ')"
