#!/usr/bin/env bash
# MEGABYTE on audio: 8-bit mu-law speech at 8 kHz, one byte per sample. Trains on the first 90%,
# reports bits per byte on the rest, and writes two seconds of generated audio as a WAV file.
# By default the 60 s of espeak speech the repository ships (data/README.md); any raw mu-law
# 8 kHz file works (e.g. `sox in.wav -r 8000 -c 1 -e mu-law -t raw out.ulaw`).
#   bash examples/audio.sh [ULAW_FILE] [STEPS]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-data/espeak-60s.ulaw}
[ -f "$DATA" ] || { echo "audio.sh: no file $DATA (give a raw 8-bit mu-law file)" >&2; exit 2; }
STEPS=${2:-1500}
rm -rf runs/audio
build/megabyte train --data "$DATA" --format raw --preset small --batch 4 --steps "$STEPS" --warmup 100 \
  --eval-every 500 --log-every 100 --out runs/audio
build/megabyte eval --ckpt runs/audio --data "$DATA" --format raw --val-fraction 0.1
build/megabyte generate --ckpt runs/audio --prompt-file <(head -c 4000 "$DATA") --bytes 16000 --temperature 1 \
  --top-p 1 --seed 1 --wav runs/audio/generated.wav
