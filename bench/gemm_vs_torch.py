#!/usr/bin/env python3
"""f32 GEMM: ours (build/bench/bench_gemm, the matmul op) vs PyTorch's torch.mm (Debian's
OpenBLAS), alternating rounds in one session; median GFLOP/s per shape and thread count, and
the ratio. The shapes are bench_gemm's: squares and the skinny ones of the MEGABYTE presets.

  /usr/bin/python3 bench/gemm_vs_torch.py [--rounds 5]

Needs `apt-get install python3-torch libopenblas0-pthread`. Each PyTorch measurement runs in
its own process, with OpenBLAS's pool sized to the thread count before torch loads. PyTorch
runs twice: as a user gets it (OpenBLAS's own pick of kernels) and at its best (the core for
this CPU's instruction set where OpenBLAS fell back to an older one, subnormals flushed:
bench/torch_env.py); the ratio is against the better of the two.
"""
import argparse, json, os, re, statistics, subprocess, sys

import torch_env

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TORCH_MM = r"""
import os, sys, time, statistics
import torch
shapes = [tuple(map(int, s.split('x'))) for s in sys.argv[1:]]
for m, k, n in shapes:
    a, b, c, ts = torch.randn(m, k), torch.randn(k, n), torch.empty(m, n), []
    for i in range(5):
        t0 = time.perf_counter(); torch.mm(a, b, out=c); ts += [time.perf_counter() - t0] if i >= 2 else []
    print(f"{m}x{k}x{n} {2 * m * k * n / statistics.median(ts) / 1e9:.2f}")
"""

p = argparse.ArgumentParser()
p.add_argument("--rounds", type=int, default=5)
p.add_argument("--bench", default=os.path.join(root, "build", "bench", "bench_gemm"))
a = p.parse_args()
picked, core, why = torch_env.coretype()
print(f"OpenBLAS picks {picked}; PyTorch at its best: " + (f"OPENBLAS_CORETYPE={core} ({why})" if core else why))
user_env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
best_env = dict(user_env, **({"OPENBLAS_CORETYPE": core} if core else {}))
ours, theirs, shapes = {}, {}, []
for r in range(a.rounds):
    ours_env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}  # OpenMP's default: spin a while
    for line in subprocess.run([a.bench, "3", "nn"], capture_output=True, text=True, check=True, env=ours_env).stderr.splitlines():
        j = json.loads(line)
        m, k, _, n = map(int, re.findall(r"\d+", j["case"]))
        if (m, k, n) not in shapes:
            shapes.append((m, k, n))
        ours.setdefault((m, k, n, j["threads"]), []).append(j["GFLOP/s"])
    for t in (1, 2):
        for side, base in (("user", user_env), ("best", best_env)):
            env = dict(base, OMP_NUM_THREADS=str(t), OPENBLAS_NUM_THREADS=str(t), OMP_WAIT_POLICY="PASSIVE")
            cmd = [sys.executable, "-c", TORCH_MM] if side == "user" else torch_env.flushed("-c", TORCH_MM)
            out = subprocess.run(cmd + [f"{m}x{k}x{n}" for m, k, n in shapes],
                                 capture_output=True, text=True, check=True, env=env).stdout
            for line in out.splitlines():
                s, g = line.split()
                m, k, n = map(int, s.split("x"))
                theirs.setdefault((m, k, n, t, side), []).append(float(g))
print(f"median over {a.rounds} alternating rounds (GFLOP/s; torch: as a user gets it, best: at its best)")
print(f"{'M x K @ K x N':>22} {'threads':>7} {'ours':>8} {'torch':>8} {'best':>8} {'ours/better':>11}")
for t in (1, 2):
    for m, k, n in shapes:
        o = statistics.median(ours[(m, k, n, t)])
        q, b = (statistics.median(theirs[(m, k, n, t, side)]) for side in ("user", "best"))
        print(f"{f'{m}x{k} @ {k}x{n}':>22} {t:>7} {o:8.1f} {q:8.1f} {b:8.1f} {o / max(q, b):11.2f}")
