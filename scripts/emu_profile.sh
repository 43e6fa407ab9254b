#!/usr/bin/env bash
# The kernel lab's versions on the CUDA emulator with its profiler (cuda/emu/emu_profile.h):
# per kernel, the global-memory requests, bytes and 32-byte sectors they move, and the
# shared-memory wavefronts (bank conflicts), counted from every load and store the emulated
# threads make. No GPU; numbers, not times. Builds with clang in build-emu-profile/.
#   bash scripts/emu_profile.sh [LAB ARGS...]     e.g.  --kernel softmax
#   bash scripts/emu_profile.sh --step SEQ PATCH GDIM GLAYERS GHEADS LDIM LLAYERS LHEADS BATCH
#                                                 the backend's kernels under one bf16 training step
#                                                 (MB_EMU_PROFILE=launches: also a line per launch)
set -euo pipefail
cd "$(dirname "$0")/.."
CC=clang CXX=clang++ cmake -B build-emu-profile -G Ninja -DCMAKE_BUILD_TYPE=Release -DMB_CUDA=OFF -DMB_CUDA_EMU=ON \
  -DMB_BUILD_BENCH=OFF -DMB_USE_SYSTEM_DEPS=OFF -DMB_EMU_MEMCHECK=OFF -DMB_EMU_RACECHECK=OFF -DMB_EMU_PROFILE=ON >/dev/null
if [ "${1:-}" = "--step" ]; then  # the backend's kernels under one bf16 training step of a config
  shift
  cmake --build build-emu-profile --target emu_profile_step
  MB_EMU_PROFILE=${MB_EMU_PROFILE:-1} OMP_NUM_THREADS=1 build-emu-profile/cuda/emu/emu_profile_step "$@"
  exit
fi
cmake --build build-emu-profile --target kernel_lab_emu_profile
[ $# -eq 0 ] && set -- --kernel all
MB_EMU_PROFILE=1 build-emu-profile/cuda/emu/kernel_lab_emu_profile "$@" --quick --reps 1 --warmup 0 --no-flush
