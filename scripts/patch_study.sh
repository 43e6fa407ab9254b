#!/usr/bin/env bash
# Fixed against variable patches, small: MEGABYTE (fixed P = 4), SpaceByte's model with fixed
# patches (P = 5) and with space-like patches (at most 8 bytes), and the byte transformer, each
# at about 0.45-0.52 MFLOP per byte forward, trained on the same bytes (same steps, batch and
# T = 256) of one corpus; then the whole held-out tail scored. Writes
# runs/patch_study/<corpus>/summary.md; docs/spacebyte.md discusses one run of it.
#   bash scripts/patch_study.sh [DATA] [STEPS]       (after the build)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-data/tinyshakespeare.txt}
STEPS=${2:-2000}
[ -f "$DATA" ] || { echo "patch_study.sh: no data file $DATA: bash scripts/patch_study.sh FILE [STEPS]" >&2; exit 2; }
MB=build/megabyte
OUT=runs/patch_study/$(basename "$DATA" | sed 's/\..*//')
mkdir -p "$OUT"

# the space patcher's mean patch length on this corpus (its first MiB), at most 8 bytes
MEAN=$($MB patches --data "$DATA" --patcher space --max-len 8 --bytes 1048576 --show 0 |
  sed -n 's/.* patches, mean \([0-9.]*\) bytes.*/\1/p')
echo "space patches of at most 8 bytes: mean $MEAN bytes"

SB=(--model spacebyte --gdim 128 --glayers 2 --gheads 4 --ldim 64 --llayers 2 --lheads 4)
declare -A FLAGS=(
  [megabyte_P4]="--preset tiny"
  [spacebyte_fixed_P5]="${SB[*]} --patcher fixed --patch 5"
  [spacebyte_space_max8]="${SB[*]} --patcher space --patch 8"
  [baseline_64x3]="--model baseline --gdim 64 --glayers 3 --gheads 4"
)
{
  echo "| model | forward FLOP per byte | held-out bpb | train seconds |"
  echo "|---|---:|---:|---:|"
} >"$OUT/summary.md"
for name in megabyte_P4 spacebyte_fixed_P5 spacebyte_space_max8 baseline_64x3; do
  read -r -a f <<<"${FLAGS[$name]}"
  flops=$($MB info "${f[@]}" | sed -n 's/^FLOPs per byte: forward \([0-9.]*\) KFLOP.*/\1/p')
  if [ "$name" = spacebyte_space_max8 ]; then
    # info counts the global blocks at every 8th byte; they run at every MEAN-th (the global
    # stack's 2·L·(12G² + 2·(T/m)·G)/m per byte, megabyte/config.cpp)
    flops=$(awk -v f="$flops" -v m="$MEAN" 'function g(p) { return 2 * 2 * (12 * 128 * 128 + 2 * (256 / p) * 128) / p / 1000 }
      BEGIN { printf "%.1f", f - g(8) + g(m) }')
  fi
  echo "== $name: $flops KFLOP per byte, $STEPS steps"
  rm -rf "${OUT:?}/$name"
  start=$(date +%s)
  $MB train --data "$DATA" "${f[@]}" --steps "$STEPS" --warmup $((STEPS / 20)) --eval-every 0 \
    --log-every $((STEPS / 4)) --ckpt-every 0 --out "$OUT/$name"
  seconds=$(($(date +%s) - start))
  bpb=$($MB eval --ckpt "$OUT/$name" --data "$DATA" --val-fraction 0.1 | tail -1 | awk '{ print $2 }')
  echo "| $name | ${flops}K | $bpb | $seconds |" >>"$OUT/summary.md"
done
echo "space patches' mean length on $DATA: $MEAN bytes (at most 8)" >>"$OUT/summary.md"
cat "$OUT/summary.md"
