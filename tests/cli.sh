#!/usr/bin/env bash
# The megabyte command line as a user meets it: bad input gets one line on stderr naming the
# problem, a non-zero exit and no files; Ctrl-C (SIGINT) saves a checkpoint that --resume
# continues bit for bit.    tests/cli.sh path/to/megabyte path/to/source-dir
set -u
MB=$(realpath "$1")
SRC=$(realpath "$2")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
fails=0
checks=0

# expect_error PATTERN CMD...: fails unless CMD exits non-zero with exactly one stderr line
# containing PATTERN, and leaves no file in the working folder.
expect_error() {
  local pattern="$1"
  shift
  checks=$((checks + 1))
  rm -rf "$WORK/out"
  "$@" >"$WORK/stdout" 2>"$WORK/stderr"
  local rc=$? lines
  lines=$(wc -l <"$WORK/stderr")
  if [ "$rc" -eq 0 ] || [ "$lines" -ne 1 ] || ! grep -qF -- "$pattern" "$WORK/stderr" || [ -e "$WORK/out" ]; then
    echo "FAIL: $* -> exit $rc, stderr ($lines lines): $(cat "$WORK/stderr")"
    fails=$((fails + 1))
  fi
}

expect_error "unknown command 'fly'" "$MB" fly
expect_error "does not exist (see --help)" "$MB" train --bogus 1 --out out
expect_error "no such file or folder" "$MB" train --data missing.txt --out out
: >empty.txt
expect_error "no data (the file is empty)" "$MB" train --data empty.txt --out out
head -c 300 "$SRC/data/tinyshakespeare.txt" >short.txt
expect_error "fewer than one window of T = 256" "$MB" train --data short.txt --out out
expect_error "--steps must be in [1, 1099511627776], got -5" "$MB" train --steps -5 --out out
expect_error "--device must be cpu or cuda, got 'tpu'" "$MB" train --device tpu --out out
expect_error "--precision bf16 needs --device cuda" "$MB" train --precision bf16 --out out
expect_error "--precision must be fp32 or bf16, got 'fp8'" "$MB" train --precision fp8 --out out
expect_error "--device must be cpu or cuda, got 'gpu'" "$MB" verify tests/fixtures/p1.safetensors --device gpu
expect_error "seq (T) 250 is not a multiple of patch (P) 4" "$MB" train --seq 250 --out out
expect_error "unknown preset 'huge' (known: tiny, small" "$MB" train --preset huge --out out
expect_error "not divisible by gheads 3" "$MB" train --gheads 3 --out out
expect_error "--top-p must be in (0, 1], got 1.5" "$MB" generate --ckpt x --top-p 1.5
expect_error "missing.safetensors: no such file" "$MB" generate --ckpt missing.safetensors
printf 'not a checkpoint at all' >corrupt.safetensors
expect_error "corrupt.safetensors: header length" "$MB" eval --ckpt corrupt.safetensors --data short.txt
expect_error "no checksum in the metadata (not written by megabyte" "$MB" info --ckpt "$SRC/tests/fixtures/baseline_tiny.safetensors"
expect_error "--ckpt and --data are required" "$MB" eval --data short.txt
expect_error "unexpected argument 'extra'" "$MB" info --list extra
# every trained model of the zoo loads by name and has its card
zoo=$("$MB" info --list | sed -n '/^trained models/,$p' | tail -n +2 | awk '{ print $1 }')
[ "$(echo "$zoo" | wc -w)" -ge 4 ] || { echo "FAIL: the zoo lists fewer than 4 trained models: $zoo"; exit 1; }
for name in $zoo; do
  "$MB" info --ckpt "$name" >/dev/null || { echo "FAIL: the zoo's $name does not load by name"; exit 1; }
  grep -q "^## $name\$" "$SRC/megabyte/zoo/README.md" || { echo "FAIL: the zoo's $name has no card in megabyte/zoo/README.md"; exit 1; }
