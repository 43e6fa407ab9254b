#!/usr/bin/env bash
# MEGABYTE on images: Fashion-MNIST's 28x28 pixels as bytes, in the paper's patch-scan order
# (4x4-pixel tiles = patches of P = 16 bytes), one image per sequence (T = 784). Trains on the
# first 90% of the images, reports bits per byte on the rest, and writes 16 sampled images. By
# default the 1,000 images the repository ships (data/README.md); any Fashion-MNIST or MNIST
# idx file works (.gz too), e.g. the 60,000 of https://github.com/zalandoresearch/fashion-mnist.
#   bash examples/fashion_mnist.sh [IDX_FILE] [STEPS]      (after scripts/demo.sh or test.sh built it)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-data/fashion-mnist-1k-images-idx3-ubyte}
[ -f "$DATA" ] || { echo "fashion_mnist.sh: no file $DATA (give an idx file of 28x28 images)" >&2; exit 2; }
STEPS=${2:-2000}
MODEL=(--seq 784 --patch 16 --gdim 256 --glayers 4 --gheads 4 --ldim 128 --llayers 2 --lheads 4)
rm -rf runs/fashion_mnist
build/megabyte train --data "$DATA" --scan patch "${MODEL[@]}" --batch 8 --steps "$STEPS" --warmup 100 \
  --lr 2e-3 --eval-every 500 --log-every 100 --out runs/fashion_mnist
build/megabyte eval --ckpt runs/fashion_mnist --data "$DATA" --scan patch --val-fraction 0.1
build/megabyte generate --ckpt runs/fashion_mnist --image 28x28 --scan patch --samples 16 --temperature 1 \
  --top-p 1 --seed 1 --out runs/fashion_mnist/samples.png
