# Makes a CUDA source plain C++ for the emulator (emu_cuda.h): every `k<<<grid, block, smem,
# stream>>>(args)` becomes `emu::launch("k", emu::kernel_id(k), grid, block, smem, [&](auto&&...
# a) { k(a...); }, args)` (nullptr for the kernel when smem is 0), extended lambdas lose their __device__, dynamic shared memory comes
# from emu::dyn_smem(), a kernel's __launch_bounds__(n) becomes a check at its entry, and each
# static __shared__ array is registered where it is declared (poisoned at every block's start).
import re, sys, pathlib
def split_top(s):
    out, depth, cur = [], 0, ''
    for ch in s:
        if ch in '([{<': depth += 1
        elif ch in ')]}>': depth -= 1
        if ch == ',' and depth == 0: out.append(cur); cur = ''
        else: cur += ch
    out.append(cur); return [x.strip() for x in out]
def matching(src, i):
    """index of the bracket closing the one at src[i]"""
    pairs = {'(': ')', '[': ']', '{': '}'}
    depth, o, c = 0, src[i], pairs[src[i]]
    for q in range(i, len(src)):
        if src[q] == o: depth += 1
        elif src[q] == c:
            depth -= 1
            if depth == 0: return q
    raise ValueError('unbalanced ' + o)

def launch_bounds(src):
    """__global__ void __launch_bounds__(N, ...) k(params) { -> __global__ void k(params) { if
    (!emu::within_launch_bounds(N)) return;"""
    while True:
        i = src.find('__launch_bounds__(')
        if i < 0: return src
        e = matching(src, i + len('__launch_bounds__'))
        limit = split_top(src[i + len('__launch_bounds__') + 1:e])[0]
        src = src[:i] + src[e + 1:]
        p = matching(src, src.index('(', i))  # the kernel's parameter list
        b = src.index('{', p)
        src = src[:b + 1] + f' if (!emu::within_launch_bounds({limit})) return;' + src[b + 1:]

def shared_arrays(src):
    """`__shared__ T a[n], b[m];` -> the same, then emu::shared_array(&a, sizeof(a)); ... for each"""
    out, i = '', 0
    for m in re.finditer(r'__shared__', src):
        if m.start() < i: continue
        start = max(src.rfind(';', 0, m.start()), src.rfind('{', 0, m.start()), src.rfind('}', 0, m.start())) + 1
        if 'extern' in src[start:m.start()]: continue
        end = src.index(';', m.end())
        decl = re.sub(r'__align__\(\d+\)|__shared__', ' ', src[start:end])
        names = [re.findall(r'(\w+)\s*(?:\[|$)', d.strip())[0] for d in split_top(decl)]
        out += src[i:end + 1] + ''.join(f' emu::shared_array(&{n}, sizeof({n}));' for n in names)
        i = end + 1
    return out + src[i:]

def transform(src):
    src = shared_arrays(launch_bounds(src))
    src = re.sub(r'extern\s+__shared__\s+__align__\(\d+\)\s+unsigned char\s+(\w+)\[\];', r'unsigned char* \1 = emu::dyn_smem();', src)
    src = re.sub(r'\[=\]\s*__device__\s*\(', '[=](', src)
    out = ''; i = 0
    while True:
        j = src.find('<<<', i)
        if j < 0: out += src[i:]; break
        # statement start
        k = max(src.rfind(';', 0, j), src.rfind('{', 0, j), src.rfind('}', 0, j)) + 1
        kern = re.sub(r'//[^\n]*', '', src[k:j]).strip()  # (a comment before the launch is not its name)
        lead = src[k:j][:len(src[k:j]) - len(src[k:j].lstrip())]
        e = src.find('>>>', j)
        cfg = split_top(src[j+3:e])
        while len(cfg) < 4: cfg.append('0' if len(cfg) == 2 else 'nullptr')
        p = e + 3
        while src[p].isspace(): p += 1
        assert src[p] == '(', src[p:p+40]
        depth = 0; q = p
        while True:
            if src[q] == '(': depth += 1
            elif src[q] == ')':
                depth -= 1
                if depth == 0: break
            q += 1
        args = src[p+1:q]
        name = kern.replace('"', '')
        # the kernel itself where the launch asks for dynamic shared memory (checked against
        # what cudaFuncSetAttribute allowed it); with none, its address may not even be
        # resolvable (a template whose arguments the call deduces)
        kid = 'nullptr' if cfg[2].strip() == '0' else f'emu::kernel_id({kern})'
        call = f'emu::launch("{" ".join(name.split())}", {kid}, dim3({cfg[0]}), dim3({cfg[1]}), size_t({cfg[2]}), [&](auto&&... emu_a) {{ {kern}(emu_a...); }}' + (f', {args})' if args.strip() else ')')
        out += src[i:k] + lead + call
        i = q + 1
    return '#include "emu_cuda.h"\n' + out
# transform.py IN OUT: OUT is IN made plain C++ (launches through emu::launch)
src, dst = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
dst.parent.mkdir(parents=True, exist_ok=True)
dst.write_text(transform(src.read_text()))