done
# every boolean is a switch: --x sets it, --x=0 clears it; a value apart is refused with the form
expect_error "a switch is on when given, and takes a value only after '=' (--conv, --conv=0)" "$MB" train --conv 1 --out out
expect_error "--strided = 'maybe' is not 1 or 0" "$MB" eval --ckpt x --data short.txt --strided=maybe
expect_error "--temperature must be >= 0, got -1" "$MB" generate --temperature -1
if ! "$MB" info --conv | grep -q "conv encoder" || "$MB" info --conv=0 | grep -q "conv encoder" ||
   ! "$MB" info --local-pos=0 | grep -q "local_pos 0"; then
  echo "FAIL: --conv / --conv=0 / --local-pos=0 do not reach the config"; exit 1
fi

# crafted and absurd input (the hardening issue's reproductions): one line, no signal, no hang,
# no folder
expect_error "config: seq must be in [1, 67108864], got 1152921504606846976" "$MB" bench --seq 1152921504606846976 --patch 4 --gdim 16 --gheads 4 --glayers 0
expect_error "--batch must be in [1, 1048576], got 1099511627776" "$MB" train --batch 1099511627776 --out out
expect_error "config: gdim must be in [1, 65536], got 2147483648" "$MB" train --gdim 2147483648 --out out
expect_error "config: init_std must be a finite number > 0, got inf" "$MB" train --init-std inf --out out
expect_error "; this machine has" "$MB" train --preset small --batch 1048576 --val-fraction 0 --out out
expect_error "/dev/zero: not a regular file" "$MB" eval --ckpt /dev/zero --data short.txt
# a paper preset trains with the paper's recipe: its batch of 256 (far too big here) is refused
expect_error "training at batch 256 (" "$MB" train --preset paper-audio --val-fraction 0 --out out
expect_error "--seed = '-1' is not an integer in [0, 2^64)" "$MB" train --seed -1 --out out

# a short run, then its checkpoint through every reading subcommand
checks=$((checks + 1))
if ! "$MB" train --seq 32 --patch 4 --gdim 32 --glayers 1 --gheads 2 --ldim 16 --llayers 1 --lheads 2 \
  --steps 6 --batch 2 --eval-every 3 --out run --quiet >/dev/null 2>&1 ||
  ! "$MB" eval --ckpt run --data short.txt | tail -1 | grep -q '^bpb [0-9.]*$' ||
  [ "$("$MB" generate --ckpt run --prompt ab --bytes 10 --temperature 0 2>/dev/null | wc -c)" -ne 12 ] ||
  [ "$("$MB" generate --ckpt run --prompt ab --bytes 10 --weights bf16 2>/dev/null | wc -c)" -ne 12 ] ||
  ! "$MB" eval --ckpt run --data short.txt --weights bf16 | tail -1 | grep -q '^bpb [0-9.]*$' ||
  ! "$MB" info --ckpt run >/dev/null; then
  echo "FAIL: train / eval / generate / info on a fresh run"
  fails=$((fails + 1))
fi
expect_error "already holds checkpoints of another run" "$MB" train --steps 2 --out run
expect_error "--weights must be f32 or bf16, got 'f16'" "$MB" generate --ckpt run --weights f16
# --config FILE.json over a preset, with a flag over both
checks=$((checks + 1))
printf '{"seq": 48, "patch": 4, "gdim": 32, "glayers": 1, "gheads": 2, "ldim": 16, "llayers": 1, "act": "gelu"}' >cfg.json
if ! "$MB" train --config cfg.json --lheads 4 --steps 2 --batch 2 --out cfgrun --quiet >/dev/null 2>&1 ||
  ! "$MB" info --ckpt cfgrun | grep -q "T=48 P=4 K=12 .* local 16 x1 layers, 4 heads | gelu"; then
  echo "FAIL: --config cfg.json --lheads 4 did not give the model asked for"
  fails=$((fails + 1))
fi
printf '{"sequence": 48}' >badcfg.json
expect_error "cfg.json: unknown config field 'sequence'" "$MB" train --config badcfg.json --out out
checks=$((checks + 1))
if ! "$MB" bench --seq 32 --patch 4 --gdim 32 --glayers 1 --gheads 2 --ldim 16 --llayers 1 --lheads 2 --batch 2 \
  --steps 2 --warmup 0 | grep -q "median [0-9.]* ms/step (fwd"; then
  echo "FAIL: megabyte bench did not report a median step time"
  fails=$((fails + 1))
