#!/usr/bin/env bash
# A run's TensorBoard event file, read by an independent reader (tests/check_tfevents.py:
# Google's protobuf with TensorBoard's messages): a run of 30 steps, sent back to step 10 with
# a torn record at the end of its event file (a write cut short), and resumed to 40. The
# folder must hold one event file whose scalars are log.csv's rows, each step once.
#   bash tests/tfevents.sh MEGABYTE        exit 77 (skipped) without python3-protobuf and protoc
set -euo pipefail
MB=$1
HERE=$(cd "$(dirname "$0")" && pwd)
PY=
for p in /usr/bin/python3 python3; do  # Debian's python3 has Debian's python3-protobuf
  if "$p" -c "import google.protobuf" 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || { echo "no python3-protobuf (scripts/setup.sh installs it): skipped"; exit 77; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
run=(--eval-every 10 --ckpt-every 10 --keep 5 --quiet --threads 1 --out "$TMP/run")
"$MB" train --steps 30 --batch 2 --seq 64 --patch 8 --gdim 32 --glayers 1 --gheads 2 --ldim 16 --llayers 1 --lheads 2 "${run[@]}"
"$PY" "$HERE/check_tfevents.py" "$TMP/run"
rm "$TMP/run/ckpt_000020.safetensors" "$TMP/run/ckpt_000030.safetensors"
printf 'torn' >>"$TMP"/run/events.out.tfevents.*
"$MB" train --steps 40 --resume "${run[@]}"
"$PY" "$HERE/check_tfevents.py" "$TMP/run"
[ "$(tail -n +2 "$TMP/run/log.csv" | cut -d, -f1 | tr '\n' ' ')" = "$(seq -s ' ' 1 40) " ] || { echo "FAIL: log.csv's steps"; exit 1; }
echo OK
