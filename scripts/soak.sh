#!/usr/bin/env bash
# The kill-anywhere soak: a training run killed with SIGKILL at N random moments (uniform over
# what is left of an uninterrupted run's duration, start-up included, so that some land inside
# checkpoint writes), resumed after each kill, must end with every tensor of its last checkpoint (weights
# and optimizer state) bitwise equal to the uninterrupted run's, and with one TensorBoard event
# file whose scalars are log.csv's rows (read by tests/check_tfevents.py where Debian's
# python3-protobuf is installed). When a run reaches its last
# step, the next kill starts a new one. Prints the kills, the runs finished and the runs that
# lost anything (the goal is zero); exits 1 if any did.
#   bash scripts/soak.sh N [STEPS]          build/megabyte first (scripts/test.sh or demo.sh),
#                                            or MB=path/to/megabyte
#   RANKS=2 bash scripts/soak.sh N          the same with two data-parallel ranks (mpirun): each
#                                            kill takes one rank, or both
set -uo pipefail
cd "$(dirname "$0")/.."
N=${1:?usage: bash scripts/soak.sh KILLS [STEPS]}
STEPS=${2:-40}
MB=$(realpath "${MB:-build/megabyte}")
CHECK_EVENTS=$(pwd)/tests/check_tfevents.py
PY_PB=
for p in /usr/bin/python3 python3; do  # Debian's python3 has Debian's python3-protobuf
  if "$p" -c "import google.protobuf" 2>/dev/null; then PY_PB=$p; break; fi
done
[ -x "$MB" ] || { echo "soak: $MB is missing: build it first" >&2; exit 2; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
RANKS=${RANKS:-1}
launch=("$MB")
if [ "$RANKS" -gt 1 ]; then
  launch=(mpirun --oversubscribe -np "$RANKS" "$MB")
  [ "$(id -u)" = 0 ] && launch=(mpirun --oversubscribe --allow-run-as-root -np "$RANKS" "$MB")
  export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
fi
model=(--seq 64 --patch 8 --gdim 64 --glayers 2 --gheads 2 --ldim 32 --llayers 1 --lheads 2 --batch 4 --threads 1
  --eval-every 0 --ckpt-every 5 --warmup 10 --quiet --steps "$STEPS")

# every tensor of two checkpoints, by name and bytes (the metadata may differ: times)
same_tensors() {
  python3 - "$1" "$2" <<'EOF'
import json, struct, sys
def tensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    head = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    return {k: data[v["data_offsets"][0]:v["data_offsets"][1]] for k, v in head.items() if k != "__metadata__"}
a, b = tensors(sys.argv[1]), tensors(sys.argv[2])
diff = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
if diff:
    print(f"{len(diff)} of {len(a)} tensors differ, e.g. {diff[:3]}")
sys.exit(1 if diff else 0)
EOF
}
last_ckpt() { ls "$1"/ckpt_*.safetensors 2>/dev/null | tail -1; }
# SIGKILL for the run started as $1: the process itself, or with ranks one of them at random, or
# all of them; false if it had ended already
kill_some() {
  [ "$RANKS" -eq 1 ] && { kill -9 "$1" 2>/dev/null; return; }
  local ranks=() p
  for p in $(pgrep -f -- "--out $WORK/run" 2>/dev/null); do  # (this soak's: others may run beside it)
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = megabyte ] && ranks+=("$p")
  done
  [ ${#ranks[@]} -gt 0 ] || return 1
  if [ $((RANDOM % 2)) -eq 0 ]; then kill -9 "${ranks[$((RANDOM % ${#ranks[@]}))]}" 2>/dev/null
  else kill -9 "${ranks[@]}" 2>/dev/null; fi
}

start=$EPOCHREALTIME
"${launch[@]}" train "${model[@]}" --out ref >/dev/null 2>&1 || { echo "soak: the reference run failed" >&2; exit 1; }
duration=$(python3 -c "print(round($EPOCHREALTIME - $start, 3))")
want=ref/$(printf 'ckpt_%06d.safetensors' "$STEPS")
[ -f "$want" ] || { echo "soak: the reference run left no $want" >&2; exit 1; }
start=$EPOCHREALTIME  # start-up and shut-down alone: a resume with nothing left to do
"${launch[@]}" train --resume --out ref --quiet >/dev/null 2>&1
startup=$(python3 -c "print(round(min($EPOCHREALTIME - $start, 0.9 * $duration), 3))")
echo "soak: reference run of $STEPS steps in ${duration} s (${startup} s of it start-up); $N kills, each at a" \
  "uniform moment of what is left of a run"

kills=0 finished=0 lost=0 tries=0
while [ "$kills" -lt "$N" ]; do
  tries=$((tries + 1))
  if [ "$tries" -gt $((20 * N + 20)) ]; then  # (a run far shorter than the time to launch one)
    echo "soak: after $tries runs only $kills kills landed: the runs end before their kills"
    exit 1
  fi
  # when to kill: uniform over what is left of the run, its start-up, then the steps after the
  # last checkpoint; drawn before the launch, so that drawing it is not part of the run's time
  done_steps=$(basename "$(last_ckpt run)" .safetensors 2>/dev/null | sed 's/ckpt_0*//')
  delay=$(python3 -c "import random; print(random.uniform(0, $startup + ($duration - $startup) * (1 - ${done_steps:-0} / $STEPS)))")
  if [ -z "$(last_ckpt run)" ]; then  # nothing saved yet: a fresh start
    rm -rf run
    "${launch[@]}" train "${model[@]}" --out "$WORK/run" >run.log 2>&1 &
  else
    "${launch[@]}" train --resume --out "$WORK/run" --quiet >run.log 2>&1 &
  fi
  pid=$!
  sleep "$delay"
  if kill_some "$pid"; then
    wait "$pid" 2>/dev/null
    kills=$((kills + 1))
    continue
  fi
  wait "$pid"
  rc=$?
  duration=$(python3 -c "print(round(max($startup + 0.01, 0.9 * $duration), 3))")  # it ended first: aim earlier
  if [ "$rc" -ne 0 ]; then  # a run that fails by itself after a kill: resume refused, corrupt file
    echo "soak: after $kills kills, the run exited $rc: $(tail -1 run.log)"
    lost=$((lost + 1))
    rm -rf run
    continue
  fi
  if [ -f "run/$(basename "$want")" ]; then
    finished=$((finished + 1))
    if ! same_tensors "$want" "run/$(basename "$want")"; then
      echo "soak: run $finished ended different from the uninterrupted run"
      lost=$((lost + 1))
    elif [ "$(ls run/events.out.tfevents.* | wc -l)" -ne 1 ] || { [ -n "$PY_PB" ] && ! "$PY_PB" "$CHECK_EVENTS" run >/dev/null; }; then
      echo "soak: run $finished: not one TensorBoard event file equal to log.csv"
      lost=$((lost + 1))
    fi
    rm -rf run
  fi
done
echo "soak: $kills kills, $finished runs finished and compared, $lost lost anything"
[ "$lost" -eq 0 ]
