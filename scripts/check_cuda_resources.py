#!/usr/bin/env python3
"""The CUDA kernels' resources, as ptxas reported them when the backend was built, against the
limits of the GPUs it is built for (CMAKE_CUDA_ARCHITECTURES: sm_80, sm_90). The ctest test
`cuda_resources` runs it on the build's reports (OBJECT.ptxas, kept by cmake/ptxas_log.sh).

It fails when
  - a kernel without __launch_bounds__ uses more than 64 registers: 64 x 1024 threads fill the
    SM's 64K registers, so such a kernel fits any block the hardware allows; one that needs
    more states its largest block with __launch_bounds__, which ptxas fits its registers to and
    the driver (and the emulator, at the kernel's entry, in the gpu tests) holds every launch
    to, so "too many resources requested for launch" cannot happen;
  - a kernel uses more than 255 registers, or more static shared memory than 48 KB (dynamic
    shared memory past 48 KB needs cudaFuncSetAttribute, which the emulator checks at launch);
  - a kernel spills (stores registers to local memory) more than its budget: none, but for the
    kernels in SPILL_BUDGET, each with the reason;
  - the reports are missing (the backend was not built with them), or name no kernel.

  python3 scripts/check_cuda_resources.py BUILD_DIR [--source-dir DIR]
"""
import argparse, glob, os, re, subprocess, sys

# kernel (its name in the source) -> bytes of spill stores allowed (the most of any of its
# instances, sm_80 or sm_90, nvcc 13), and why
CAP = "the CUDA-core attention at the register cap its __launch_bounds__ sets (two blocks an SM); f64 is the oracle path"
SPILL_BUDGET = {
    "attention_forward_kernel": (16, CAP),
    "attention_backward_dq_kernel": (72, CAP),
    "attention_backward_dkv_kernel": (80, CAP),
    "map_packed_kernel": (20, "f64 exp and bf16 sin/cos: libdevice's slow paths keep a few values in local memory"),
    "cross_entropy_backward_kernel": (4, "f64 exp, as map_packed_kernel (the f64 path only)"),
}

MAX_REGISTERS, MAX_REGISTERS_ANY_BLOCK, MAX_STATIC_SMEM = 255, 64, 48 * 1024


def budget(kernel):
    return SPILL_BUDGET.get(kernel, (0, ""))[0]


def kernels_without_bounds(src_dir):
    """names of the __global__ functions of cuda/ declared without __launch_bounds__"""
    missing = set()
    for path in sorted(glob.glob(os.path.join(src_dir, "cuda", "*.cu")) + glob.glob(os.path.join(src_dir, "cuda", "*.cuh"))):
        text = open(path).read()
        for m in re.finditer(r"__global__\s+void\s+(__launch_bounds__\s*\()?", text):
            if not m.group(1):
                name = re.match(r"\s*(\w+)", text[m.end():])
                if name:
                    missing.add(name.group(1))
    return missing


def demangle(names):
    out = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True).stdout.splitlines()
    return out if len(out) == len(names) else names


def base_name(demangled):
    """`void mb::cuda::(anonymous namespace)::softmax_kernel<float, 256>(...)` -> softmax_kernel"""
    head = re.sub(r"^void ", "", demangled.replace("(anonymous namespace)::", ""))
    return re.split(r"[<(]", head, maxsplit=1)[0].split("::")[-1]


def parse(report):
    """ptxas -v lines -> [{name (mangled), arch, regs, spill (bytes stored), smem (static bytes)}]"""
    rows, cur = [], None
    for line in open(report):
        m = re.match(r"ptxas info\s*: Compiling entry function '(\S+)' for '(sm_\d+)'", line)
        if m:
            cur = {"name": m.group(1), "arch": m.group(2), "regs": 0, "spill": 0, "smem": 0}
            rows.append(cur)
            continue
        if cur is None:
            continue
        m = re.search(r"(\d+) bytes spill stores", line)
        if m:
            cur["spill"] = int(m.group(1))
        m = re.search(r"Used (\d+) registers", line)
        if m:
            cur["regs"] = int(m.group(1))
            s = re.search(r"(\d+) bytes smem", line)
            cur["smem"] = int(s.group(1)) if s else 0
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("build_dir")
    ap.add_argument("--source-dir", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    a = ap.parse_args()
    unbounded = kernels_without_bounds(a.source_dir)
    problems = []
    reports = sorted(glob.glob(os.path.join(a.build_dir, "**", "*.ptxas"), recursive=True))
    rows = [r for path in reports for r in parse(path)]
    if not rows:
        problems.append(f"no ptxas report under {a.build_dir} (is the CUDA backend built, with cmake/ptxas_log.sh?)")
    for r, pretty in zip(rows, demangle([r["name"] for r in rows])):
        r["kernel"] = base_name(pretty)
        where = f"{r['kernel']} ({r['arch']}): {pretty[:120]}"
        if r["regs"] > MAX_REGISTERS:
            problems.append(f"{r['regs']} registers > {MAX_REGISTERS}: {where}")
        if r["kernel"] in unbounded and r["regs"] > MAX_REGISTERS_ANY_BLOCK:
            problems.append(f"{r['regs']} registers > {MAX_REGISTERS_ANY_BLOCK} without __launch_bounds__ "
                            f"(a block of 1024 threads would not fit): {where}")
        if r["smem"] > MAX_STATIC_SMEM:
            problems.append(f"{r['smem']} bytes of static shared memory > 48 KB: {where}")
        if r["spill"] > budget(r["kernel"]):
            problems.append(f"spills {r['spill']} bytes (budget {budget(r['kernel'])}): {where}")
    for arch in sorted({r["arch"] for r in rows}):
        mine = [r for r in rows if r["arch"] == arch]
        top = max(mine, key=lambda r: r["regs"])
        print(f"{arch}: {len(mine)} kernels, at most {top['regs']} registers ({top['kernel']}), "
              f"{sum(r['spill'] > 0 for r in mine)} spilling, at most {max(r['smem'] for r in mine)} bytes of static shared memory")
    spills = {}  # (kernel, arch) -> (most bytes, instances)
    for r in rows:
        if r["spill"]:
            most, n = spills.get((r["kernel"], r["arch"]), (0, 0))
            spills[(r["kernel"], r["arch"])] = (max(most, r["spill"]), n + 1)
    for (kernel, arch), (most, n) in sorted(spills.items()):
        print(f"spill: {kernel} ({arch}): up to {most} bytes in {n} instance{'s' * (n > 1)}, budget {budget(kernel)}")
    for p in problems:
        print("FAIL:", p)
    if not problems:
        print("every kernel within the limits: registers fit its largest block, spills within budget")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
