#!/usr/bin/env bash
# A training step, ours vs PyTorch (bench/reference/torch_megabyte.py bench), run
# alternately in one session with the same config and threads; prints each side's median
# ms/step, peak memory, and the ratio, per config.
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
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
peak_kib() { /usr/bin/time -f "%M" "$@" 2>&1 >/dev/null | tail -1; }

printf "%-16s %12s %12s %12s %12s %9s %9s\n" config "ours ms" "torch ms" "ours MiB" "torch MiB" "time" "memory"
for cfg in "${CONFIGS[@]}"; do
  o=() t=()
  for _ in $(seq "$ROUNDS"); do
    o+=("$($MB bench $(ours "$cfg") --steps "$(steps "$cfg")" --threads "$THREADS" | sed -n 's/.*median \([0-9.]*\) ms\/step.*/\1/p')")
    t+=("$(/usr/bin/python3 "$TORCH" bench $(flags "$cfg") --steps "$(steps "$cfg")" --threads "$THREADS" | sed -n 's/.*median \([0-9.]*\) ms\/step.*/\1/p')")
  done
  # peak memory (max RSS of the whole process), once each
  om=$(peak_kib $MB bench $(ours "$cfg") --steps 2 --warmup 1 --threads "$THREADS")
  tm=$(peak_kib /usr/bin/python3 "$TORCH" bench $(flags "$cfg") --steps 2 --warmup 1 --threads "$THREADS")
  mo=$(printf "%s\n" "${o[@]}" | median)
  mt=$(printf "%s\n" "${t[@]}" | median)
  printf "%-16s %12.1f %12.1f %12.0f %12.0f %9.2f %9.2f\n" "$cfg" "$mo" "$mt" "$((om / 1024))" "$((tm / 1024))" \
    "$(echo "$mo / $mt" | bc -l)" "$(echo "$om / $tm" | bc -l)"
done
echo "(medians of $ROUNDS alternating rounds, $THREADS threads; time and memory: ours / PyTorch, lower is better)"
