"""How close each model's training step comes to this machine's FMA peak, with the default
schedule and with its tuned one (schedules/), timed the way `lenetc autotune` times it:
one micro-batch of 64 examples on one thread (`lenetc time --batch 64 --threads 1`,
median of 20 JIT-compiled calls), against the one-thread peak measured in the same run
(build/bench/fma_peak). Every model of models/ and of bench/models/.

    /usr/bin/python3 bench/schedule_share.py     -> bench/results/schedule-share.md

FLOPs come from `lenetc summary`: a conv's multiply-adds are its output positions times
its weights per filter (a connection table's counted as connected), a dense layer's its
weights; the training step does each three times (forward, input and weight gradients)
but the first layer's input gradient, which nothing needs. Pooling, activations,
batchnorm and the loss are left out: the share is of the useful arithmetic.
"""
import glob
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LENETC = os.path.join(ROOT, "build/compiler/lenetc")
BATCH = 64


def train_flops(model):
    """FLOPs of one example's training step (see the module's note)."""
    out = subprocess.run([LENETC, "summary", model], check=True, capture_output=True, text=True).stdout
    macs = []
    for line in out.splitlines():
        m = re.match(r"\S+\s+(conv|dense)\b.*\[([\d, ]+)\]\s+([\d,]+)\s*$", line)
        if not m:
            continue
        shape = [int(v) for v in m.group(2).split(",")]
        params = int(m.group(3).replace(",", ""))
        filters = shape[0]
        positions = shape[1] * shape[2] if m.group(1) == "conv" else 1
        macs.append(positions * (params - filters))  # weights per output position, less the biases
    return 2 * (3 * sum(macs) - macs[0])


def train_ms(model, *flags):
    """The training step's median ms, and the tuned schedule lenetc used (None: the default)."""
    run = subprocess.run([LENETC, "time", model, "--batch", str(BATCH), "--threads", "1", *flags],
                         check=True, capture_output=True, text=True)
    m = re.search(r"_train_step\s+batch \d+: median ([\d.]+) ms", run.stdout)
    if not m:
        sys.exit(f"schedule_share: no training-step time in lenetc time's output for {model}:\n{run.stdout}")
    tuned = re.search(r"CPU schedule (\S+\.sched)", run.stdout + run.stderr)
    return float(m.group(1)), tuned and os.path.basename(tuned.group(1))


def main():
    subprocess.run(["cmake", "--build", os.path.join(ROOT, "build"), "--target", "lenetc", "fma_peak"], check=True,
                   stdout=subprocess.DEVNULL)
    peak = json.loads(subprocess.run([os.path.join(ROOT, "build/bench/fma_peak"), "--threads", "1"], check=True,
                                     capture_output=True, text=True).stdout)["gflops"]
    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    cpu = next((l.split(":", 1)[1].strip() for l in cpu.splitlines() if l.startswith("Model name")), "unknown")
    rows = ["# Training step against the FMA peak: default and tuned schedules", "",
            f"Machine: {cpu}; one-thread FMA peak {peak:.0f} GFLOP/s (`fma_peak`, same run). "
            f"`/usr/bin/python3 bench/schedule_share.py`: one micro-batch of {BATCH} on one thread, "
            "median of 20 calls (`lenetc time`).", "",
            "| model | MFLOP per example (training) | default schedule ms | GFLOP/s (% of peak) | "
            "tuned schedule ms | GFLOP/s (% of peak) |", "|---|---|---|---|---|---|"]
    models = sorted(glob.glob(os.path.join(ROOT, "models", "*.nn"))) + \
        sorted(glob.glob(os.path.join(ROOT, "bench", "models", "*.nn")))
    for model in models:
        name = os.path.basename(model)[:-3]
        flops = train_flops(model)
        cells = []
        for flags in (["--default-schedule"], []):
            ms, tuned = train_ms(model, *flags)
            if not flags and not tuned:
                cells += ["(no tuned schedule)", ""]
                continue
            g = flops * BATCH / ms / 1e6
            cells += [f"{ms:.2f}" + (f" ({tuned})" if tuned else ""), f"{g:.1f} ({100 * g / peak:.0f}%)"]
        rows.append(f"| {name} | {flops / 1e6:.2f} | " + " | ".join(cells) + " |")
        print(rows[-1], flush=True)
    with open(os.path.join(ROOT, "bench/results/schedule-share.md"), "w") as out:
        out.write("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
