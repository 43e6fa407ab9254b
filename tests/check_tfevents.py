#!/usr/bin/env python3
"""Reads a run folder's TensorBoard event file as TensorBoard would, independently of our
writer: the records' framing and masked CRC-32C (computed here, bit by bit), then each record
parsed by Google's protobuf library with TensorBoard's message definitions
(tests/tfevents/tensorboard.proto, compiled by protoc). Checks that the folder holds one event
file, that it starts with the file version, that every row of log.csv is there as scalars of
the same step and values (to float32), nothing else, and the run's options as a text summary.
Exits 77 (skipped) without protoc or python3-protobuf, 1 on the first difference.

  python3 tests/check_tfevents.py RUN_FOLDER
"""
import csv, glob, os, shutil, struct, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def fail(msg):
    print(f"{sys.argv[1]}: {msg}")
    sys.exit(1)


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c ^= b
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    return c ^ 0xFFFFFFFF


def masked(data):
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def load_messages():
    try:
        import google.protobuf  # noqa: F401
    except ImportError:
        print("no python3-protobuf: skipped")
        sys.exit(77)
    if not shutil.which("protoc"):
        print("no protoc (protobuf-compiler): skipped")
        sys.exit(77)
    out = tempfile.mkdtemp()
    subprocess.run(["protoc", f"--proto_path={HERE}/tfevents", f"--python_out={out}", "tensorboard.proto"], check=True)
    sys.path.insert(0, out)
    import tensorboard_pb2
    return tensorboard_pb2


def records(raw):
    at = 0
    while at < len(raw):
        if len(raw) - at < 12:
            fail(f"{len(raw) - at} bytes after the last record")
        header = raw[at:at + 8]
        (n,) = struct.unpack("<Q", header)
        if struct.unpack("<I", raw[at + 8:at + 12])[0] != masked(header):
            fail(f"record at byte {at}: the length's CRC does not match")
        data = raw[at + 12:at + 12 + n]
        if len(data) != n or len(raw) < at + 16 + n:
            fail(f"record at byte {at}: cut short")
        if struct.unpack("<I", raw[at + 12 + n:at + 16 + n])[0] != masked(data):
            fail(f"record at byte {at}: the data's CRC does not match")
        yield data
        at += 16 + n


def f32(x):
    return struct.unpack("<f", struct.pack("<f", float(x)))[0]


pb = load_messages()
files = glob.glob(os.path.join(sys.argv[1], "events.out.tfevents.*"))
if len(files) != 1:
    fail(f"{len(files)} event files, not 1")
events = []
for data in records(open(files[0], "rb").read()):
    e = pb.Event()
    e.ParseFromString(data)
    events.append(e)
if not events or events[0].file_version != "brain.Event:2":
    fail("the first event is not the file version brain.Event:2")

scalars, texts = {}, {}
for e in events[1:]:
    if e.WhichOneof("what") != "summary":
        fail(f"step {e.step}: an event that is not a summary")
    for v in e.summary.value:
        if v.WhichOneof("value") == "simple_value":
            if (e.step, v.tag) in scalars:
                fail(f"step {e.step}: {v.tag} twice")
            scalars[(e.step, v.tag)] = v.simple_value
        elif v.WhichOneof("value") == "tensor":
            t = v.tensor
            if v.metadata.plugin_data.plugin_name != "text" or t.dtype != pb.DT_STRING or len(t.string_val) != 1:
                fail(f"step {e.step}: {v.tag} is not a text summary")
            if (e.step, v.tag) in texts:
                fail(f"step {e.step}: {v.tag} twice")
            texts[(e.step, v.tag)] = t.string_val[0].decode()
        else:
            fail(f"step {e.step}: {v.tag} has no value")

# log.csv's column, the event's tag, and how far apart they may be: log.csv prints some columns
# to fewer digits (%.6g, %.4g, %.1f) than float32 holds
COLUMNS = {"loss": ("train/loss", 0), "bpb": ("train/bpb", 0), "lr": ("train/lr", 5e-6),
           "grad_norm": ("train/grad_norm", 5e-6), "bytes_per_s": ("train/bytes_per_s", 0),
           "train_flops": ("train/flops", 5e-4), "val_bpb": ("val/bpb", 0)}
want, tolerance = {}, {}
for row in csv.DictReader(open(os.path.join(sys.argv[1], "log.csv"))):
    for col, (tag, rel) in COLUMNS.items():
        if row[col] != "":
            key = (int(row["step"]), tag)
            want[key] = f32(row[col])
            tolerance[key] = rel * abs(want[key]) + (0.05 if col == "bytes_per_s" else 0) + 2.4e-7 * abs(want[key])
for key in sorted(set(want) | set(scalars)):
    if key not in scalars:
        fail(f"step {key[0]}: no {key[1]} (log.csv has {want[key]})")
    if key not in want:
        fail(f"step {key[0]}: {key[1]} = {scalars[key]}, which log.csv does not have")
    if abs(scalars[key] - want[key]) > tolerance[key]:
        fail(f"step {key[0]}: {key[1]} = {scalars[key]}, log.csv {want[key]}")
options = [t for (s, tag), t in texts.items() if tag == "options"]
if not options or not all("| steps |" in t and "| model | |" in t for t in options):
    fail("no text summary 'options' with the model and training tables")
steps = sorted({s for s, _ in want})
print(f"{os.path.basename(files[0])}: {len(events)} events, {len(scalars)} scalars of {len(steps)} steps "
      f"({steps[0] if steps else '-'}..{steps[-1] if steps else '-'}) equal to log.csv, {len(options)} options text(s)")
