"""How close each model's training step comes to this machine's FMA peak, with the default
schedule and with its tuned one (schedules/), timed the way `lenetc autotune` times it:
one micro-batch of 64 examples on one thread (`lenetc time --batch 64 --threads 1`,
median of 20 JIT-compiled calls), against the one-thread peak (build/bench/fma_peak).
Every model of models/ and of bench/models/. This machine's speed drifts by 1.5-2x within
minutes, so each model is timed in ROUNDS rounds of peak, default schedule, tuned
schedule, one after the other; a share is a round's time against that round's peak, and
the table gives the median round.

    /usr/bin/python3 bench/schedule_share.py     -> bench/results/schedule-share.md

FLOPs come from `lenetc summary` (bench/model_flops.py): the useful arithmetic of the
convolutions and dense layers.
"""
import glob
import json
import os
import re
import subprocess
import sys

from model_flops import LENETC, ROOT, step_flops

BATCH = 64
ROUNDS = 3


def train_flops(model):
    """FLOPs of one example's training step (bench/model_flops.py)."""
    return step_flops(model)["train"]


def train_ms(model, *flags):
    """The training step's median ms, and the tuned schedule lenetc used (None: the default)."""
    run = subprocess.run([LENETC, "time", model, "--batch", str(BATCH), "--threads", "1", *flags],
                         check=True, capture_output=True, text=True)
    m = re.search(r"_train_step\s+batch \d+: median ([\d.]+) ms", run.stdout)
    if not m:
        sys.exit(f"schedule_share: no training-step time in lenetc time's output for {model}:\n{run.stdout}")
    tuned = re.search(r"CPU schedule (\S+\.sched)", run.stdout + run.stderr)
    return float(m.group(1)), tuned and os.path.basename(tuned.group(1))


def peak_gflops():
    return json.loads(subprocess.run([os.path.join(ROOT, "build/bench/fma_peak"), "--threads", "1"], check=True,
                                     capture_output=True, text=True).stdout)["gflops"]


def median(values):
    return sorted(values)[len(values) // 2]


def main():
    subprocess.run(["cmake", "--build", os.path.join(ROOT, "build"), "--target", "lenetc", "fma_peak"], check=True,
                   stdout=subprocess.DEVNULL)
    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    cpu = next((l.split(":", 1)[1].strip() for l in cpu.splitlines() if l.startswith("Model name")), "unknown")
    peaks = []
    rows = ["| model | MFLOP per example (training) | default schedule ms | GFLOP/s (% of peak) | "
            "tuned schedule ms | GFLOP/s (% of peak) |", "|---|---|---|---|---|---|"]
    models = sorted(glob.glob(os.path.join(ROOT, "models", "*.nn"))) + \
        sorted(glob.glob(os.path.join(ROOT, "bench", "models", "*.nn")))
    for model in models:
        name = os.path.basename(model)[:-3]
        flops = train_flops(model)
        runs = {"default": [], "tuned": []}  # (ms, share of the round's peak) per round
        tuned = None
        for round_ in range(ROUNDS):
            peak = peak_gflops()
            peaks.append(peak)
            for kind, flags in (("default", ["--default-schedule"]), ("tuned", [])):
                if kind == "tuned" and round_ > 0 and not tuned:
                    continue  # no tuned schedule: the first round said so
                ms, used = train_ms(model, *flags)
                if kind == "tuned":
                    tuned = used
                    if not used:
                        continue
                runs[kind].append((ms, flops * BATCH / ms / 1e6 / peak))
        cells = []
        for kind in ("default", "tuned"):
            if not runs[kind]:
                cells += ["(no tuned schedule)", ""]
                continue
            ms, share = median(runs[kind])  # the median round by time, with its own share
            cells += [f"{ms:.2f}" + (f" ({tuned})" if kind == "tuned" else ""),
                      f"{flops * BATCH / ms / 1e6:.1f} ({100 * share:.0f}%)"]
        rows.append(f"| {name} | {flops / 1e6:.2f} | " + " | ".join(cells) + " |")
        print(rows[-1], flush=True)
    head = ["# Training step against the FMA peak: default and tuned schedules", "",
            f"Machine: {cpu}; one-thread FMA peak {min(peaks):.0f}-{max(peaks):.0f} GFLOP/s (`fma_peak`, "
            f"before each round). `/usr/bin/python3 bench/schedule_share.py`: one micro-batch of {BATCH} on one "
            f"thread, median of 20 calls (`lenetc time`); the median of {ROUNDS} rounds (peak, default, tuned), "
            "each share against its round's peak.", ""]
    with open(os.path.join(ROOT, "bench/results/schedule-share.md"), "w") as out:
        out.write("\n".join(head + rows) + "\n")


if __name__ == "__main__":
    main()
