#!/usr/bin/env bash
# Set-up, build and the whole test suite (what CI runs):
#   bash scripts/test.sh             Release build in build/, every test (gpu ones skip without a GPU)
#   bash scripts/test.sh --sanitize  ASan + UBSan build in build-asan/ (clang, with the fuzz
#                                    targets: scripts/fuzz.sh), the unit tests
set -euo pipefail
cd "$(dirname "$0")/.."

dir=build
# (MB_CUDA stated, not left to the cache: the demo may have configured build/ without CUDA)
flags=(-DCMAKE_BUILD_TYPE=Release -DMB_CUDA="${MB_CUDA:-AUTO}")
labels=()
if [ "${1:-}" = "--sanitize" ]; then
  dir=build-asan
  # (no MPI: Open MPI keeps memory to the end of the process, which LeakSanitizer reports)
  flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DMB_SANITIZE=ON -DMB_FUZZ=ON -DMB_CUDA=OFF -DMB_BUILD_BENCH=OFF -DMB_MPI=OFF)
  export CC=clang CXX=clang++
  labels=(-L unit)
elif [ -n "${1:-}" ]; then
  echo "usage: bash scripts/test.sh [--sanitize]" >&2
  exit 2
fi

bash scripts/setup.sh --tests
cmake -B "$dir" -G Ninja "${flags[@]}" >/dev/null
cmake --build "$dir"
export OMP_WAIT_POLICY=PASSIVE
ctest --test-dir "$dir" --output-on-failure "${labels[@]}"
