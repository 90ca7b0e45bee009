#!/usr/bin/env bash
# Speed of D2L's LeNet with batch normalization (models/lenet5_bn.nn) against PyTorch, in
# one invocation on this machine: training examples/s at batch 256 (the model's batch) and
# inference at 256, on 1 and 2 threads, and the ratios. lenetc's default normalizes over the
# whole batch in one call (as PyTorch); "ghost" is --ghost-batch-norm, micro-batches of 64
# each normalized alone (not PyTorch's numbers: shown for what it would buy).
#   bash bench/batchnorm.sh        -> bench/results/batchnorm.md
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
sudo=""; [ "$(id -u)" != 0 ] && sudo=sudo
if ! /usr/bin/python3 -c "import torch" 2>/dev/null || ! dpkg-query -W libopenblas0-openmp >/dev/null 2>&1; then
  $sudo apt-get install -y -q --no-install-recommends python3-torch python3-numpy libopenblas0-openmp >/dev/null
fi
cmake --build build --target lenetc_bench_bn >/dev/null
out=bench/results; mkdir -p "$out"
for t in 1 2; do
  build/bench/lenetc_bench_bn --threads "$t" --only train:256 > "$out/bn-lenetc-$t.jsonl"
  build/bench/lenetc_bench_bn --threads "$t" --only infer:256 >> "$out/bn-lenetc-$t.jsonl"
  build/bench/lenetc_bench_bn --threads "$t" --only train:256 --micro-batch 64 > "$out/bn-ghost-$t.jsonl"
  /usr/bin/python3 bench/lenet_torch.py bench --model bn --threads "$t" --json "$out/bn-torch-$t.json" > "$out/bn-torch-$t.log"
done
/usr/bin/python3 - "$out" <<'PY'
import json, platform, subprocess, sys, datetime
out = sys.argv[1]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
rows = ["# Speed: D2L's LeNet with batch normalization, lenetc vs PyTorch (same machine, same run)", "",
        f"{cpu}, {datetime.date.today()}. Reproduce: `bash bench/batchnorm.sh`. Training includes forward, "
        "backward and the SGD update; batch 256.", "",
        "| threads | measure | lenetc | PyTorch | lenetc / PyTorch |", "|---|---|---|---|---|"]
for t in (1, 2):
    ours = [json.loads(l) for l in open(f"{out}/bn-lenetc-{t}.jsonl")]
    ghost = [json.loads(l) for l in open(f"{out}/bn-ghost-{t}.jsonl")]
    theirs = json.load(open(f"{out}/bn-torch-{t}.json"))["results"]
    def get(rs, mode, b=256):
        return next(r for r in rs if r["mode"] == mode and r["batch"] == b)["ex_per_s_median"]
    for label, o, p in [("train ex/s (whole-batch statistics)", get(ours, "train"), get(theirs, "train")),
                        ("train ex/s, --ghost-batch-norm (micro-batches of 64)", get(ghost, "train"), get(theirs, "train")),
                        ("inference ex/s", get(ours, "infer"), get(theirs, "infer"))]:
        rows.append(f"| {t} | {label} | {o:,.0f} | {p:,.0f} | {o / p:.2f}x |")
open(f"{out}/batchnorm.md", "w").write("\n".join(rows) + "\n")
print("\n".join(rows))
PY
