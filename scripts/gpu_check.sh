#!/usr/bin/env bash
# The GPU check, in one command on the GPU machine, from the tree alone (the header-only
# dependencies come from third_party/ where the machine has none):
#   bash scripts/gpu_check.sh OUT_DIR
# Stages run in order of value, each under its own time limit and all under one deadline
# (GPU_CHECK_SECONDS, default 420): a stage that fails or runs out of time is reported and the
# next one still runs; a stage that no longer fits before the deadline is skipped. A few logs,
# all in OUT_DIR; summary.txt says how each stage went, then every `cuBLASLt:` line and every
# kernel that spills. GPU_CHECK_ARCH (default native: the GPU present) sets the architecture,
# e.g. 90 to time the build on a machine without a GPU.
#
#   stage       limit  what                                                 H100/H200 estimate
#   build        170s  cmake, only test_gpu kernel_lab megabyte             90-120 s (16 cores,
#                      bench_generate, for this GPU's architecture          one architecture)
#   resources     10s  ptxas's report of every kernel against the limits    1 s
#                      (scripts/check_cuda_resources.py): registers, spills
#   tests         60s  the gpu tests (ctest -L gpu, one per core)           15-30 s
#   sanitizer     60s  racecheck and synccheck on the tensor-core kernels   30-50 s
#                      (attention: bf16*, mma:*); memcheck with exact-size
#                      allocations (MB_CUDA_ALLOC=exact), newest kernels first
#   bench         90s  the GPU-sized bf16 step first (ours, PyTorch eager   50-80 s (model builds,
#                      bf16, ours with MB_ATTENTION_MMA=0), then fp32 and   torch import twice,
#                      small; cached generation vs PyTorch recomputing      10 steps each)
#   profile       25s  MB_PROFILE at the GPU-sized config, one step, beside 10 s
#                      docs/gpu-budget.md's per-op predictions
#   lab           40s  the kernel lab, every version vs its oracle          15-30 s
#   compile     rest   torch.compile bf16, small, if time is left           60-120 s
#
# Expected total on the GPU: 4-6 minutes, within the deadline. Rehearsal without a GPU:
# GPU_CHECK_EMU=1 runs the stages against the CUDA emulator's build (build-emu; what cannot run
# there fails fast), and GPU_CHECK_FAULTS="STAGE=fail|hang|overrun ..." replaces stages by a
# planted failure, a hang, or one that also ignores the polite kill (docs/cuda-backend.md).
set -uo pipefail
cd "$(dirname "$0")/.."
[ -d /usr/local/cuda/bin ] && PATH=$PATH:/usr/local/cuda/bin  # nvcc, compute-sanitizer

# ---- the stages (run as `gpu_check.sh --stage NAME OUT_DIR`, so `timeout` can bound each) ----
BUILD=build-gpu
[ -n "${GPU_CHECK_EMU:-}" ] && BUILD=build-emu
REF=bench/reference/torch_megabyte.py
PY=${GPU_CHECK_PY:-python3}  # the Python with torch: the driver probes once and exports it
SMALL_OURS="--preset small"
SMALL_REF="--seq 2048 --patch 8 --gdim 256 --glayers 4 --gheads 4 --ldim 128 --llayers 2 --lheads 4 --batch 4"
LARGE="--seq 8192 --patch 8 --gdim 1024 --glayers 8 --gheads 16 --ldim 512 --llayers 4 --lheads 8 --batch 8"
BF16_PEAK_TFLOPS=989  # H100/H200 SXM, dense bf16: MFU below is against this
# the newest kernels first: memcheck's time may run out
MEMCHECK_TESTS="linear:*,elementwise: 128-bit*,mma:*,attention: bf16*,indices*,rows:*,reduce:*,gather:*,optim:*,bmm:*,attention: strided*"

