#!/usr/bin/env python3
"""checkpoint_state.py FILE: the SHA-256 of a lenetc checkpoint's training state -- its
parameters, optimizer state, learning rate and shuffling state -- without the history
(which holds each epoch's wall-clock time). Two runs that computed the same numbers print
the same line. The layout is runtime/src/Checkpoint.cpp's (format 2)."""
import hashlib, struct, sys

data = open(sys.argv[1], "rb").read()
at = len(b"LENETC-CKPT 2\n")


def u64():
    global at
    (v,) = struct.unpack_from("<Q", data, at)
    at += 8
    return v


def skip(n):
    global at
    at += n


def string():
    skip(u64())


def floats():
    skip(4 * u64())


string()  # model
params = u64()
for _ in range(params):
    string()
    u64()
string()  # data
u64(), u64()  # batch, epochs done
for _ in range(params):
    floats()
string()  # optimizer
u64()  # steps
for _ in range(u64()):
    floats()
skip(8 + 8 + 8)  # lr, plateau best, plateau wait
string()  # the shuffling generator
print(hashlib.sha256(data[:at]).hexdigest())
