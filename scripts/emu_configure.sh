#!/usr/bin/env bash
# Configures build-emu/, the CUDA backend on the CPU emulator with both checkers (memcheck,
# racecheck), with the vendored dependencies only (CI's proof that third_party/ builds). One
# place for these flags: scripts/test_cuda_emu.sh and gpu_check.sh's rehearsal both use it.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -B build-emu -G Ninja -DCMAKE_BUILD_TYPE=Release -DMB_CUDA=OFF -DMB_CUDA_EMU=ON -DMB_BUILD_BENCH=OFF \
  -DMB_USE_SYSTEM_DEPS=OFF -DMB_SANITIZE=OFF -DMB_EMU_MEMCHECK=ON -DMB_EMU_RACECHECK=ON >/dev/null