stage_build() {
  if [ -n "${GPU_CHECK_EMU:-}" ]; then  # the emulator's build (build-emu), as CI configures it
    bash scripts/emu_configure.sh && cmake --build "$BUILD" -j "$(nproc)" --target test_gpu_emu kernel_lab_emu megabyte
    return
  fi
  # ptxas's report of every kernel goes to OBJECT.ptxas (cmake/ptxas_log.sh), for `resources`
  cmake -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMB_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="${GPU_CHECK_ARCH:-native}" &&
    cmake --build "$BUILD" -j "$(nproc)" --target test_gpu kernel_lab megabyte bench_generate
}
stage_resources() {
  python3 scripts/check_cuda_resources.py "$BUILD/CMakeFiles/mb_cuda.dir"
}
stage_tests() {
  local labels=gpu
  [ -n "${GPU_CHECK_EMU:-}" ] && labels='^emu$'
  ctest --test-dir "$BUILD" -L "$labels" -j "$(nproc)" --timeout 50 --output-on-failure
}
stage_sanitizer() {
  local ok=0 t="$BUILD/tests/test_gpu" cs="compute-sanitizer --error-exitcode 9"
  command -v compute-sanitizer >/dev/null || { echo "no compute-sanitizer on this machine"; return 1; }
  # the cp.async waits and the shared tiles of the tensor-core kernels, then their barriers
  $cs --tool racecheck "$t" "-tc=attention: bf16*,mma:*" || ok=1
  $cs --tool synccheck "$t" "-tc=attention: bf16*,mma:*" || ok=1
  # one tensor, one cudaMalloc of its exact size: an overrun by one element is outside it
  MB_CUDA_ALLOC=exact $cs --tool memcheck "$t" "-tc=$MEMCHECK_TESTS" || ok=1
  return $ok
}
mfu() {  # ours: "... -> X GFLOP/s ..." -> MFU against the bf16 peak
  awk -v peak="$BF16_PEAK_TFLOPS" '{print} match($0, /-> [0-9.]+ GFLOP\/s/) {
    split(substr($0, RSTART + 3, RLENGTH - 3), a, " "); printf "  MFU %.1f%% of %d TFLOP/s bf16\n", a[1] / 10 / peak, peak}'
}
stage_bench() {
  local ok=0 ours="--preset small $LARGE"
  # shellcheck disable=SC2086  # the flag lists split on purpose
  {
    echo "== GPU-sized (T 8192, global 1024 x 8, local 512 x 4, batch 8): bf16 first"
    "$BUILD/megabyte" bench $ours --device cuda --precision bf16 --steps 10 --warmup 3 | sed "s/^/ours bf16: /" | mfu || ok=1
    "$PY" bench/gpu_vs_torch.py "$REF" $LARGE --modes bf16,fp32 --steps 10 --warmup 3 || ok=1
    MB_ATTENTION_MMA=0 "$BUILD/megabyte" bench $ours --device cuda --precision bf16 --steps 5 --warmup 2 |
      sed "s/^/ours bf16, attention on CUDA cores (MB_ATTENTION_MMA=0): /" | mfu || ok=1
    "$BUILD/megabyte" bench $ours --device cuda --precision fp32 --steps 5 --warmup 2 | sed "s/^/ours fp32: /" | mfu || ok=1
    echo "== small"
    for p in bf16 fp32; do
      "$BUILD/megabyte" bench $SMALL_OURS --device cuda --precision "$p" --steps 10 --warmup 3 | sed "s/^/ours $p: /" | mfu || ok=1
    done
    "$PY" bench/gpu_vs_torch.py "$REF" $SMALL_REF --modes bf16,fp32 --steps 10 --warmup 3 || ok=1
    echo "== cached generation, small at T 8192 from a 512-byte prompt, vs PyTorch recomputing"
    "$BUILD/bench/bench_generate" --preset small --seq 8192 --prompt 512 --bytes 256 --recompute-bytes 8 --device cuda || ok=1
    "$PY" "$REF" genbench --device cuda --seq 8192 --patch 8 --gdim 256 --glayers 4 --gheads 4 --ldim 128 \
      --llayers 2 --lheads 4 --prompt 512 --bytes 8 || ok=1
  }
  return $ok
}
stage_profile() {
  # shellcheck disable=SC2086
  MB_PROFILE=1 MB_CUDA_SYNC=1 "$BUILD/megabyte" bench --preset small $LARGE --device cuda --precision bf16 --steps 1 --warmup 1
  local rc=$?
  echo "== docs/gpu-budget.md's prediction per profile op (per step: the table above sums 2 steps)"
  sed -n '/^<!-- profile predictions -->/,/^<!-- end -->/p' docs/gpu-budget.md | grep '^|'
  return $rc
}
stage_lab() {
  if [ -n "${GPU_CHECK_EMU:-}" ]; then "$BUILD/cuda/emu/kernel_lab_emu" --kernel all --quick; else "$BUILD/cuda/dev/kernel_lab" --kernel all; fi
}
stage_compile() {
  # shellcheck disable=SC2086
  "$PY" bench/gpu_vs_torch.py "$REF" $SMALL_REF --modes compile-bf16
}

# A planted fault in place of a stage (GPU_CHECK_FAULTS): the rehearsal of the driver's limits
planted() {
  case $1 in
    fail) echo "planted failure"; return 3 ;;
    hang) echo "planted hang"; sleep 100000 ;;
    overrun) echo "planted overrun: ignores SIGTERM"; trap '' TERM; sleep 100000 ;;
    *) echo "GPU_CHECK_FAULTS: unknown fault '$1' (fail, hang or overrun)"; return 2 ;;
  esac
}

if [ "${1:-}" = "--stage" ]; then
  OUT=$3
  for f in ${GPU_CHECK_FAULTS:-}; do
    [ "${f%%=*}" = "$2" ] && { planted "${f#*=}"; exit $?; }
  done
  "stage_$2"
  exit $?
fi

# ---- the driver ----
[ $# -eq 1 ] || { echo "usage: bash scripts/gpu_check.sh OUT_DIR" >&2; exit 2; }
OUT=$1
mkdir -p "$OUT" || exit 1
DEADLINE=$((SECONDS + ${GPU_CHECK_SECONDS:-420}))
: >"$OUT/summary.txt"
{
  nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv
  nvcc --version | tail -2
  echo "cores: $(nproc)"
} >"$OUT/gpu.txt" 2>&1
cat "$OUT/gpu.txt"
# the first Python that has torch ($PYTHON, python3, Debian's /usr/bin/python3), probed once here
GPU_CHECK_PY=python3
for p in ${PYTHON:-} python3 /usr/bin/python3; do
  if timeout 30 "$p" -c "import torch" 2>/dev/null; then GPU_CHECK_PY=$p; break; fi
done
export GPU_CHECK_PY

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
run resources 10 resources.log
run tests 60 tests.log
run sanitizer 60 sanitizer.log
run bench 90 bench.txt
run profile 25 profile.txt
run lab 40 kernel_lab.txt
run compile rest bench.txt
{
  echo
  echo "cuBLASLt (every line the runs printed; none: every GEMM had its algorithm):"
  for log in build.log tests.log sanitizer.log bench.txt profile.txt kernel_lab.txt; do
    [ -f "$OUT/$log" ] && grep -h "cuBLASLt:" "$OUT/$log"
  done | sort | uniq -c | sed 's/^/  /'
  echo "kernels that spill (ptxas, at build time):"
  grep -h "^spill:\|^FAIL:" "$OUT/resources.log" 2>/dev/null | sed 's/^/  /'
} >>"$OUT/summary.txt"
echo "logs in $OUT: $(ls "$OUT" | tr '\n' ' ')"
