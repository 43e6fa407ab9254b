#!/usr/bin/env bash
# Packs what the GPU machine lacks into third_party/device/ (git-ignored): the Debian headers
# and CMake package files the build needs (Eigen, doctest, cxxopts, nlohmann-json, zlib) and
# the PyTorch reference. Run here after scripts/setup.sh; then run scripts/gpu_check.sh on the
# GPU machine with third_party/device carried along.
set -euo pipefail
cd "$(dirname "$0")/.."
D=third_party/device
rm -rf "$D"
mkdir -p "$D/usr/include" "$D/usr/share" "$D/usr/lib/cmake" "$D/usr/lib/x86_64-linux-gnu"
cp -r /usr/include/eigen3 /usr/include/doctest /usr/include/nlohmann "$D/usr/include/"
cp /usr/include/cxxopts.hpp /usr/include/zlib.h /usr/include/zconf.h "$D/usr/include/"
cp -r /usr/share/eigen3 "$D/usr/share/"
for p in doctest nlohmann_json; do
  src=$(dirname "$(find /usr/lib /usr/share -name "${p}Config.cmake" -o -name "${p}-config.cmake" | head -1)")
  cp -r "$src" "$D/usr/lib/cmake/$p"
done
# some packages' CMake files name /usr outright: make them relative to where they now lie
grep -rl 'set(_IMPORT_PREFIX "/usr")' "$D/usr/lib/cmake" | xargs -r sed -i \
  's|set(_IMPORT_PREFIX "/usr")|get_filename_component(_IMPORT_PREFIX "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)|'
cp /usr/lib/x86_64-linux-gnu/libz.a "$D/usr/lib/x86_64-linux-gnu/"
cp "${TORCH_REF:-../shared/reference/torch_megabyte.py}" "$D/torch_megabyte.py"
du -sh "$D"