fi
# patches: SpaceByte's rule on a known line, and bad flags refused by name
checks=$((checks + 1))
printf 'To be, or not.\n' >line.txt
if [ "$("$MB" patches --data line.txt --show 100 | tail -1)" != "|To |be,| or |not.|↵" ]; then
  echo "FAIL: megabyte patches --patcher space did not start patches after space-like bytes"
  fails=$((fails + 1))
fi
expect_error "--patcher must be fixed, space or entropy, got 'word'" "$MB" patches --data line.txt --patcher word
expect_error "--offset 99 is outside the data (15 bytes)" "$MB" patches --data line.txt --offset 99
expect_error "patcher: the longest patch must be >= 1 byte, got 0" "$MB" patches --data line.txt --max-len 0

# spacebyte from the command line: train, score, generate (cached = recomputed), and its rules
sb=(--model spacebyte --patcher space --seq 64 --patch 8 --gdim 32 --glayers 1 --gheads 2 --ldim 16 --llayers 2 --lheads 2)
"$MB" train "${sb[@]}" --steps 3 --batch 2 --eval-every 3 --out sbrun --quiet >/dev/null
"$MB" eval --ckpt sbrun --data short.txt | grep -q "^bpb " || { echo "FAIL: eval of a spacebyte checkpoint"; exit 1; }
if [ "$("$MB" generate --ckpt sbrun --bytes 40 --seed 2 2>/dev/null)" != "$("$MB" generate --ckpt sbrun --bytes 40 --seed 2 --no-cache 2>/dev/null)" ]; then
  echo "FAIL: spacebyte's cached generation differs from the recomputed one"; exit 1
fi
expect_error "config: --patcher and --entropy-model are spacebyte options" "$MB" train --patcher space --out out
expect_error "--patcher entropy and --entropy-model go together" "$MB" train --model spacebyte --patcher entropy --out out
# entropy patches from the zoo's model, by name: the threshold chosen for the mean asked, and
# cached generation (the entropy model's own cache in step) equal to the recomputed one
sbe=("${sb[@]}" --patcher entropy --entropy-model tiny_shakespeare)
"$MB" train "${sbe[@]}" --entropy-mean 3 --steps 3 --batch 2 --eval-every 0 --out sbent >sbent.txt
grep -q "entropy patches (tiny_shakespeare, above [0-9.]* bits, chosen for a mean of 3): mean 3.00" sbent.txt ||
  { echo "FAIL: the entropy threshold was not chosen for --entropy-mean 3"; cat sbent.txt; exit 1; }
if [ "$("$MB" generate --ckpt sbent --bytes 40 --seed 2 2>/dev/null)" != "$("$MB" generate --ckpt sbent --bytes 40 --seed 2 --no-cache 2>/dev/null)" ]; then
  echo "FAIL: spacebyte's cached generation with entropy patches differs from the recomputed one"; exit 1
fi
expect_error "--entropy-mean 9 is longer than the longest patch (--patch 8)" "$MB" train "${sbe[@]}" --entropy-mean 9 --out out
expect_error "--entropy-theta and --entropy-rule are options of --patcher entropy (the patcher is space)" "$MB" train "${sb[@]}" --entropy-theta 2 --out out
expect_error "--entropy-mean chooses the threshold of --patcher entropy" "$MB" train "${sb[@]}" --entropy-mean 3 --out out
# its explain page marks the patch starts the model used: "to be, or not": 0, 3, 6, 10 (at most 8)
printf 'to be, or not' >sb.txt
"$MB" explain --ckpt sbrun --data sb.txt --out sb.html >/dev/null
grep -q '"pos":\[0,1,2,0,1,2,0,1,2,3,0,1,2\]' sb.html || { echo "FAIL: spacebyte's explain page lacks its patch positions"; exit 1; }
# a checkpoint with one flipped byte is refused
cp run/ckpt_000006.safetensors flipped.safetensors
printf '\x55' | dd of=flipped.safetensors bs=1 seek=$(($(stat -c %s flipped.safetensors) - 100)) conv=notrunc status=none
expect_error "checksum mismatch" "$MB" generate --ckpt flipped.safetensors

