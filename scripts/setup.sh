#!/usr/bin/env bash
# Installs every build and test dependency from Debian's archive: `apt-get update`, then one
# `apt-get install` (a no-op for what is already there). Idempotent; runs as root, or through
# sudo, without prompting. Nothing is downloaded from anywhere else.
#   bash scripts/setup.sh            what the build, the demo and the tests need
#   bash scripts/setup.sh --tests    and Chromium, for the browser test of the HTML pages (heavy)
set -euo pipefail

packages=(
  build-essential g++ cmake ninja-build pkg-config   # compiler and build
  libeigen3-dev                                       # CPU kernels (Eigen 3.4)
  libomp-dev                                          # OpenMP headers (g++ links libgomp)
  doctest-dev                                         # unit tests
  libcxxopts-dev                                      # command-line parsing
  nlohmann-json3-dev                                  # safetensors headers, configs
  zlib1g-dev                                          # gzip-compressed MNIST idx files
  gnuplot-nox                                         # training curves (megabyte plot)
  openmpi-bin libopenmpi-dev                          # data-parallel training (mpirun -np N)
  python3                                             # test helpers, the CUDA emulation's source transform
  python3-protobuf protobuf-compiler                  # the TensorBoard event files' reader test
  clang libclang-rt-14-dev                            # the sanitizer + fuzzer build (scripts/fuzz.sh)
)

[ "${1:-}" = "--tests" ] && packages+=(chromium)  # tests/pages.sh (headless)
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

export DEBIAN_FRONTEND=noninteractive
echo "setup: apt-get update"
as_root apt-get update -qq
echo "setup: apt-get install ${#packages[@]} packages"
as_root apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
echo "setup: done"
