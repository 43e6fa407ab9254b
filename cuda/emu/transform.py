# Makes a CUDA source plain C++ for the emulator (emu_cuda.h): every `k<<<grid, block, smem,
# stream>>>(args)` becomes `emu::launch("k", grid, block, smem, [&](auto&&... a) { k(a...); }, args)`,
# extended lambdas lose their __device__, dynamic shared memory comes from emu::dyn_smem().
import re, sys, pathlib
def split_top(s):
    out, depth, cur = [], 0, ''
    for ch in s:
        if ch in '([{<': depth += 1
        elif ch in ')]}>': depth -= 1
        if ch == ',' and depth == 0: out.append(cur); cur = ''
        else: cur += ch
    out.append(cur); return [x.strip() for x in out]
def transform(src):
    src = re.sub(r'extern\s+__shared__\s+__align__\(\d+\)\s+unsigned char\s+(\w+)\[\];', r'unsigned char* \1 = emu::dyn_smem();', src)
    src = re.sub(r'\[=\]\s*__device__\s*\(', '[=](', src)
    out = ''; i = 0
    while True:
        j = src.find('<<<', i)
        if j < 0: out += src[i:]; break
        # statement start
        k = max(src.rfind(';', 0, j), src.rfind('{', 0, j), src.rfind('}', 0, j)) + 1
        kern = src[k:j].strip()
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
        call = f'emu::launch("{" ".join(name.split())}", dim3({cfg[0]}), dim3({cfg[1]}), size_t({cfg[2]}), [&](auto&&... emu_a) {{ {kern}(emu_a...); }}' + (f', {args})' if args.strip() else ')')
        out += src[i:k] + lead + call
        i = q + 1
    return '#include "emu_cuda.h"\n' + out
# transform.py IN OUT: OUT is IN made plain C++ (launches through emu::launch)
src, dst = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
dst.parent.mkdir(parents=True, exist_ok=True)
dst.write_text(transform(src.read_text()))
