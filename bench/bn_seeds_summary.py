#!/usr/bin/python3
"""D2L's BatchNorm LeNet over seeds 0-9: lenetc (whole-batch statistics and
--ghost-batch-norm) and PyTorch, the final test accuracy per seed, its mean over seeds 0-4
(the issue's five) and 0-9, and the mean test accuracy of epochs 6-10 over all seeds (at
lr 1.0 the test accuracy swings from epoch to epoch: the last epoch alone is one draw).

Reads what `MODELS=lenet5_bn bash bench/accuracy.sh $(seq 0 9)` wrote: lenetc's
bench/results/lenet5_bn-seed*.csv and lenet5_bn-ghost-seed*.csv, PyTorch's
torch-bn-seed*.json.

    /usr/bin/python3 bench/bn_seeds_summary.py
"""
import csv, json, os, statistics

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
SEEDS = range(10)


def test_accuracies(path):
    """The test accuracy after each epoch of one run."""
    if path.endswith(".json"):
        return [h["test_acc"] for h in json.load(open(path))["history"]]
    with open(path) as f:
        return [float(row["test_acc"]) for row in csv.DictReader(f)]


def main():
    runs = {
        "lenetc": "lenet5_bn-seed{}.csv",
        "lenetc --ghost-batch-norm": "lenet5_bn-ghost-seed{}.csv",
        "PyTorch": "torch-bn-seed{}.json",
    }
    print("| run | final test accuracy, seeds 0-9 | mean, seeds 0-4 | mean, seeds 0-9 (sd) | epochs 6-10, all seeds |")
    print("|---|---|---|---|---|")
    finals_of = {}
    for name, pattern in runs.items():
        histories = [test_accuracies(os.path.join(RESULTS, pattern.format(s))) for s in SEEDS]
        finals = finals_of[name] = [h[-1] for h in histories]
        late = [a for h in histories for a in h[5:10]]
        print("| {} | {} | {:.4f} | {:.4f} ({:.3f}) | {:.4f} |".format(
            name, " ".join(f"{a:.4f}" for a in finals), statistics.mean(finals[:5]), statistics.mean(finals),
            statistics.stdev(finals), statistics.mean(late)))
    # Welch's t of the two means over seeds 0-9: |t| well under 2 is a difference chance
    # alone makes this often.
    a, b = finals_of["lenetc"], finals_of["PyTorch"]
    se = (statistics.variance(a) / len(a) + statistics.variance(b) / len(b)) ** 0.5
    print()
    print("lenetc - PyTorch over seeds 0-9: {:+.4f}, Welch's t {:+.2f}".format(
        statistics.mean(a) - statistics.mean(b), (statistics.mean(a) - statistics.mean(b)) / se))


if __name__ == "__main__":
    main()
