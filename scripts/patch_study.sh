#!/usr/bin/env bash
# Fixed against variable patches, small: MEGABYTE (fixed P = 4), SpaceByte's model with fixed
# patches (P = 5), with space-like patches and with entropy patches (both at most 8 bytes), and
# the byte transformer, trained on the same corpus (batch 8, T = 256) at equal compute; then
# the whole held-out tail (the last 10%) scored.
#
#   bash scripts/patch_study.sh [DATA] [STEPS] [flops|time]       (after the build)
#
# flops: MEGABYTE trains STEPS steps, every other model the steps that give it the same training
#   FLOPs (3 x forward FLOPs per byte x bytes). The entropy patches come from that MEGABYTE run
#   (so it runs first), their threshold chosen for the space patches' mean length, so the two
#   variable patchers run the global blocks equally often.
# time: every model trains as long as MEGABYTE took in the flops run, at the rate it had there,
#   with the same entropy model; needs the flops run's results.
#
# Writes runs/patch_study/<corpus>/<mode>/summary.md; docs/experiments.md discusses a run of it.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-data/tinyshakespeare.txt}
STEPS=${2:-2000}
MODE=${3:-flops}
[ -f "$DATA" ] || { echo "patch_study.sh: no data file $DATA: bash scripts/patch_study.sh FILE [STEPS] [flops|time]" >&2; exit 2; }
[ "$MODE" = flops ] || [ "$MODE" = time ] || { echo "patch_study.sh: the mode must be flops or time, got '$MODE'" >&2; exit 2; }
MB=build/megabyte
ROOT=runs/patch_study/$(basename "$DATA" | sed 's/\..*//')
OUT=$ROOT/$MODE
mkdir -p "$OUT"

# the space patcher's mean patch length on the training part (its first MiB, as train counts
# it), at most 8 bytes
TRAIN=$(($(stat -c %s "$DATA") * 9 / 10))
MEAN=$($MB patches --data "$DATA" --patcher space --max-len 8 --bytes $((TRAIN < 1048576 ? TRAIN : 1048576)) --show 0 |
  sed -n 's/.* patches, mean \([0-9.]*\) bytes.*/\1/p')
[ -n "$MEAN" ] || { echo "patch_study.sh: megabyte patches gave no mean patch length for $DATA" >&2; exit 1; }
echo "space patches of at most 8 bytes: mean $MEAN bytes"
ENTROPY=$ROOT/flops/megabyte_P4  # the entropy model: the flops run's MEGABYTE

SB=(--model spacebyte --gdim 128 --glayers 2 --gheads 4 --ldim 64 --llayers 2 --lheads 4)
declare -A FLAGS=(
  [megabyte_P4]="--preset tiny"
  [spacebyte_fixed_P5]="${SB[*]} --patcher fixed --patch 5"
  [spacebyte_space_max8]="${SB[*]} --patcher space --patch 8"
  [spacebyte_entropy_max8]="${SB[*]} --patcher entropy --patch 8 --entropy-model $ENTROPY/final.safetensors"
  [baseline_64x3]="--model baseline --gdim 64 --glayers 3 --gheads 4"
)
MODELS=(megabyte_P4 spacebyte_fixed_P5 spacebyte_space_max8 spacebyte_entropy_max8 baseline_64x3)

# forward KFLOP per byte; the variable patchers' global blocks counted at MEAN bytes a patch
# (info counts them at every 8th byte; the global stack costs 2·L·(12G² + 2·(T/m)·G)/m per
# byte, megabyte/config.cpp)
kflops() {
  local f info
  read -r -a f <<<"${FLAGS[$1]}"
  info=$($MB info "${f[@]}" | sed -n 's/^FLOPs per byte: forward \([0-9.]*\) KFLOP.*/\1/p')
  case $1 in
    spacebyte_space_max8 | spacebyte_entropy_max8)
      awk -v f="$info" -v m="$MEAN" 'function g(p) { return 2 * 2 * (12 * 128 * 128 + 2 * (256 / p) * 128) / p / 1000 }
        BEGIN { printf "%.1f", f - g(8) + g(m) }' ;;
    *) echo "$info" ;;
  esac
}

# a column of a model's row in the flops run's summary: 4 steps, 7 seconds
column() {
  local v
  v=$(awk -F'|' -v n="$1" -v c="$2" '$2 == " "n" " { gsub(/ /, "", $c); print $c }' "$ROOT/flops/summary.md")
  [ -n "$v" ] || { echo "patch_study.sh: no $1 in $ROOT/flops/summary.md" >&2; exit 1; }
  echo "$v"
}

if [ "$MODE" = time ]; then
  [ -f "$ROOT/flops/summary.md" ] || { echo "patch_study.sh: run the flops mode first (its rates and entropy model)" >&2; exit 2; }
  BUDGET=$(column megabyte_P4 7)  # MEGABYTE's seconds in the flops run
fi
F0=$(kflops megabyte_P4)
{
  echo "| model | forward KFLOP per byte | steps | held-out bpb | last-500-step train bpb | train seconds |"
  echo "|---|---:|---:|---:|---:|---:|"
} >"$OUT/summary.md"
for name in "${MODELS[@]}"; do
  read -r -a f <<<"${FLAGS[$name]}"
  flops=$(kflops "$name")
  if [ "$MODE" = flops ]; then
    steps=$(awk -v s="$STEPS" -v a="$F0" -v b="$flops" 'BEGIN { printf "%.0f", s * a / b }')
  else
    steps=$(awk -v t="$BUDGET" -v s="$(column "$name" 7)" -v n="$(column "$name" 4)" 'BEGIN { printf "%.0f", t * n / s }')
  fi
  echo "== $name: $flops KFLOP per byte, $steps steps ($MODE)"
  rm -rf "${OUT:?}/$name"
  start=$(date +%s.%N)
  extra=()
  [ "$name" = spacebyte_entropy_max8 ] && extra=(--entropy-mean "$MEAN")
  $MB train --data "$DATA" "${f[@]}" "${extra[@]}" --steps "$steps" --warmup $((steps / 20)) --eval-every 0 \
    --log-every $((steps / 4)) --ckpt-every 0 --keep 1 --out "$OUT/$name"
  seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  $MB export --ckpt "$OUT/$name" --out "$OUT/$name/final.safetensors" >/dev/null
  bpb=$($MB eval --ckpt "$OUT/$name/final.safetensors" --data "$DATA" --val-fraction 0.1 | tail -1 | awk '{ print $2 }')
  train=$(awk -F, 'NR > 1 { b[NR] = $4 } END { n = 0; s = 0; for (i = NR; i > 1 && n < 500; i--) { s += b[i]; n++ } printf "%.3f", s / n }' "$OUT/$name/log.csv")
  echo "| $name | $flops | $steps | $bpb | $train | $seconds |" >>"$OUT/summary.md"
done
echo "space patches' mean length on $DATA: $MEAN bytes (at most 8); entropy patches from $ENTROPY" >>"$OUT/summary.md"
cat "$OUT/summary.md"
