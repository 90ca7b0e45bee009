#!/usr/bin/env python3
"""Checks a trainer's --eval --outputs CSV against reference logits (tests/onnx/make_onnx.py):
the class probabilities must be softmax(logits), and the log-probabilities log_softmax(logits),
each to TOLERANCE. The logits are known to the trainer only up to a shift per example (softmax
does not see it); log_softmax is that shift removed.

  compare_outputs.py OUTPUTS.csv REFERENCE.logits [TOLERANCE]    (default 1e-5)
"""
import csv, math, sys


def main():
    outputs, reference = sys.argv[1], sys.argv[2]
    tolerance = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-5
    with open(outputs) as f:
        rows = list(csv.DictReader(f))
    with open(reference) as f:
        logits = [[float(v) for v in line.split()] for line in f if line.strip()]
    if len(rows) != len(logits):
        sys.exit(f"{outputs}: {len(rows)} examples, {reference}: {len(logits)}")
    worst_p = worst_log = 0.0
    for i, (row, z) in enumerate(zip(rows, logits)):
        top = max(z)
        log_sum = top + math.log(sum(math.exp(v - top) for v in z))
        for k, v in enumerate(z):
            p = float(row[f"p{k}"])
            want_log = v - log_sum
            worst_p = max(worst_p, abs(p - math.exp(want_log)))
            # log-probabilities of classes the model all but rules out are float32 noise
            if math.exp(want_log) > 1e-6:
                worst_log = max(worst_log, abs(math.log(max(p, 1e-45)) - want_log))
    print(f"{len(rows)} examples: largest difference {worst_p:.3g} in probability, "
          f"{worst_log:.3g} in log-probability (tolerance {tolerance:g})")
    if worst_p > tolerance or worst_log > tolerance:
        sys.exit(1)


if __name__ == "__main__":
    main()