expect_error "image shape '4611686018427387905x4': width and height must be in [1, 65536]" "$MB" generate --ckpt run --image 4611686018427387905x4 --samples 1
expect_error "--samples 1099511627776 x 784 bytes needs 784.0 TiB; this machine has" "$MB" generate --ckpt run --image 28x28 --samples 1099511627776 --out out.png
# a write that fails (MB_FAULT=write:N: the N-th file written fails as a full disk would) is an
# error naming the file and the cause, and leaves nothing under its name: export, a checkpoint
# in training, an image, a page
expect_error "m.safetensors: write failed (No space left on device); nothing written" env MB_FAULT=write:1 "$MB" export --ckpt run --out m.safetensors
small=(--steps 2 --batch 2 --seq 64 --patch 8 --gdim 32 --glayers 1 --gheads 2 --ldim 16 --llayers 1 --lheads 2 --quiet)  # a two-step run: log.csv is its first file written, the TensorBoard event file its second, the checkpoint its third
expect_error "ckpt_000002.safetensors: write failed (No space left on device)" env MB_FAULT=write:3 "$MB" train "${small[@]}" --out full
expect_error "full3/events.out.tfevents." env MB_FAULT=write:2 "$MB" train "${small[@]}" --out full3
expect_error "g.png: write failed (No space left on device)" env MB_FAULT=write:1 "$MB" generate --ckpt run --image 4x4 --samples 1 --out g.png
expect_error "p.html: write failed (No space left on device)" env MB_FAULT=write:1 "$MB" explain --ckpt run --data "$SRC/data/tinyshakespeare.txt" --bytes 64 --out p.html
expect_error "g.pgm: write failed (No space left on device)" env MB_FAULT=write:1 "$MB" generate --ckpt run --image 4x4 --samples 1 --out g.pgm
expect_error "a.wav: write failed (No space left on device)" env MB_FAULT=write:1 "$MB" generate --ckpt run --bytes 8 --wav a.wav
expect_error "log.csv: write failed (No space left on device)" env MB_FAULT=write:1 "$MB" train "${small[@]}" --out full2
expect_error "r.html: write failed (No space left on device)" env MB_FAULT=write:1 "$MB" report run --out r.html
if command -v gnuplot >/dev/null; then
  expect_error "c.png: write failed (No space left on device)" env MB_FAULT=write:1 "$MB" plot run --out c.png
fi
expect_error "MB_FAULT must be write:N" env MB_FAULT=disk "$MB" export --ckpt run --out m.safetensors
checks=$((checks + 1))
left=$(ls m.safetensors* g.png* g.pgm* a.wav* p.html* r.html* c.png* full/ckpt_* full2/log.csv* full3/events.out.tfevents.* 2>/dev/null)
if [ -n "$left" ]; then
  echo "FAIL: a failed write left files: $(echo "$left" | tr '\n' ' ')"
  fails=$((fails + 1))
fi
# a write that fails is an error naming the file and the cause; a device stays a device
expect_error "/dev/full: write failed (No space left on device)" "$MB" export --ckpt run --out /dev/full
checks=$((checks + 1))
if [ ! -c /dev/full ] || ! "$MB" export --ckpt run --out /dev/stdout | head -c 8 | od -An -tu8 | grep -q '[0-9]'; then
  echo "FAIL: export to a device: /dev/full replaced, or nothing written to /dev/stdout"
  fails=$((fails + 1))
fi
# resume: changed options are refused by name (--steps may change); --preset is the checkpoint's
expect_error "--resume: --lr 0.5 differs from the checkpoint's 0.002" "$MB" train --resume --out run --lr 0.5
expect_error "explain: --offset 99999999 is outside the data" "$MB" explain --ckpt run --data "$SRC/data/tinyshakespeare.txt" --offset 99999999 --out out
expect_error "--bytes must be in [0, 65536], got 99999999" "$MB" explain --ckpt run --data "$SRC/data/tinyshakespeare.txt" --bytes 99999999 --out out
expect_error "report: nowhere/log.csv cannot be read" "$MB" report nowhere --out out
expect_error "--resume takes the model config from the checkpoint; drop --preset" "$MB" train --resume --out run --preset small
checks=$((checks + 1))
if ! "$MB" train --resume --out run --steps 8 2>&1 | grep -q -- "--steps 8 (the checkpoint's was 6)" || [ ! -f run/ckpt_000008.safetensors ]; then
  echo "FAIL: --resume --steps 8 did not continue the run to step 8"
  fails=$((fails + 1))
