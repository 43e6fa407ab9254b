#!/usr/bin/env bash
# Data-parallel training (nn/distributed.h), end to end with mpirun, 2 ranks of 1 thread:
#  1. 2 ranks at --batch 2 train as one process at --batch 2 --grad-accum 2 does (same windows,
#     same dropout masks): the same losses, gradient norms and validation at every step, and
#     the final models score the same;
#  2. stopped after step 3 and resumed on 1 process (the 2 micro-batches a step now both on
#     it), the run continues as the uninterrupted one did;
#  3. a rank that fails ends the job, naming the rank; a rank killed mid-run ends the job, and
#     the last checkpoint resumes.
#   bash tests/data_parallel.sh BUILD_DIR
set -euo pipefail
BUILD=$1
MB=$BUILD/megabyte
DATA=$(dirname "$0")/../data/tinyshakespeare.txt
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
MPIRUN=(mpirun --oversubscribe)
[ "$(id -u)" = 0 ] && MPIRUN+=(--allow-run-as-root)
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
COMMON=(--preset tiny --data "$DATA" --steps 6 --batch 2 --threads 1 --eval-every 3 --eval-windows 4 --warmup 2 --dropout 0.1)

fail() { echo "FAIL: $*" >&2; exit 1; }
# columns 3 (loss), 5 (grad_norm), 6 (val_bpb) of two log.csv files agree to a relative 1e-5
same_logs() {
  paste -d, "$1" "$2" | awk -F, -v n="$(head -1 "$1" | tr ',' '\n' | wc -l)" -v label="$3" '
    NR == 1 { next }
    { for (c = 3; c <= 6; c++) { if (c == 4) continue; a = $c; b = $(c + n)
        if (a == "" && b == "") continue
        d = a - b; if (d < 0) d = -d; s = a < 0 ? -a : a
        if (d > 1e-5 * (s + 1e-9)) { printf "%s: step %s column %d: %s vs %s\n", label, $1, c, a, b; bad = 1 } } }
    END { exit bad }'
}
head -c 16384 "$DATA" >"$TMP/slice.txt"
bpb() { "$MB" eval --ckpt "$1" --data "$TMP/slice.txt" | awk '$1 == "bpb" {print $2}'; }

echo "== 1. two ranks = one process with --grad-accum 2"
"${MPIRUN[@]}" -np 2 "$MB" train "${COMMON[@]}" --out "$TMP/dp" | tail -3
"$MB" train "${COMMON[@]}" --grad-accum 2 --out "$TMP/ga" --quiet
same_logs "$TMP/dp/log.csv" "$TMP/ga/log.csv" "2 ranks vs --grad-accum 2" || fail "the logs differ"
a=$(bpb "$TMP/dp/ckpt_000006.safetensors") b=$(bpb "$TMP/ga/ckpt_000006.safetensors")
echo "final models: $a vs $b bits per byte"
[ -n "$a" ] && awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; exit !(d < 1e-5 && d > -1e-5) }' || fail "the models differ"

echo "== 2. stopped on 2 ranks, resumed on 1"
rc=0
"${MPIRUN[@]}" -np 2 "$MB" train "${COMMON[@]}" --stop-at 3 --out "$TMP/rs" --quiet >/dev/null 2>&1 || rc=$?
[ $rc -eq 130 ] || fail "a run stopped by --stop-at exits 130 (interrupted), this one $rc"
"$MB" train --resume --out "$TMP/rs" --threads 1 | grep -E "ranks instead|done" || fail "resume on 1 process"
same_logs "$TMP/dp/log.csv" "$TMP/rs/log.csv" "resumed vs uninterrupted" || fail "the resumed run differs"

echo "== 3. faults"
set +e
err=$("${MPIRUN[@]}" -np 1 "$MB" train "${COMMON[@]}" --out "$TMP/f1" : -np 1 "$MB" train "${COMMON[@]}" --out "$TMP/f1" \
      --data "$TMP/missing" 2>&1)
rc=$?
set -e
[ $rc -ne 0 ] || fail "a failing rank did not fail the job"
grep -q "rank 1 of 2: error: .*missing" <<<"$err" || fail "the error does not name the rank: $err"
echo "a failing rank: exit $rc, $(grep -o 'rank 1 of 2: error: [^(]*' <<<"$err" | head -1)"
"${MPIRUN[@]}" -np 2 "$MB" train "${COMMON[@]}" --steps 100000 --ckpt-every 2 --eval-every 0 --out "$TMP/k" --quiet \
  >/dev/null 2>&1 &
job=$!
for _ in $(seq 600); do [ -e "$TMP/k/ckpt_000004.safetensors" ] && break; sleep 0.1; done
[ -e "$TMP/k/ckpt_000004.safetensors" ] || fail "no checkpoint to kill after"
for p in $(pgrep -f -- "--out $TMP/k"); do  # one rank (not mpirun, whose arguments match too)
  if [ "$(cat "/proc/$p/comm" 2>/dev/null)" = megabyte ]; then kill -9 "$p"; break; fi
done
set +e
wait $job
rc=$?
set -e
[ $rc -ne 0 ] || fail "the job went on after a rank was killed"
"$MB" train --resume --out "$TMP/k" --steps 8 --threads 1 --quiet || fail "the last checkpoint did not resume"
[ -e "$TMP/k/ckpt_000008.safetensors" ] || fail "the resumed run did not reach step 8"
echo "a killed rank: the job ended (exit $rc); resumed from its last checkpoint to step 8"
echo "OK"
