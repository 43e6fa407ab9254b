#!/usr/bin/env python3
"""Reads a safetensors file the way the reference `safetensors` library does, with the
standard library only, and checks its rules: u64 header length, a JSON object header padded
to 8 bytes, dtypes from the standard set, data_offsets sorted, contiguous from 0 and covering
the whole data buffer exactly, byte counts equal to dtype size x shape; __metadata__ values
are strings. Prints a summary; exits 1 on the first violation.

  python3 tests/check_safetensors.py FILE [NAME=v0,v1,... ...]   (expected f32/f64 values)
"""
import json, struct, sys

SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


def fail(msg):
    print(f"{sys.argv[1]}: {msg}")
    sys.exit(1)


raw = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", raw[:8])
if n % 8 or 8 + n > len(raw):
    fail(f"header length {n} not a multiple of 8 or past the end")
header = json.loads(raw[8:8 + n])
meta = header.pop("__metadata__", {})
if not all(isinstance(v, str) for v in meta.values()):
    fail("metadata values must be strings")
entries = sorted(header.items(), key=lambda kv: kv[1]["data_offsets"])
at = 0
for name, e in entries:
    begin, end = e["data_offsets"]
    count = 1
    for d in e["shape"]:
        count *= d
    if begin != at:
        fail(f"{name}: data starts at {begin}, expected {at} (holes or overlap)")
    if end - begin != count * SIZES[e["dtype"]]:
        fail(f"{name}: {end - begin} bytes for {e['dtype']} {e['shape']}")
    at = end
if at != len(raw) - 8 - n:
    fail(f"tensors cover {at} of {len(raw) - 8 - n} data bytes")
for spec in sys.argv[2:]:
    name, values = spec.split("=")
    e = header[name]
    fmt = {"F32": "f", "F64": "d"}[e["dtype"]]
    begin, end = e["data_offsets"]
    got = struct.unpack(f"<{(end - begin) // struct.calcsize(fmt)}{fmt}", raw[8 + n + begin:8 + n + end])
    if [float(v) for v in values.split(",")] != list(got):
        fail(f"{name}: values {got} != {values}")
print(f"{sys.argv[1]}: {len(entries)} tensors, {len(meta)} metadata keys: a valid safetensors file")
