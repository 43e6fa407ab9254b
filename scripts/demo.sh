#!/usr/bin/env bash
# The main job, on a fresh machine: set-up, build, a short training run of the `tiny` MEGABYTE
# preset on the corpus the repo ships (a few minutes on 2 cores, with a live progress line),
# then a sample from the model it trained.    STEPS=... to train longer or shorter.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
# The CUDA module only where there is a GPU to run it (nvcc compiling kernels for minutes is
# wasted on a machine without one); MB_CUDA=ON builds it anyway, as scripts/test.sh does.
cuda=${MB_CUDA:-OFF}
[ -z "${MB_CUDA:-}" ] && nvidia-smi -L 2>/dev/null | grep -q GPU && cuda=AUTO
cmake -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DMB_CUDA="$cuda" >/dev/null
cmake --build build --target megabyte >build/build.log 2>&1 || { cat build/build.log; exit 1; }
[ "$cuda" = OFF ] && echo "build: no GPU here, so no CUDA module (MB_CUDA=ON bash scripts/demo.sh builds it)"
echo "build: done (build/megabyte)"

rm -rf runs/demo  # the demo's own run folder: start afresh
build/megabyte train --preset tiny --steps "${STEPS:-4000}" --warmup 200 --eval-every 1000 --log-every 250 \
  --out runs/demo
echo
build/megabyte generate --ckpt runs/demo --prompt $'KING RICHARD III:\n' --bytes 400 --seed 1
