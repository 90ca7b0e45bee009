#!/usr/bin/env bash
# Speed of the generated LeNet-5 trainer against PyTorch, in one invocation on this machine:
# training examples/s at batch 256 and 64, inference at batch 256, batch-1 inference
# latency, with 1 and 2 threads; the ratios to PyTorch; GFLOP/s as a share of the FMA peak
# measured in the same run. PyTorch runs at its best, on OpenBLAS (installed if missing), in
# each configuration a user would try (eager, channels_last, TorchScript, both): every row
# compares against the fastest, named in the table.
#   bash bench/speed.sh            -> bench/results/speed.md and its chart speed.svg
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
sudo=""; [ "$(id -u)" != 0 ] && sudo=sudo
if ! /usr/bin/python3 -c "import torch, matplotlib" 2>/dev/null || ! dpkg-query -W libopenblas0-openmp >/dev/null 2>&1; then
  $sudo apt-get install -y -q --no-install-recommends python3-torch python3-numpy libopenblas0-openmp \
    python3-matplotlib >/dev/null
fi
cmake --build build --target lenetc lenetc_bench fma_peak >/dev/null
out=bench/results; mkdir -p "$out"
blas=$(update-alternatives --query libblas.so.3-x86_64-linux-gnu 2>/dev/null | awk '/^Value:/ {print $2}')
for t in 1 2; do
  build/bench/fma_peak --threads "$t" > "$out/peak-$t.json"
  build/bench/lenetc_bench --threads "$t" > "$out/lenetc-$t.jsonl"
  for config in eager channels_last jit channels_last+jit; do
    flags=(); [[ $config == *channels_last* ]] && flags+=(--channels-last); [[ $config == *jit* ]] && flags+=(--jit)
    /usr/bin/python3 bench/lenet_torch.py bench --threads "$t" "${flags[@]}" --json "$out/torch-$t-$config.json" \
      > "$out/torch-$t-$config.log"
  done
done
cpu=$(lscpu | sed -n 's/^Model name: *//p'); cpu=${cpu%%$'\n'*}
/usr/bin/python3 - "$out" "$blas" "$cpu" "$(date -u +%Y-%m-%d)" <<'PY'
import json, subprocess, sys
sys.path.insert(0, "bench")
from model_flops import step_flops
out, blas, cpu, day = sys.argv[1:]
FLOP = step_flops("models/lenet5.nn")  # per example, from `lenetc summary`
rows = ["# Speed: generated LeNet-5 trainer vs PyTorch (same machine, same run)", "",
        f"PyTorch BLAS: {blas or 'unknown'}. Training includes forward, backward and the SGD update.", "",
        "| threads | measure | lenetc | PyTorch (its fastest configuration) | lenetc speed / PyTorch speed | lenetc GFLOP/s (% of FMA peak) |",
        "|---|---|---|---|---|---|"]
configs = ["eager", "channels_last", "jit", "channels_last+jit"]
groups = []
for t in (1, 2):
    peak = json.load(open(f"{out}/peak-{t}.json"))["gflops"]
    ours = [json.loads(l) for l in open(f"{out}/lenetc-{t}.jsonl")]
    theirs = {c: json.load(open(f"{out}/torch-{t}-{c}.json"))["results"] for c in configs}
    def get(rs, mode, b):
        return next(r for r in rs if r["mode"] == mode and r["batch"] == b)
    def best(mode, b, key, better):  # PyTorch's fastest configuration for this row
        return better(((get(theirs[c], mode, b)[key], c) for c in configs))
    for mode, b, label in [("train", 256, "train ex/s, batch 256"), ("train", 64, "train ex/s, batch 64"),
                           ("infer", 256, "inference ex/s, batch 256")]:
        o = get(ours, mode, b)["ex_per_s_median"]
        p, cfg = best(mode, b, "ex_per_s_median", max)
        g = o * FLOP[mode] / 1e9
        share = f"{g:.1f} ({100 * g / peak:.0f}% of {peak:.0f})"
        rows.append(f"| {t} | {label} | {o:,.0f} | {p:,.0f} ({cfg}) | {o / p:.2f}x | {share} |")
        groups.append({"label": f"{t} thread{'s' if t > 1 else ''}, {label}",
                       "bars": [{"label": "lenetc", "value": o}, {"label": f"PyTorch ({cfg})", "value": p}]})
    o = get(ours, "infer", 1)["ms_per_step_median"]
    p, cfg = best("infer", 1, "ms_per_step_median", min)
    rows.append(f"| {t} | batch-1 inference latency, ms | {o:.3f} | {p:.3f} ({cfg}) | {p / o:.2f}x | |")
open(f"{out}/speed.md", "w").write("\n".join(rows) + "\n")
json.dump({"title": f"LeNet-5: lenetc and PyTorch ({cpu}, {day})", "unit": "examples/s", "groups": groups},
          open(f"{out}/speed-chart.json", "w"), indent=1)
subprocess.run(["/usr/bin/python3", "bench/bar_chart.py", f"{out}/speed-chart.json", f"{out}/speed.svg"], check=True)
print("\n".join(rows))
PY
