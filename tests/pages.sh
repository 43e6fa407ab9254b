#!/usr/bin/env bash
# `megabyte explain` and `megabyte report` in a real browser (headless Chromium): each page
# loads with no console message, its elements are drawn, the explain page's bits per byte
# (plain and strided) equal `megabyte eval`'s for the same span, and each chart (uPlot, inlined)
# is drawn with as many points as its data have: P per curve of bits by position (P from
# `megabyte info`), log.csv's rows for the report's. With a second argument, a
# screenshot of each page goes there (docs/img/ has the ones of the docs).
#   bash tests/pages.sh BUILD_DIR [SCREENSHOT_DIR]       exit 77 (skipped) without Chromium
set -euo pipefail
MB=$1/megabyte
SHOTS=${2:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CHROME=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$CHROME" ] || { echo "no Chromium (scripts/setup.sh --tests installs it): skipped"; exit 77; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ZOO=$ROOT/megabyte/zoo/tiny_shakespeare.safetensors
fail() { echo "FAIL: $*" >&2; exit 1; }

# browse PAGE OUT [chromium flags...]: the DOM after the scripts ran, into OUT; console output
# (Chromium logs every console message and uncaught error as CONSOLE) must be empty
browse() {
  local page=$1 out=$2
  shift 2
  "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run --enable-logging=stderr --v=0 \
    --virtual-time-budget=10000 "$@" "file://$page" >"$out" 2>"$TMP/console.txt" || fail "Chromium failed on $page"
  if grep -E "CONSOLE|Uncaught" "$TMP/console.txt"; then fail "console messages on $page"; fi
}

echo "== explain"
head -c 4000 "$ROOT/data/tinyshakespeare.txt" >"$TMP/span.txt"
"$MB" explain --ckpt "$ZOO" --data "$TMP/span.txt" --out "$TMP/explain.html"
want=$("$MB" eval --ckpt "$ZOO" --data "$TMP/span.txt" | awk '$1 == "bpb" {print $2}')
want_strided=$("$MB" eval --ckpt "$ZOO" --data "$TMP/span.txt" --strided | awk '$1 == "bpb" {print $2}')
browse "$TMP/explain.html" "$TMP/dom.html" --dump-dom
echo "loaded, parsed and drawn $(grep -o 'data-ms="[0-9]*"' "$TMP/dom.html" | grep -o '[0-9]*') ms after navigation started"
grep -q 'data-ready="1"' "$TMP/dom.html" || fail "the explain page's script did not finish"
got=$(grep -o '<b id="bpb">[0-9.]*</b>' "$TMP/dom.html" | grep -o '[0-9.]*')
got_strided=$(grep -o '<b id="bpb-strided">[0-9.]*</b>' "$TMP/dom.html" | grep -o '[0-9][0-9.]*')
echo "bits per byte: page $got / $got_strided (strided), eval $want / $want_strided"
[ "$got" = "$want" ] && [ "$got_strided" = "$want_strided" ] || fail "the page's bits per byte are not eval's"
spans=$(grep -o '<span data-i="' "$TMP/dom.html" | wc -l) || true
[ "$spans" -eq 4000 ] || fail "$spans byte spans drawn, not 4000"
for id in by-position global-attn local-attn g-layer l-patch; do
  grep -q "id=\"$id\"" "$TMP/dom.html" || fail "no #$id"
done
# points(DOM, TITLE): the points drawn by the chart of that title (-1 if there is none drawn)
points() {
  grep -o "<div class=\"chart\" data-title=\"$2\" data-points=\"[0-9]*\"><div class=\"uplot" "$1" |
    grep -o 'points="[0-9]*' | grep -o '[0-9]*$' || echo -1
}
P=$("$MB" info --ckpt "$ZOO" | grep -o ' P=[0-9]*' | grep -o '[0-9]*')
[ "$(points "$TMP/dom.html" 'bits per byte')" -eq $((2 * P)) ] || fail "bits by position: not 2 x $P points drawn"

echo "== report"
OMP_NUM_THREADS=1 "$MB" train --preset tiny --data "$TMP/span.txt" --val-fraction 0.3 --steps 30 --batch 2 \
  --eval-every 10 --ckpt-every 15 --threads 1 --out "$TMP/run" --quiet
"$MB" report "$TMP/run" --samples 60
browse "$TMP/run/report.html" "$TMP/report_dom.html" --dump-dom
grep -q 'data-ready="1"' "$TMP/report_dom.html" || fail "the report page's script did not finish"
charts=$(grep -o '<div class="uplot' "$TMP/report_dom.html" | wc -l)
[ "$charts" -eq 6 ] || fail "$charts charts drawn, not 6"
rows=$(tail -n +2 "$TMP/run/log.csv" | wc -l) vals=$(tail -n +2 "$TMP/run/log.csv" | cut -d, -f6 | grep -c .) || true
for title in 'bits per byte (train: solid, validation: dots)' 'bits per byte against bytes seen'; do
  [ "$(points "$TMP/report_dom.html" "$title")" -eq $((rows + vals)) ] || fail "$title: not $rows + $vals points drawn"
done
for title in 'bits per byte against training FLOPs' 'learning rate' 'gradient norm' 'throughput (bytes/s)'; do
  [ "$(points "$TMP/report_dom.html" "$title")" -eq "$rows" ] || fail "$title: not $rows points drawn"
done
echo "report: 6 charts, $rows steps and $vals validations drawn"
[ "$(grep -o '<pre>' "$TMP/report_dom.html" | wc -l)" -eq 2 ] || fail "not one sample per checkpoint"

if [ -n "$SHOTS" ]; then
  mkdir -p "$SHOTS"
  "$MB" explain --ckpt "$ZOO" --data "$ROOT/data/tinyshakespeare.txt" --offset 2000 --bytes 1500 --out "$TMP/shot.html"
  browse "$TMP/shot.html" /dev/null --screenshot="$SHOTS/explain.png" --window-size=1100,1500 --hide-scrollbars
  browse "$TMP/run/report.html" /dev/null --screenshot="$SHOTS/report.png" --window-size=1100,900 --hide-scrollbars
  echo "screenshots in $SHOTS"
fi
echo "OK"
