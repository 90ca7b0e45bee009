#!/usr/bin/env python3
"""What a lenetc checkpoint holds, for the tests. The layout is runtime/src/Checkpoint.cpp's
(format 2).

  checkpoint.py state FILE         the SHA-256 of its training state -- parameters, optimizer
                                   state, learning rate and shuffling state -- without the
                                   history (which holds each epoch's wall-clock time): two runs
                                   that computed the same numbers print the same line
  checkpoint.py params FILE NAME...  the values of the named parameters, a line each
                                   ("NAME v0 v1 ...", %.9g: equal lines, equal floats)
"""
import hashlib, struct, sys

command, path, names = sys.argv[1], sys.argv[2], sys.argv[3:]
data = open(path, "rb").read()
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
params = []
for _ in range(u64()):
    params.append(string())
    u64()
string()  # data
u64(), u64()  # batch, epochs done
values = dict(zip(params, [floats() for _ in params]))
if command == "params":
    for name in names:
        if name not in values:
            sys.exit(f"checkpoint.py: no parameter '{name}' (has: {', '.join(params)})")
        print(name, " ".join(f"{v:.9g}" for v in values[name]))
    sys.exit(0)
string()  # optimizer
u64()  # steps
for _ in range(u64()):
    floats()
at += 8 + 8 + 8  # lr, plateau best, plateau wait
string()  # the shuffling generator
print(hashlib.sha256(data[:at]).hexdigest())
