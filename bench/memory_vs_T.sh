#!/usr/bin/env bash
# Peak memory (max RSS) and time of one training step against the sequence length T, with
# and without activation recomputation: the `small` architecture (P 8, global 256 x 4, local
# 128 x 2), batch 1.    bash bench/memory_vs_T.sh [T ...]
set -euo pipefail
cd "$(dirname "$0")/.."
LENGTHS=("$@")
[ ${#LENGTHS[@]} -eq 0 ] && LENGTHS=(2048 4096 8192 16384 32768 65536)
step() {  # T [--recompute] -> "ms MiB"
  local out
  out=$( { /usr/bin/time -f "RSS %M" build/megabyte bench --preset small --seq "$1" --batch 1 --steps 1 --warmup 1 ${2:-}; } 2>&1)
  echo "$(echo "$out" | sed -n 's/.*median \([0-9.]*\) ms\/step.*/\1/p') $(($(echo "$out" | sed -n 's/^RSS \([0-9]*\)/\1/p') / 1024))"
}
printf "%8s %14s %12s %14s %12s\n" T "ms/step" "peak MiB" "ms/step (rec)" "MiB (rec)"
for T in "${LENGTHS[@]}"; do
  read -r ms mib <<<"$(step "$T")"
  read -r rms rmib <<<"$(step "$T" --recompute)"
  printf "%8s %14s %12s %14s %12s\n" "$T" "$ms" "$mib" "$rms" "$rmib"
done
