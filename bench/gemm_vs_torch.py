#!/usr/bin/env python3
"""Square f32 GEMM: ours (build/bench/bench_gemm) vs PyTorch's torch.mm (OpenBLAS), run
alternately in one session, median GFLOP/s per size and thread count, and the ratio.

  /usr/bin/python3 bench/gemm_vs_torch.py [--rounds 5] [--torch ../shared/reference/torch_megabyte.py]

Needs `apt-get install python3-torch libopenblas0-pthread` for the PyTorch side.
"""
import argparse, json, os, re, statistics, subprocess, sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
p = argparse.ArgumentParser()
p.add_argument("--rounds", type=int, default=5)
p.add_argument("--torch", default=os.path.join(root, "..", "shared", "reference", "torch_megabyte.py"))
p.add_argument("--bench", default=os.path.join(root, "build", "bench", "bench_gemm"))
a = p.parse_args()
sizes = [256, 512, 1024, 2048]
ours, theirs = {}, {}
for r in range(a.rounds):
    out = subprocess.run([a.bench, "3"], capture_output=True, text=True, check=True).stderr
    for line in out.splitlines():
        j = json.loads(line)
        m = re.match(r"(\d+)x(\d+) @ \d+x(\d+)", j["case"])
        if m and m.group(1) == m.group(2) == m.group(3):
            ours.setdefault((int(m.group(1)), j["threads"]), []).append(j["GFLOP/s"])
    for t in (1, 2):
        out = subprocess.run([sys.executable, a.torch, "matmul", "--threads", str(t), "--reps", "3",
                              "--sizes", *map(str, sizes)], capture_output=True, text=True, check=True).stdout
        for m in re.finditer(r"(\d+)\^3: median [\d.]+ ms = ([\d.]+) GFLOP/s", out):
            theirs.setdefault((int(m.group(1)), t), []).append(float(m.group(2)))
print(f"median over {a.rounds} alternating rounds (GFLOP/s)")
print(f"{'size':>6} {'threads':>7} {'ours':>8} {'torch':>8} {'ours/torch':>10}")
for t in (1, 2):
    for n in sizes:
        o, q = statistics.median(ours[(n, t)]), statistics.median(theirs[(n, t)])
        print(f"{n:>6} {t:>7} {o:8.1f} {q:8.1f} {o / q:10.2f}")
