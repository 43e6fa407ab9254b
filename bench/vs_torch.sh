#!/usr/bin/env bash
# A training step, ours vs PyTorch (bench/reference/torch_megabyte.py bench), run
# alternately in one session with the same config and threads; prints each side's median
# ms/step, peak memory, and the ratio, per config. Each side twice:
#   ours         as shipped (subnormals flushed) and with MB_DENORMALS=keep;
#   PyTorch      as a user gets it (OpenBLAS's own pick of kernels, subnormals kept) and at
#                its best (OPENBLAS_CORETYPE where OpenBLAS fell back to an older core:
#                bench/torch_env.py; torch.set_flush_denormal(True)).
# The ratio is against the better PyTorch.
#   bash bench/vs_torch.sh [ROUNDS] [THREADS] [CONFIG ...]      CONFIG: tiny small baseline-small
# Needs `apt-get install python3-torch libopenblas0-pthread` (without OpenBLAS PyTorch falls
# back to the reference BLAS, ~8x slower, and the ratio means nothing).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
THREADS=${2:-2}
shift $(($# > 2 ? 2 : $#))
CONFIGS=("$@")
[ ${#CONFIGS[@]} -eq 0 ] && CONFIGS=(tiny small baseline-small)
MB=build/megabyte
TORCH=${TORCH_REF:-bench/reference/torch_megabyte.py}

flags() {  # the reference README's benchmark flags
  case "$1" in
    tiny) echo "--seq 256 --patch 4 --gdim 128 --glayers 2 --gheads 4 --ldim 64 --llayers 2 --lheads 4 --batch 8" ;;
    small) echo "--seq 2048 --patch 8 --gdim 256 --glayers 4 --gheads 4 --ldim 128 --llayers 2 --lheads 4 --batch 4" ;;
    baseline-small) echo "--baseline --seq 2048 --gdim 256 --glayers 4 --gheads 4 --batch 4" ;;
    *) echo "unknown config $1" >&2; exit 2 ;;
  esac
}
ours() {  # our preset + flags for a config
  case "$1" in
    tiny) echo "--preset tiny" ;;
    small) echo "--preset small" ;;
    baseline-small) echo "--preset small --baseline" ;;
  esac
}
steps() { case "$1" in baseline-small) echo 3 ;; small) echo 5 ;; *) echo 10 ;; esac; }
# Each side with its own wait policy: ours OpenMP's default (its workers spin between the
# many short parallel loops of a step; sleeping costs tiny's step 1.4x), the reference
# PASSIVE (torch_megabyte.py sets it: spinning OpenMP workers starve OpenBLAS's threads).
unset OMP_WAIT_POLICY
eval "$(/usr/bin/python3 bench/torch_env.py --exports)"
BEST_CORE=${OPENBLAS_CORETYPE:-}
unset OPENBLAS_CORETYPE
torch_user() { /usr/bin/python3 "$TORCH" "$@"; }
torch_best() { env ${BEST_CORE:+OPENBLAS_CORETYPE=$BEST_CORE} /usr/bin/python3 bench/torch_env.py --flushed "$TORCH" "$@"; }
ms() { sed -n 's/.*median \([0-9.]*\) ms\/step.*/\1/p'; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
peak_kib() { /usr/bin/time -f "%M" "$@" 2>&1 >/dev/null | tail -1; }

echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) ($(grep -o -m1 -w avx512f /proc/cpuinfo || grep -o -m1 -w avx2 /proc/cpuinfo || echo sse))"
echo "OpenBLAS picks $OPENBLAS_PICKED; PyTorch at its best: ${BEST_CORE:+OPENBLAS_CORETYPE=$BEST_CORE, }subnormals flushed"
printf "%-15s %9s %9s %9s %9s %9s %9s %7s %7s\n" config "ours ms" "ours-keep" "torch" "torch-best" "ours MiB" "torch MiB" "time" "memory"
for cfg in "${CONFIGS[@]}"; do
  o=() k=() t=() b=()
  n=$(steps "$cfg")
  for _ in $(seq "$ROUNDS"); do
    o+=("$($MB bench $(ours "$cfg") --steps "$n" --threads "$THREADS" | ms)")
    k+=("$(MB_DENORMALS=keep $MB bench $(ours "$cfg") --steps "$n" --threads "$THREADS" | ms)")
    t+=("$(torch_user bench $(flags "$cfg") --steps "$n" --threads "$THREADS" | ms)")
    b+=("$(torch_best bench $(flags "$cfg") --steps "$n" --threads "$THREADS" | ms)")
  done
  # peak memory (max RSS of the whole process), once each
  om=$(peak_kib $MB bench $(ours "$cfg") --steps 2 --warmup 1 --threads "$THREADS")
  tm=$(peak_kib /usr/bin/python3 "$TORCH" bench $(flags "$cfg") --steps 2 --warmup 1 --threads "$THREADS")
  mo=$(printf "%s\n" "${o[@]}" | median) mk=$(printf "%s\n" "${k[@]}" | median)
  mt=$(printf "%s\n" "${t[@]}" | median) mb=$(printf "%s\n" "${b[@]}" | median)
  best=$(echo "if ($mb < $mt) $mb else $mt" | bc -l)
  printf "%-15s %9.1f %9.1f %9.1f %9.1f %9.0f %9.0f %7.2f %7.2f\n" "$cfg" "$mo" "$mk" "$mt" "$mb" "$((om / 1024))" \
    "$((tm / 1024))" "$(echo "$mo / $best" | bc -l)" "$(echo "$om / $tm" | bc -l)"
done
echo "(medians of $ROUNDS alternating rounds, $THREADS threads; time: ours / the better PyTorch, memory: ours / PyTorch; lower is better)"
