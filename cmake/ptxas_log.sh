#!/usr/bin/env bash
# The CUDA compiler launcher of mb_cuda (CMakeLists.txt): runs the nvcc command it is given,
# which has -Xptxas=-v, and keeps ptxas's per-kernel report (registers, spills, shared memory)
# in OBJECT.ptxas beside the object file instead of the build log; everything else nvcc prints
# passes through. scripts/check_cuda_resources.py reads the reports.
set -uo pipefail
out=/dev/null
prev=""
for a in "$@"; do
  [ "$prev" = "-o" ] && out=$a
  prev=$a
done
log=$(mktemp)
"$@" 2>"$log"
rc=$?
report='^(ptxas info|    [0-9]+ bytes stack frame)'
[ "$out" != /dev/null ] && grep -E "$report" "$log" >"$out.ptxas"
grep -vE "$report" "$log" >&2
rm -f "$log"
exit $rc