fi
# a non-finite loss: steps skipped, five in a row stop the run; MB_DETECT_ANOMALY names the op
checks=$((checks + 1))
if "$MB" train --init-std 1e38 --steps 20 --batch 2 --out nanrun --quiet 2>nan.err || ! grep -q "5 steps in a row had a non-finite loss" nan.err ||
  ls nanrun/ckpt_* >/dev/null 2>&1; then
  echo "FAIL: non-finite losses were not skipped and stopped: $(tail -1 nan.err)"
  fails=$((fails + 1))
fi
MB_DETECT_ANOMALY=1 expect_error "produced a non-finite value (NaN or infinity) in its output" "$MB" train --init-std 1e38 --steps 2 --batch 2 --out anomaly --quiet
# a folder name is never gnuplot code
mkdir -p "x'; system \"touch PWNED\"; #" && cp run/log.csv "x'; system \"touch PWNED\"; #/"
checks=$((checks + 1))
if ! "$MB" plot "x'; system \"touch PWNED\"; #" >/dev/null 2>&1 || [ -e PWNED ]; then
  echo "FAIL: plot ran a command from a folder name (or failed)"
  fails=$((fails + 1))
fi
# two trainers in one run folder: the second is refused while the first runs
"$MB" train --seq 32 --patch 4 --gdim 32 --glayers 1 --gheads 2 --ldim 16 --llayers 1 --lheads 2 --batch 2 \
  --steps 100000 --eval-every 0 --ckpt-every 2 --out busy --quiet >/dev/null 2>&1 &
busy=$!
for _ in $(seq 100); do
  [ -f busy/ckpt_000002.safetensors ] && break
  sleep 0.1
done
expect_error "busy is in use by another training process" "$MB" train --resume --out busy
kill -INT $busy
wait $busy

# SIGINT: the run saves a checkpoint and exits 130; --resume then matches an uninterrupted run
model=(--seq 64 --patch 8 --gdim 64 --glayers 2 --gheads 2 --ldim 32 --llayers 1 --lheads 2 --batch 4 --threads 1
  --eval-every 0 --ckpt-every 0 --warmup 10 --quiet)
checks=$((checks + 1))
"$MB" train "${model[@]}" --steps 100000 --out int >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do
  [ -f int/log.csv ] && [ "$(wc -l <int/log.csv)" -gt 20 ] && break
  sleep 0.1
done
kill -INT $pid
wait $pid
rc=$?
ckpt=$(ls int/ckpt_*.safetensors 2>/dev/null | tail -1)
if [ "$rc" -ne 130 ] || [ -z "$ckpt" ]; then
  echo "FAIL: SIGINT: exit $rc (want 130), checkpoint '${ckpt}'"
  fails=$((fails + 1))
else
  stopped=$(basename "$ckpt" .safetensors | sed 's/ckpt_0*//')
  total=$((stopped + 7))
  # the interrupted run's schedule ran to 100000 steps: the reference must have it too
  "$MB" train "${model[@]}" --steps 100000 --stop-at "$total" --out ref >/dev/null 2>&1
  "$MB" train --resume --out int --stop-at "$total" --threads 1 --quiet >/dev/null 2>&1
  if ! cmp -s <(cut -d, -f1-6 int/log.csv) <(cut -d, -f1-6 ref/log.csv) || [ "$(wc -l <ref/log.csv)" -ne $((total + 1)) ]; then
    echo "FAIL: SIGINT at step $stopped: the resumed log differs from an uninterrupted run"
    diff <(cut -d, -f1-6 int/log.csv) <(cut -d, -f1-6 ref/log.csv) | head -5
    fails=$((fails + 1))
  fi
fi
ls "$WORK"/*/*.tmp* >/dev/null 2>&1 && { echo "FAIL: temporary files left behind"; fails=$((fails + 1)); }

echo "$((checks - fails)) of $checks command-line checks passed"
[ "$fails" -eq 0 ]
