#!/usr/bin/env bash
# Fuzzes the parsers of untrusted input (tests/fuzz: safetensors files, JSON configs, data
# files) with libFuzzer under AddressSanitizer + UndefinedBehaviorSanitizer, SECONDS each
# (default 60). Uses the sanitizer build of `scripts/test.sh --sanitize` (build-asan/, clang),
# building it if needed. New interesting inputs go to a scratch corpus, not the repository; a
# finding stops with the input that caused it: copy that file into
# tests/fuzz/corpus/<target>/, fix the code, and every build replays it from then on.
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]      targets: safetensors config data
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(safetensors config data)
if [ ! -x build-asan/tests/fuzz_data ]; then
  bash scripts/setup.sh
  CC=clang CXX=clang++ cmake -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMB_SANITIZE=ON -DMB_FUZZ=ON \
    -DMB_CUDA=OFF -DMB_BUILD_BENCH=OFF >/dev/null
fi
cmake --build build-asan --target "${targets[@]/#/fuzz_}"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
for t in "${targets[@]}"; do
  mkdir -p "$scratch/$t"
  echo "fuzz: $t for ${seconds}s"
  # -rss_limit_mb: a small input may not make a giant allocation; -max_len: room for headers
  if ! build-asan/tests/fuzz_$t -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
    -artifact_prefix="$scratch/" "$scratch/$t" "tests/fuzz/corpus/$t" >"$scratch/$t.log" 2>&1; then
    tail -40 "$scratch/$t.log"
    for a in "$scratch"/crash-* "$scratch"/oom-* "$scratch"/timeout-* "$scratch"/leak-*; do
      [ -e "$a" ] && cp "$a" "fuzz-finding-$t-$(basename "$a")" && echo "fuzz: finding kept as fuzz-finding-$t-$(basename "$a")"
    done
    exit 1
  fi
  grep -E "stat::number_of_executed_units|stat::new_units_added" "$scratch/$t.log" | sed "s/^/fuzz: $t: /"
done
