#!/usr/bin/env python3
"""Checks a trainer's metrics CSV: check_metrics.py FILE [--loss-falls] [--min-test-acc X]"""
import csv, sys

rows = list(csv.DictReader(open(sys.argv[1])))
args = sys.argv[2:]
ok = True
if not rows:
    sys.exit("no epochs in " + sys.argv[1])
if "--loss-falls" in args:
    first, last = float(rows[0]["train_loss"]), float(rows[-1]["train_loss"])
    print(f"train loss {first:.4f} -> {last:.4f}")
    ok &= last < first
if "--min-test-acc" in args:
    want = float(args[args.index("--min-test-acc") + 1])
    got = float(rows[-1]["test_acc"])
    print(f"test accuracy {got:.4f} (needs >= {want})")
    ok &= got >= want
sys.exit(0 if ok else 1)
