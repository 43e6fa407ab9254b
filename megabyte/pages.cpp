// The HTML of `megabyte explain` and `megabyte report`: plain HTML, SVG, canvas and JavaScript,
// no library and no network. Each page reads its data from the JSON in <script id="data">
// (megabyte/explain.cpp puts it there) and draws everything from it.
#include <string>

#include "tensor/error.h"

namespace mb {

namespace {

// shared by both pages: styles, and a line chart in SVG
const char* kCommon = R"PAGE(
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; max-width: 1200px; }
h1 { font-size: 1.3em; margin: 0 0 .3em; } h2 { font-size: 1.1em; margin: 1.4em 0 .4em; }
.muted { color: #666; } .row { display: flex; gap: 2em; flex-wrap: wrap; align-items: flex-start; }
svg.chart { background: #fafafa; border: 1px solid #ddd; }
svg.chart text { font-size: 11px; fill: #444; }
table.kv td { padding: 1px 10px 1px 0; vertical-align: top; } pre { background: #f6f6f6; padding: .6em; white-space: pre-wrap; }
</style>
<script>
// chart(title, xlabel, series [{name, color, xs, ys}]) -> an <svg> line chart (nulls skipped)
function chart(title, xlabel, series, w = 480, h = 230) {
  const NS = 'http://www.w3.org/2000/svg', m = {l: 52, r: 12, t: 22, b: 34};
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('class', 'chart'); svg.setAttribute('width', w); svg.setAttribute('height', h);
  const pts = series.flatMap(s => s.xs.map((x, i) => [x, s.ys[i]]).filter(p => p[1] !== null && isFinite(p[1]) && isFinite(p[0])));
  const el = (tag, attrs, text) => { const e = document.createElementNS(NS, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]); if (text !== undefined) e.textContent = text; svg.appendChild(e); return e; };
  el('text', {x: m.l, y: 15}, title);
  if (!pts.length) { el('text', {x: w / 2 - 30, y: h / 2}, 'no data'); return svg; }
  let [x0, x1] = [Math.min(...pts.map(p => p[0])), Math.max(...pts.map(p => p[0]))];
  let [y0, y1] = [Math.min(...pts.map(p => p[1])), Math.max(...pts.map(p => p[1]))];
  if (x1 === x0) x1 = x0 + 1; if (y1 === y0) { y1 += 0.5; y0 -= 0.5; }
  const X = x => m.l + (x - x0) / (x1 - x0) * (w - m.l - m.r), Y = y => h - m.b - (y - y0) / (y1 - y0) * (h - m.t - m.b);
  el('line', {x1: m.l, y1: h - m.b, x2: w - m.r, y2: h - m.b, stroke: '#999'});
  el('line', {x1: m.l, y1: m.t, x2: m.l, y2: h - m.b, stroke: '#999'});
  const fmt = v => Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-2 && v !== 0) ? v.toExponential(1) : +v.toPrecision(3);
  for (const f of [0, 0.5, 1]) el('text', {x: 2, y: Y(y0 + f * (y1 - y0)) + 4}, fmt(y0 + f * (y1 - y0)));
  // x ticks: every value of a short integer axis (positions in a patch), else ends and middle
  const ints = pts.every(p => Number.isInteger(p[0])) && x1 - x0 <= 16;
  const xt = ints ? Array.from({length: x1 - x0 + 1}, (_, i) => x0 + i) : [x0, (x0 + x1) / 2, x1];
  xt.forEach((v, i) => el('text', {x: X(v), y: h - m.b + 14,
    'text-anchor': i === 0 ? 'start' : i === xt.length - 1 ? 'end' : 'middle'}, fmt(v)));
  el('text', {x: w / 2 - 20, y: h - 4}, xlabel);
  series.forEach((s, k) => {
    const p = s.xs.map((x, i) => [x, s.ys[i]]).filter(q => q[1] !== null && isFinite(q[1]));
    if (s.dots || p.length === 1) p.forEach(q => el('circle', {cx: X(q[0]), cy: Y(q[1]), r: 3, fill: s.color}));
    else el('polyline', {points: p.map(q => X(q[0]) + ',' + Y(q[1])).join(' '), fill: 'none', stroke: s.color, 'stroke-width': 1.5});
    el('text', {x: w - m.r - 150, y: m.t + 12 + 13 * k, style: 'fill: ' + s.color}, s.name);
  });
  return svg;
}
const $ = id => document.getElementById(id);
const D = JSON.parse($('data').textContent);
</script>
)PAGE";

const char* kExplain = R"PAGE(<!doctype html>
<html><head><meta charset="utf-8"><title>megabyte explain</title></head><body>
<script type="application/json" id="data">@DATA@</script>
@COMMON@
<style>
#text { font: 13px/1.7 ui-monospace, monospace; white-space: pre-wrap; word-break: break-all; border: 1px solid #ddd; padding: .5em; max-height: 32em; overflow: auto; }
#text span { cursor: default; } #text span.ps { border-left: 1px solid #777; } #text.hex span { margin-right: 2px; }
#tip { position: fixed; display: none; background: #fff; border: 1px solid #888; padding: 6px 9px; font: 12px ui-monospace, monospace; box-shadow: 2px 2px 6px #0003; pointer-events: none; }
canvas { border: 1px solid #ddd; image-rendering: pixelated; }
</style>
<h1 id="title"></h1>
<p class="muted" id="model"></p>
<p>Bits per byte over the span: <b id="bpb"></b> plain, <b id="bpb-strided"></b> strided
(<span class="muted">green: predicted well, red: surprised; a line marks the start of each patch; hover or tap a byte</span>)</p>
<div id="text"></div><div id="tip"></div>
<div class="row" id="media"></div>
<h2>Bits per byte by position within the patch</h2>
<p class="muted">The local model predicts a patch's later bytes from its earlier ones; the first bytes of a patch see only the global model's summary of the patches before. Strided inference takes each byte from a second pass shifted by P/2, where it sits in the first half of its patch.</p>
<div id="by-position"></div>
<h2>Attention of the global model</h2>
<p class="muted">Row i: how patch i (or byte i, for the baseline) spreads its attention over the earlier ones, in the span's first window. Layer <select id="g-layer"></select> head <select id="g-head"></select></p>
<canvas id="global-attn"></canvas>
<div id="local-section"><h2>Attention of the local model inside one patch</h2>
<p class="muted">Patch <input id="l-patch" type="number" min="0" value="0" style="width:5em"> layer <select id="l-layer"></select> head <select id="l-head"></select> <span id="l-bytes"></span></p>
<canvas id="local-attn"></canvas></div>
<script>
$('title').textContent = D.title;
const P = D.patch, N = D.bytes.length;
$('model').textContent = D.model + ' | bytes ' + D.offset + ' to ' + (D.offset + N);
$('bpb').textContent = D.bpb.toFixed(6);
$('bpb-strided').textContent = D.bpb_strided !== undefined ? D.bpb_strided.toFixed(6) : 'n/a (P = 1)';
const heat = b => `hsl(${Math.max(0, 120 - b * 15)}, 85%, ${92 - Math.min(b, 10) * 3}%)`;
const printable = b => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127);
const isText = D.bytes.filter(printable).length >= 0.9 * N;
const show = b => isText ? (b === 10 ? '\u21b5\n' : b === 9 ? '\u21e5' : printable(b) ? String.fromCharCode(b) : '\u00b7')
                         : b.toString(16).padStart(2, '0');
const text = $('text'); if (!isText) text.className = 'hex';
const frag = document.createDocumentFragment();
for (let t = 0; t < N; ++t) {
  const s = document.createElement('span');
  s.textContent = show(D.bytes[t]); s.dataset.i = t; s.style.background = heat(D.bits[t]);
  if (P > 1 && t % P === 0) s.className = 'ps';
  frag.appendChild(s);
}
text.appendChild(frag);
const name = b => printable(b) && b !== 10 && b !== 9 && b !== 13 ? JSON.stringify(String.fromCharCode(b)) : '0x' + b.toString(16).padStart(2, '0');
function tip(ev) {
  const i = ev.target.dataset ? ev.target.dataset.i : undefined, box = $('tip');
  if (i === undefined) { box.style.display = 'none'; return; }
  const t = +i, top = D.top[t], lines = [];
  lines.push(`byte ${D.offset + t} = ${name(D.bytes[t])}, position ${t % P} of its patch`);
  lines.push(`${D.bits[t].toFixed(3)} bits plain` + (D.bits_strided ? `, ${D.bits_strided[t].toFixed(3)} strided` : ''));
  lines.push('predicted:');
  for (let k = 0; k < top.length; k += 2) lines.push(`  ${name(top[k]).padEnd(6)} ${(100 * top[k + 1]).toFixed(1)}%`);
  box.textContent = lines.join('\n'); box.style.whiteSpace = 'pre'; box.style.display = 'block';
  box.style.left = Math.min(ev.clientX + 14, innerWidth - 260) + 'px'; box.style.top = Math.min(ev.clientY + 14, innerHeight - 160) + 'px';
}
text.addEventListener('mouseover', tip); text.addEventListener('click', tip); text.addEventListener('mouseleave', () => $('tip').style.display = 'none');
// by position
const pos = [...Array(P).keys()], series = [{name: 'plain', color: '#1f6fb4', xs: pos, ys: D.by_position}];
if (D.by_position_strided) series.push({name: 'strided', color: '#e07b00', xs: pos, ys: D.by_position_strided});
$('by-position').appendChild(chart('bits per byte', 'position in the patch', series));
// attention heat maps
function fill(select, n, label) { select.innerHTML = ''; for (let i = 0; i < n; ++i) select.add(new Option(label + i, i)); }
function draw(canvas, m, n) {
  const cell = Math.max(2, Math.floor(384 / n)); canvas.width = canvas.height = cell * n;
  const g = canvas.getContext('2d');
  for (let i = 0; i < n; ++i) for (let j = 0; j < n; ++j) {
    const v = m[i * n + j]; g.fillStyle = j > i ? '#f4f4f4' : `rgba(120, 20, 160, ${Math.sqrt(v)})`; g.fillRect(j * cell, i * cell, cell, cell);
  }
}
const A = D.attention;
function drawGlobal() {
  const m = A.global[$('g-layer').value][$('g-head').value][0];
  draw($('global-attn'), m, Math.round(Math.sqrt(m.length)));
}
fill($('g-layer'), A.global.length, ''); fill($('g-head'), A.global[0].length, '');
$('g-layer').onchange = $('g-head').onchange = drawGlobal; drawGlobal();
if (A.local && A.local.length) {
  fill($('l-layer'), A.local.length, ''); fill($('l-head'), A.local[0].length, '');
  const patches = A.local[0][0].length; $('l-patch').max = patches - 1;
  const drawLocal = () => {
    const p = Math.max(0, Math.min(patches - 1, +$('l-patch').value || 0)), m = A.local[$('l-layer').value][$('l-head').value][p], n = Math.round(Math.sqrt(m.length));
    $('l-bytes').textContent = ' bytes: ' + D.bytes.slice(p * P, p * P + P).map(name).join(' ');
    draw($('local-attn'), m, n);
  };
  $('l-patch').oninput = $('l-layer').onchange = $('l-head').onchange = drawLocal; drawLocal();
} else $('local-section').style.display = 'none';
// images: the pixels beside their bits; mu-law audio: the waveform over its bits
if (D.image) {
  const {width: W, height: H, channels: C} = D.image, n = Math.min(Math.floor(N / C), W * H);
  const mk = (title) => { const d = document.createElement('div'), c = document.createElement('canvas');
    d.innerHTML = `<h2>${title}</h2>`; c.width = W; c.height = H; c.style.width = (W * Math.max(1, Math.floor(256 / W))) + 'px'; d.appendChild(c); $('media').appendChild(d); return c.getContext('2d'); };
  const img = mk('the image'), bits = mk('bits per pixel');
  const a = img.createImageData(W, H), b = bits.createImageData(W, H);
  for (let p = 0; p < n; ++p) {
    let s = 0; for (let c = 0; c < C; ++c) { a.data[4 * p + c] = D.bytes[p * C + c]; s += D.bits[p * C + c]; }
    if (C === 1) a.data[4 * p + 1] = a.data[4 * p + 2] = D.bytes[p];
    a.data[4 * p + 3] = 255; const v = Math.min(255, s / C * 32);
    b.data[4 * p] = v; b.data[4 * p + 1] = 40; b.data[4 * p + 2] = 255 - v; b.data[4 * p + 3] = 255;
  }
  img.putImageData(a, 0, 0); bits.putImageData(b, 0, 0);
}
if (D.audio) {
  const mulaw = u => { u = ~u & 255; const s = u & 128, e = (u >> 4) & 7, m = u & 15, x = ((m << 3) + 132 << e) - 132; return (s ? -x : x) / 32124; };
  const xs = [...Array(N).keys()];
  const d = document.createElement('div'); d.innerHTML = '<h2>the waveform and its bits</h2>';
  d.appendChild(chart('amplitude (mu-law decoded)', 'byte', [{name: 'signal', color: '#1f6fb4', xs, ys: D.bytes.map(mulaw)}], 1000, 180));
  d.appendChild(document.createElement('br'));
  d.appendChild(chart('bits per byte', 'byte', [{name: 'plain', color: '#c0392b', xs, ys: D.bits}], 1000, 160));
  $('media').appendChild(d);
}
@END@
)PAGE";

const char* kReport = R"PAGE(<!doctype html>
<html><head><meta charset="utf-8"><title>megabyte report</title></head><body>
<script type="application/json" id="data">@DATA@</script>
@COMMON@
<h1>Training report</h1>
<p class="muted" id="runs"></p>
<div class="row" id="charts"></div>
<div id="details"></div>
<script>
const colors = ['#1f6fb4', '#e07b00', '#2ca02c', '#9467bd'];
$('runs').textContent = D.map(r => r.run).join(' vs ');
const col = (r, k) => r.log[k] || [];
const bytesSeen = r => { const o = r.options || {}, per = (+o.batch || 0) * (+o.grad_accum || 1) * (+o.world_size || 1) * (r.seq || 0);
  return col(r, 'step').map(s => s * per); };
const plots = [
  ['bits per byte (train: solid, validation: dots)', 'step', r => [col(r, 'step'), col(r, 'bpb')], r => [col(r, 'step'), col(r, 'val_bpb')]],
  ['bits per byte against bytes seen', 'bytes', r => [bytesSeen(r), col(r, 'bpb')], r => [bytesSeen(r), col(r, 'val_bpb')]],
  ['bits per byte against training FLOPs', 'FLOPs', r => [col(r, 'train_flops'), col(r, 'bpb')], null],
  ['learning rate', 'step', r => [col(r, 'step'), col(r, 'lr')], null],
  ['gradient norm', 'step', r => [col(r, 'step'), col(r, 'grad_norm')], null],
  ['throughput (bytes/s)', 'step', r => [col(r, 'step'), col(r, 'bytes_per_s')], null],
];
for (const [title, xl, main, extra] of plots) {
  const series = [];
  D.forEach((r, k) => {
    const [xs, ys] = main(r); series.push({name: r.run.split('/').pop() + (extra ? ' train' : ''), color: colors[k % 4], xs, ys});
    if (extra) { const [ex, ey] = extra(r); const pts = ex.map((x, i) => [x, ey[i]]).filter(p => p[1] !== null);
      series.push({name: r.run.split('/').pop() + ' val', color: colors[k % 4], xs: pts.map(p => p[0]), ys: pts.map(p => p[1]), dots: true}); }
  });
  const svg = chart(title, xl, series); svg.dataset.title = title; $('charts').appendChild(svg);
}
for (const r of D) {
  const d = document.createElement('div');
  const h = document.createElement('h2'); h.textContent = r.run; d.appendChild(h);
  const p = document.createElement('p'); p.className = 'muted'; p.textContent = r.config || ''; d.appendChild(p);
  const t = document.createElement('table'); t.className = 'kv';
  for (const [k, v] of Object.entries(r.options || {})) { const tr = t.insertRow(); tr.insertCell().textContent = k; tr.insertCell().textContent = v === '' ? '(default)' : v; }
  d.appendChild(t);
  for (const c of r.checkpoints) if (c.sample !== undefined) {
    const h3 = document.createElement('h3'); h3.textContent = 'sample at step ' + c.step + ' (temperature 0.8)'; d.appendChild(h3);
    const pre = document.createElement('pre'); pre.textContent = c.sample; d.appendChild(pre);
  }
  $('details').appendChild(d);
}
@END@
)PAGE";

// the end of both pages' scripts: the marks the browser test (tests/pages.sh) waits for
const char* kEnd = R"PAGE(document.body.dataset.ready = '1';
document.body.dataset.ms = performance.now().toFixed(0);  // from navigation start: loaded, parsed, drawn
</script>
</body></html>)PAGE";

// a page with the shared styles and scripts in place of its @COMMON@ mark and the shared end
// in place of @END@
std::string with_common(const char* page) {
  std::string s = page;
  s.replace(s.find("@COMMON@"), 8, kCommon);
  s.replace(s.find("@END@"), 5, kEnd);
  return s;
}

}  // namespace

const char* page_template(const std::string& kind) {
  static const std::string explain = with_common(kExplain), report = with_common(kReport);
  MB_CHECK(kind == "explain" || kind == "report", "no page template '", kind, "'");
  return kind == "explain" ? explain.c_str() : report.c_str();
}

}  // namespace mb
