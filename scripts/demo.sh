#!/usr/bin/env bash
# The main job, on a fresh machine: set-up, build, a short training run of the `tiny` MEGABYTE
# preset on the corpus the repo ships (a few minutes on 2 cores, with a live progress line),
# then a sample from the model it trained.    STEPS=... to train longer or shorter.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cmake -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target megabyte >build/build.log 2>&1 || { cat build/build.log; exit 1; }
echo "build: done (build/megabyte)"

rm -rf runs/demo  # the demo's own run folder: start afresh
build/megabyte train --preset tiny --steps "${STEPS:-4000}" --warmup 200 --eval-every 1000 --log-every 250 \
  --out runs/demo
echo
build/megabyte generate --ckpt runs/demo --prompt $'KING RICHARD III:\n' --bytes 400 --seed 1
