#!/usr/bin/env bash
# The installed package, used as a program outside the tree would: installs build/ (from
# scripts/test.sh) to a temporary prefix, builds examples/consumer against it with nothing but
# the prefix, and runs it.   bash scripts/consumer.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d build ] || { echo "consumer: build/ first (bash scripts/test.sh)" >&2; exit 2; }
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install build --prefix "$prefix/install" >/dev/null
cmake -S examples/consumer -B "$prefix/build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix/install" >/dev/null
cmake --build "$prefix/build" >/dev/null
"$prefix/build/mlp"
echo "consumer: built and ran against the package installed in $prefix/install"
