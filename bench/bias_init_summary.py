#!/usr/bin/python3
"""ReLU LeNet-5 over seeds 0-14: lenetc with zero biases, lenetc with PyTorch's bias start
(the model's default) and PyTorch, per seed and on average over the runs that trained.

Reads what `MODELS=lenet5_modern bash bench/accuracy.sh $(seq 0 14)` wrote (lenetc's
bench/results/lenet5_modern-seed*.csv, PyTorch's torch-modern-seed*.json) and the
zero-bias runs kept in bench/results/lenet5_modern-zero-bias/ (the same command with the
model's `bias_init = zero`).

    /usr/bin/python3 bench/bias_init_summary.py
"""
import csv, json, os, statistics

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def last_epoch(path):
    if path.endswith(".json"):
        h = json.load(open(path))["history"][-1]
        return h["train_loss"], h["test_acc"]
    row = list(csv.DictReader(open(path)))[-1]
    return float(row["train_loss"]), float(row["test_acc"])


runs = {
    "lenetc, zero biases": "lenet5_modern-zero-bias/seed{}.csv",
    "lenetc, PyTorch's biases": "lenet5_modern-seed{}.csv",
    "PyTorch": "torch-modern-seed{}.json",
}
print("| run | final test accuracy, seeds 0-14 | at chance | trained: mean test accuracy | trained: mean final train loss |")
print("|---|---|---|---|---|")
for name, pattern in runs.items():
    ends = [last_epoch(os.path.join(RESULTS, pattern.format(s))) for s in range(15)]
    trained = [(loss, acc) for loss, acc in ends if acc > 0.2]  # chance is 0.1: the ReLUs died
    print(f"| {name} | {' '.join(f'{acc:.4f}' for _, acc in ends)} | {len(ends) - len(trained)} | "
          f"{statistics.mean(a for _, a in trained):.4f} | {statistics.mean(l for l, _ in trained):.3f} |")
