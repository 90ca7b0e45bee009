#!/usr/bin/python3
"""ReLU LeNet-5 over seeds 0-14: lenetc with zero biases, lenetc with PyTorch's bias start
(the model's default), PyTorch trained from lenetc's own start, and PyTorch; per seed and
on average over the runs that trained; then lenetc against PyTorch from the same start,
seed by seed.

Reads what `MODELS=lenet5_modern bash bench/accuracy.sh $(seq 0 14)` wrote (lenetc's
bench/results/lenet5_modern-seed*.csv, PyTorch's torch-modern-seed*.json), the zero-bias
runs kept in bench/results/lenet5_modern-zero-bias/ (the same command with the model's
`bias_init = zero`) and bench/results/torch-from-lenetc-start/ (for s in $(seq 0 14):
`/usr/bin/python3 bench/torch_from_lenetc_start.py $s 10 > .../lenet5_modern-seed$s.log`).

    /usr/bin/python3 bench/relu_seeds_summary.py
"""
import csv, json, os, statistics

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
SEEDS = range(15)


def last_epoch(path):
    """(final train loss, final test accuracy) of one run's record."""
    if path.endswith(".json"):
        h = json.load(open(path))["history"][-1]
        return h["train_loss"], h["test_acc"]
    if path.endswith(".log"):  # torch_from_lenetc_start.py: "epoch E train loss L acc A test acc T"
        words = open(path).read().split("\n")[-2].split()
        return float(words[4]), float(words[-1])
    row = list(csv.DictReader(open(path)))[-1]
    return float(row["train_loss"]), float(row["test_acc"])


def trained(acc):
    return acc > 0.2  # chance is 0.1: the ReLUs died


runs = {
    "lenetc, zero biases": "lenet5_modern-zero-bias/seed{}.csv",
    "lenetc, PyTorch's biases": "lenet5_modern-seed{}.csv",
    "PyTorch from lenetc's start": "torch-from-lenetc-start/lenet5_modern-seed{}.log",
    "PyTorch": "torch-modern-seed{}.json",
}
ends = {name: [last_epoch(os.path.join(RESULTS, pattern.format(s))) for s in SEEDS]
        for name, pattern in runs.items()}
print("| run | final test accuracy, seeds 0-14 | at chance | trained: mean test accuracy | trained: mean final train loss |")
print("|---|---|---|---|---|")
for name, runs_ends in ends.items():
    ok = [(loss, acc) for loss, acc in runs_ends if trained(acc)]
    print(f"| {name} | {' '.join(f'{acc:.4f}' for _, acc in runs_ends)} | {len(runs_ends) - len(ok)} | "
          f"{statistics.mean(a for _, a in ok):.4f} | {statistics.mean(l for l, _ in ok):.3f} |")

# The same start and order, other arithmetic: does a seed decide the outcome?
ours = [acc for _, acc in ends["lenetc, PyTorch's biases"]]
theirs = [acc for _, acc in ends["PyTorch from lenetc's start"]]
both = [(a, b) for a, b in zip(ours, theirs) if trained(a) and trained(b)]
died = [s for s in SEEDS if not trained(ours[s]) or not trained(theirs[s])]
print()
print(f"Same start, seed by seed: both trained in {len(both)} seeds; "
      f"the mean |lenetc - PyTorch| there is {statistics.mean(abs(a - b) for a, b in both):.4f}, "
      f"the correlation {statistics.correlation(*zip(*both)):+.2f}; "
      + "; ".join(f"seed {s}: lenetc {ours[s]:.4f}, PyTorch {theirs[s]:.4f}" for s in died))
