#!/usr/bin/env python3
"""Checks a trainer's --eval --outputs CSV (class probabilities) against reference logits
(tests/onnx/make_onnx.py writes PyTorch's): the trainer's logits are log(p) up to a shift per
example (softmax does not see it), so log(p), shifted to the reference's mean, must be the
reference logits to TOLERANCE as numpy.allclose means it: |got - want| <= tol + tol * |want|.
(Plain Python: the import tests need no NumPy.)

  compare_outputs.py OUTPUTS.csv REFERENCE.logits|REFERENCE.csv [TOLERANCE]    (default 1e-5)

A reference .csv is another trainer's --outputs (its logits: log p).
"""
import csv, math, sys


def read_probabilities(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    classes = len([k for k in rows[0] if k[:1] == "p" and k[1:].isdigit()]) if rows else 0
    return [[float(r[f"p{k}"]) for k in range(classes)] for r in rows]


def read_logits(path):
    if path.endswith(".csv"):
        return [[math.log(p) if p > 0 else None for p in row] for row in read_probabilities(path)]
    with open(path) as f:
        return [[float(v) for v in line.split()] for line in f if line.strip()]


def compare(probs, logits, tolerance, what):
    """Whether log(probs) is `logits` up to a shift per example; prints a line."""
    if len(probs) != len(logits) or any(len(p) != len(z) for p, z in zip(probs, logits)):
        sys.exit(f"{what}: the outputs and the reference differ in shape")
    worst, largest, ok = 0.0, 0.0, True
    for p, z in zip(probs, logits):
        # a probability that underflowed to 0 has no logarithm
        pairs = [(math.log(a), b) for a, b in zip(p, z) if a > 0 and b is not None]
        shift = sum(b - a for a, b in pairs) / len(pairs)
        for a, b in pairs:
            error = abs(a + shift - b)
            worst, largest = max(worst, error), max(largest, abs(b))
            ok = ok and error <= tolerance + tolerance * abs(b)
    print(f"{what}: {len(probs)} examples, largest logit difference {worst:.3g} "
          f"(logits up to {largest:.3g}; tolerance {tolerance:g} + {tolerance:g} |logit|)")
    return ok


def main():
    outputs, reference = sys.argv[1], sys.argv[2]
    tolerance = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-5
    if not compare(read_probabilities(outputs), read_logits(reference), tolerance, outputs):
        sys.exit(1)


if __name__ == "__main__":
    main()
