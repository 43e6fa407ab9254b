#!/usr/bin/env bash
# Trains the zoo's models (megabyte/zoo/README.md has a card for each): each recipe below on
# data the repository ships, then the weights exported to megabyte/zoo/NAME.safetensors and the
# whole held-out tail (the last 10%) scored. Prints NAME, seconds and held-out bpb per model.
#   bash scripts/zoo.sh NAME...        (after the build; `bash scripts/zoo.sh list` lists them)
set -euo pipefail
cd "$(dirname "$0")/.."
MB=build/megabyte
SB=(--model spacebyte --gdim 128 --glayers 2 --gheads 4 --ldim 64 --llayers 2 --lheads 4)
TEXT=(--data data/tinyshakespeare.txt)
IMAGES=(--data data/fashion-mnist-1k-images-idx3-ubyte --scan patch)
AUDIO=(--data data/espeak-60s.ulaw --format raw)

# recipe NAME: its data and training flags, one per line (the data flags first, reused by eval)
recipe() {
  case $1 in
    tiny_shakespeare)  # the first zoo model (2026-11-23, on an Intel Xeon)
      echo "${TEXT[*]}"
      echo "--preset tiny --steps 8000 --batch 8 --lr 2e-3 --min-lr 2e-4 --warmup 200" ;;
    spacebyte_space_shakespeare)  # the patch study's (docs/experiments.md) at equal FLOPs
      echo "${TEXT[*]}"
      echo "${SB[*]} --patcher space --patch 8 --steps 1687 --warmup 84" ;;
    spacebyte_entropy_shakespeare)  # the same, its patches placed by the zoo's tiny model
      echo "${TEXT[*]}"
      echo "${SB[*]} --patcher entropy --patch 8 --entropy-model tiny_shakespeare --entropy-mean 4.901 --steps 1687 --warmup 84" ;;
    baseline_shakespeare)  # the patch study's byte transformer at equal FLOPs
      echo "${TEXT[*]}"
      echo "--model baseline --gdim 64 --glayers 3 --gheads 4 --steps 1711 --warmup 85" ;;
    fashion_mnist)  # images: 28x28 pixels in 4x4 tiles (patch-scan order), one image a sequence
      echo "${IMAGES[*]}"
      echo "--seq 784 --patch 16 --gdim 128 --glayers 2 --gheads 4 --ldim 64 --llayers 2 --lheads 4 --steps 1500 --warmup 75" ;;
    audio_espeak)  # 8 kHz mu-law speech, one byte a sample
      echo "${AUDIO[*]}"
      echo "--preset tiny --steps 2000 --warmup 100" ;;
    *) return 1 ;;
  esac
}
NAMES=(tiny_shakespeare spacebyte_space_shakespeare spacebyte_entropy_shakespeare baseline_shakespeare fashion_mnist audio_espeak)
if [ "${1:-list}" = list ]; then
  for n in "${NAMES[@]}"; do echo "$n: $(recipe "$n" | tr '\n' ' ')"; done
  exit 0
fi

for name in "$@"; do
  recipe "$name" >/dev/null || { echo "zoo.sh: no recipe for '$name' (bash scripts/zoo.sh list)" >&2; exit 2; }
  { read -r data; read -r flags; } < <(recipe "$name")
  read -r -a d <<<"$data"
  read -r -a f <<<"$flags"
  out=runs/zoo/$name
  rm -rf "$out"
  start=$(date +%s.%N)
  $MB train "${d[@]}" "${f[@]}" --eval-every 0 --log-every 250 --ckpt-every 0 --keep 1 --out "$out"
  seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
  $MB export --ckpt "$out" --out "megabyte/zoo/$name.safetensors"
  bpb=$($MB eval --ckpt "megabyte/zoo/$name.safetensors" "${d[@]}" --val-fraction 0.1 | tail -1 | awk '{ print $2 }')
  echo "zoo: $name trained in $seconds s; held-out bpb $bpb"
done
