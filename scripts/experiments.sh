#!/usr/bin/env bash
# The paper's central comparison, small: MEGABYTE vs the byte transformer of the same global
# size, trained for the same wall-clock time (on one machine: about the same compute budget
# for both) on enwik8-style text at T = 2048; then MEGABYTE's bits per byte against the patch
# size P. Writes runs/experiments/{summary.md,compare.png,patch.png}; docs/experiments.md
# discusses one run of it.
#   bash scripts/experiments.sh [DATA] [SECONDS PER MODEL]       (after the build)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-data/enwik8_small.xml}
BUDGET=${2:-480}
[ -f "$DATA" ] || { echo "experiments.sh: no data file $DATA: pass a text file: bash scripts/experiments.sh FILE [SECONDS]" >&2; exit 2; }
OUT=runs/experiments
MB=build/megabyte
mkdir -p "$OUT"

# train NAME SECONDS FLAGS...: as many steps as fit in SECONDS (from a short bench of the same
# flags), a cosine schedule over them, validation 10 times; then the whole held-out tail scored
train() {
  local name=$1 seconds=$2
  shift 2
  local ms steps
  ms=$($MB bench "$@" --steps 3 --warmup 1 | sed -n 's/.*median \([0-9.]*\) ms\/step.*/\1/p')
  steps=$(awk -v s="$seconds" -v ms="$ms" 'BEGIN { n = int(s * 1000 / ms); print (n < 50 ? 50 : n) }')
  echo "== $name: $ms ms/step -> $steps steps in ${seconds}s"
  rm -rf "${OUT:?}/$name"
  $MB train --data "$DATA" "$@" --steps "$steps" --warmup $((steps / 20)) --eval-every $((steps / 10)) \
    --eval-windows 16 --log-every $((steps / 10)) --ckpt-every 0 --out "$OUT/$name"
  $MB eval --ckpt "$OUT/$name" --data "$DATA" --val-fraction 0.1 | tail -1 | awk '{ print $2 }' >"$OUT/$name/final_bpb"
}

train megabyte "$BUDGET" --preset small --batch 4
train transformer "$BUDGET" --preset small --model baseline --batch 4
for P in 2 4 8 16; do
  train "patch$P" $((BUDGET / 2)) --preset small --patch "$P" --gdim 256 --batch 4
done

# val bpb (the 16-window estimate along the way) against wall time and training FLOPs
gnuplot <<PLOT
set datafile separator ','
set terminal png size 1100,420
set output '$OUT/compare.png'
set multiplot layout 1,2 title 'MEGABYTE vs byte transformer, same global size (256 x 4), T = 2048, equal time'
set ylabel 'validation bits per byte'; set grid; set key top right
set xlabel 'seconds'
plot '$OUT/megabyte/log.csv' every ::1 using 8:(\$6 == \$6 ? \$6 : 1/0) with linespoints pt 7 title 'MEGABYTE P=8', \
     '$OUT/transformer/log.csv' every ::1 using 8:(\$6 == \$6 ? \$6 : 1/0) with linespoints pt 5 title 'transformer'
set xlabel 'training FLOPs'; set logscale x
plot '$OUT/megabyte/log.csv' every ::1 using 9:(\$6 == \$6 ? \$6 : 1/0) with linespoints pt 7 title 'MEGABYTE P=8', \
     '$OUT/transformer/log.csv' every ::1 using 9:(\$6 == \$6 ? \$6 : 1/0) with linespoints pt 5 title 'transformer'
unset multiplot
PLOT

{
  echo "| model | steps | seconds | training FLOPs | bytes seen | val bpb (whole held-out tail) |"
  echo "|---|---:|---:|---:|---:|---:|"
  for name in megabyte transformer patch2 patch4 patch8 patch16; do
    tail -1 "$OUT/$name/log.csv" | awk -F, -v n="$name" -v b="$(cat "$OUT/$name/final_bpb")" \
      '{ printf "| %s | %d | %.0f | %.3g | %.3g | %s |\n", n, $1, $8, $9, $1 * 4 * 2048, b }'
  done
} | tee "$OUT/summary.md"

# the patch sweep
for P in 2 4 8 16; do echo "$P $(cat "$OUT/patch$P/final_bpb")"; done >"$OUT/patch.dat"
gnuplot <<PLOT
set terminal png size 560,420
set output '$OUT/patch.png'
set title 'MEGABYTE, global 256 x 4, local 128 x 2, T 2048'
set xlabel 'patch size P'; set ylabel 'validation bits per byte'; set logscale x 2; set grid
plot '$OUT/patch.dat' using 1:2 with linespoints pt 7 notitle
PLOT
echo "wrote $OUT/summary.md, $OUT/compare.png, $OUT/patch.png"
