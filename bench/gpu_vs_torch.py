#!/usr/bin/env python3
"""PyTorch's side of the GPU comparison: the reference model (torch_megabyte.py) timed per
training step on CUDA, eager in fp32, eager with bf16 autocast, and torch.compile'd with bf16
autocast (skipped with a note where compile fails). Same config flags as `torch_megabyte.py
bench`; prints one line per mode: "torch <mode>: median X ms/step ...".

  python3 bench/gpu_vs_torch.py REFERENCE.py --seq 8192 --patch 8 --gdim 1024 ... --batch 8
"""
import importlib.util, statistics, sys, time

ref_path = sys.argv.pop(1)
spec = importlib.util.spec_from_file_location("torch_megabyte", ref_path)
ref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ref)
torch = ref.torch


def parse():
    import argparse
    ap = argparse.ArgumentParser()
    for flag, val in [("seq", 2048), ("patch", 8), ("gdim", 256), ("glayers", 4), ("gheads", 4), ("ldim", 128),
                      ("llayers", 2), ("lheads", 4), ("batch", 4), ("steps", 20), ("warmup", 5), ("seed", 0)]:
        ap.add_argument(f"--{flag}", type=int, default=val)
    ap.add_argument("--baseline", action="store_true")
    ap.add_argument("--modes", default="fp32,bf16,compile-bf16")
    a = ap.parse_args()
    a.dropout, a.lr, a.act, a.head, a.local_pos, a.device = 0.0, 3e-4, "relu", "tied", 1, "cuda"
    return a


def bench(a, mode):
    torch.manual_seed(a.seed)
    model = ref.build(a)
    opt = ref.make_opt(model, a.lr)
    step_loss = ref.loss_fn
    if mode.startswith("compile"):
        step_loss = torch.compile(ref.loss_fn)
    x = torch.randint(0, 256, (a.batch, a.seq), generator=torch.Generator().manual_seed(a.seed)).to("cuda")
    times = []
    for i in range(a.warmup + a.steps):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled="bf16" in mode):
            loss = step_loss(model, x)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        torch.cuda.synchronize()
        if i >= a.warmup:
            times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    gflop = 3 * model.flops(a.batch, a.seq) / 1e9
    print(f"torch {mode}: median {med * 1e3:.1f} ms/step | {a.batch * a.seq / med:,.0f} bytes/s | "
          f"{gflop / med / 1e3:.1f} TFLOP/s | peak {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB | "
          f"loss {loss.item():.4f}", flush=True)
    torch.cuda.reset_peak_memory_stats()


a = parse()
failed = 0
for mode in a.modes.split(","):
    try:
        bench(a, mode)
    except Exception as e:  # torch.compile needs a working Triton; report, go on, and exit 1 at the end
        print(f"torch {mode}: failed ({type(e).__name__}: {str(e).splitlines()[0][:160]})", flush=True)
        failed += 1
sys.exit(1 if failed else 0)
