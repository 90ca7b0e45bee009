#!/usr/bin/env python3
"""compare_metrics.py A.csv B.csv TOL [ACC_TOL]: the losses and accuracies of two runs agree to
TOL (relative, with an absolute floor of TOL); with ACC_TOL, the accuracies to ACC_TOL
(absolute: 0.002 is 0.2 points)."""
import csv, sys

a, b, tol = list(csv.DictReader(open(sys.argv[1]))), list(csv.DictReader(open(sys.argv[2]))), float(sys.argv[3])
acc_tol = float(sys.argv[4]) if len(sys.argv) > 4 else None
if len(a) != len(b):
    sys.exit(f"{len(a)} epochs vs {len(b)}")
bad = 0
for ra, rb in zip(a, b):
    for k in ("train_loss", "train_acc", "test_loss", "test_acc"):
        x, y = float(ra[k]), float(rb[k])
        if (abs(x - y) > acc_tol) if (acc_tol is not None and k.endswith("_acc")) else (abs(x - y) > tol * max(1.0, abs(y))):
            print(f"epoch {ra['epoch']} {k}: {x} vs {y}")
            bad += 1
print(f"{len(a)} epochs compared, {bad} differences beyond {tol}")
sys.exit(1 if bad else 0)
