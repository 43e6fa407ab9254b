#!/usr/bin/env python3
"""PyTorch at its best on this CPU, for the yardsticks (vs_torch.sh, gemm_vs_torch.py).

Debian's PyTorch multiplies in OpenBLAS, which picks its kernels by CPU model. A model newer
than the OpenBLAS release is taken for an old core: OpenBLAS 0.3.21 runs a 2024 Xeon's
AVX-512 as a "Prescott" (SSE3), 4-5x slower. This script asks OpenBLAS which core it picked
and, where that core lacks the instruction set the CPU has, names the one to force
(OPENBLAS_CORETYPE). An OPENBLAS_CORETYPE already set is kept when its kernels use the CPU's
widest instructions, and replaced (with a note) when it names an older core.

  /usr/bin/python3 bench/torch_env.py            what OpenBLAS picked and what to use, in words
  eval "$(/usr/bin/python3 bench/torch_env.py --exports)"   (in a shell script) sets
                                                 OPENBLAS_PICKED and OPENBLAS_CORETYPE
  /usr/bin/python3 bench/torch_env.py --flushed SCRIPT|-c CODE ARGS...   runs a script with
                                                 subnormals flushed: torch.set_flush_denormal(True)

Flushing subnormals is the other half of PyTorch at its best.
"""
import os, re, subprocess, sys

# The instruction-set level of OpenBLAS's x86 cores: 0 SSE, 1 AVX, 2 AVX2, 3 AVX-512.
LEVEL = {"Haswell": 2, "Zen": 2, "SkylakeX": 3, "Cooperlake": 3, "SapphireRapids": 3, "Sandybridge": 1}


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
    except OSError:
        return "", set()
    vendor = re.search(r"vendor_id\s*:\s*(\S+)", text)
    flags = re.search(r"flags\s*:\s*(.*)", text)
    return (vendor.group(1) if vendor else ""), set(flags.group(1).split() if flags else ())


def best_core(vendor, flags):
    """The OpenBLAS core for this CPU's instruction set, or None off x86."""
    if "avx512f" in flags:
        return "Cooperlake" if "avx512_bf16" in flags else "SkylakeX"
    if "avx2" in flags:
        return "Zen" if vendor == "AuthenticAMD" else "Haswell"
    return "Sandybridge" if "avx" in flags else None


def picked_core(env=None):
    """The core OpenBLAS picks under env (OPENBLAS_VERBOSE=2 prints it when a GEMM runs)."""
    env = dict(env or os.environ, OPENBLAS_VERBOSE="2", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", "import torch; a = torch.ones(64, 64); torch.mm(a, a)"],
                         capture_output=True, text=True, env=env)
    m = re.search(r"Core:\s*(\S+)", out.stdout + out.stderr)
    return m.group(1) if m else "unknown"


def coretype():
    """(the core OpenBLAS picks by itself, the OPENBLAS_CORETYPE to use or None, why)."""
    picked = picked_core({k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"})
    vendor, flags = cpu_flags()
    best = best_core(vendor, flags)
    caller = os.environ.get("OPENBLAS_CORETYPE")
    if caller and (best is None or LEVEL.get(caller, 0) >= LEVEL[best]):
        return picked, caller, "set by the caller"
    # a caller's core below this CPU's instruction set (a machine-wide OPENBLAS_CORETYPE=Haswell
    # on an AVX-512 CPU) would time a slower PyTorch than this CPU gives: not its best
    isa = "AVX-512" if best and LEVEL[best] == 3 else "AVX2"
    note = f"; the caller's OPENBLAS_CORETYPE={caller} lacks this CPU's {isa}, not used" if caller else ""
    if best is None or LEVEL.get(picked, 0) >= LEVEL[best]:
        return picked, None, "the right kernels for this CPU" + note
    return picked, best, f"{picked} lacks this CPU's {isa}" + note


def flushed(script, *args):
    """The command line that runs a Python script with PyTorch flushing subnormals."""
    return [sys.executable, os.path.abspath(__file__), "--flushed", script, *args]


def flush_when_torch_loads():
    """torch.set_flush_denormal(True) as soon as the script's own `import torch` finishes: not
    before, since scripts set OpenMP's and OpenBLAS's environment before they import torch."""
    import builtins
    real = builtins.__import__

    def hook(name, *args, **kwargs):
        module = real(name, *args, **kwargs)
        if name == "torch" and hasattr(module, "set_flush_denormal"):  # (torch's own nested imports see it half-made)
            builtins.__import__ = real
            module.set_flush_denormal(True)
        return module
    builtins.__import__ = hook


if __name__ == "__main__":
    if sys.argv[1:2] == ["--flushed"]:
        import runpy
        flush_when_torch_loads()
        sys.argv = sys.argv[2:]
        if sys.argv[0] == "-c":  # code, as python3 -c CODE ARGS... (sys.argv[0] is "-c" there too)
            code = sys.argv.pop(1)
            exec(compile(code, "<string>", "exec"), {"__name__": "__main__"})
        else:
            runpy.run_path(sys.argv[0], run_name="__main__")
        sys.exit(0)
    picked, use, why = coretype()
    if sys.argv[1:] == ["--exports"]:
        print(f"export OPENBLAS_PICKED={picked}")
        print(f"export OPENBLAS_CORETYPE={use}" if use else "unset OPENBLAS_CORETYPE")
    else:
        print(f"OpenBLAS picks {picked}; " + (f"using OPENBLAS_CORETYPE={use} ({why})" if use else why))
