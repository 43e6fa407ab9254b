#!/usr/bin/env bash
# The gpu tests on a machine without a GPU: the CUDA backend's sources made plain C++ and run
# under the CPU emulator of cuda/emu (one fiber per CUDA thread), against the CPU oracle; the
# kernel lab's versions against theirs; and the emulator's own planted-bug tests. The emulated
# kernels are built with AddressSanitizer (MB_EMU_MEMCHECK): an access outside a device
# allocation (its exact size, not the caching allocator's bin) stops the test with ASan's
# report, as compute-sanitizer's memcheck would on a GPU. And again with ThreadSanitizer
# (MB_EMU_RACECHECK, label emu-race): a data race between the threads of a block is reported,
# as racecheck would.
# Slow (an emulated thread per CUDA thread) and about correctness only.
#   bash scripts/test_cuda_emu.sh [CTEST ARGS...]      e.g.  -R "gradcheck attention"
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/emu_configure.sh
cmake --build build-emu --target test_gpu_emu kernel_lab_emu emu_planted_bugs test_gpu_emu_race emu_planted_bugs_race
export OMP_WAIT_POLICY=PASSIVE
ctest --test-dir build-emu -L emu --output-on-failure "$@"   # (-L is a pattern: emu and emu-race)
