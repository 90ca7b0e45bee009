#!/usr/bin/env python3
"""checkpoint_params.py FILE NAME...: the values of the named parameters of a lenetc
checkpoint, one line each ("NAME v0 v1 ..."; %.9g, so that two equal lines mean equal
floats). The layout is runtime/src/Checkpoint.cpp's (format 2)."""
import struct, sys

data = open(sys.argv[1], "rb").read()
at = len(b"LENETC-CKPT 2\n")


def u64():
    global at
    (v,) = struct.unpack_from("<Q", data, at)
    at += 8
    return v


def string():
    global at
    n = u64()
    at += n
    return data[at - n:at].decode()


def floats():
    global at
    n = u64()
    at += 4 * n
    return struct.unpack_from(f"<{n}f", data, at - 4 * n)


string()  # model
names = []
for _ in range(u64()):
    names.append(string())
    u64()
string()  # data
u64(), u64()  # batch, epochs done
values = dict(zip(names, [floats() for _ in names]))
for name in sys.argv[2:]:
    if name not in values:
        sys.exit(f"checkpoint_params.py: no parameter '{name}' (has: {', '.join(names)})")
    print(name, " ".join(f"{v:.9g}" for v in values[name]))
