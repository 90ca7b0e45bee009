#!/usr/bin/env bash
# Training speed of lenetc beside what a user could pick instead, in one invocation on this
# machine, each system training the same model at batch 256 on the same 1 or 2 CPUs:
#   lenet5         lenetc, PyTorch (bench/lenet_torch.py), a step on oneDNN's primitives
#                  (bench/peers/OnednnLenet5.cpp: the library under PyTorch's convolutions)
#   lenet5_modern  lenetc, PyTorch, dlib (bench/peers/DlibLenet.cpp)
#   lenet5_classic lenetc, tiny-dnn (bench/peers/TinyDnnLenet.cpp; C3's connection table)
# Installs the libraries if missing (Debian: libdlib-dev, tiny-dnn and the headers it
# includes, libdnnl-dev, python3-torch). Every system runs under taskset on CPUs 0..N-1 with
# OMP_NUM_THREADS=N; lenetc with N Halide threads. Writes bench/results/peers.md, the chart
# bench/results/peers.svg and the raw outputs in bench/results/peers-raw/.
#   bash bench/peers.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
sudo=""; [ "$(id -u)" != 0 ] && sudo=sudo
packages=(libdlib-dev tiny-dnn libcereal-dev libstb-dev libgemmlowp-dev libdnnl-dev python3-torch python3-numpy
          libopenblas0-openmp python3-matplotlib)
missing=()
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
[ -d build ] || bash scripts/setup.sh
cmake build >/dev/null # finds the libraries installed since the build was configured
cmake --build build --target lenetc_bench lenetc_bench_modern lenetc_bench_classic onednn_lenet5 dlib_lenet \
  tiny_dnn_lenet >/dev/null
raw=bench/results/peers-raw; mkdir -p "$raw"
for t in 1 2; do
  pin=(env OMP_NUM_THREADS="$t" OPENBLAS_NUM_THREADS="$t" taskset -c "0-$((t - 1))")
  echo "== $t thread(s)"
  # One model's systems one after the other, so that each ratio is measured minutes apart at most.
  "${pin[@]}" build/bench/lenetc_bench --threads "$t" --only train:256 > "$raw/lenetc-lenet5-$t.jsonl"
  "${pin[@]}" /usr/bin/python3 bench/lenet_torch.py bench --threads "$t" --only train:256 \
    --json "$raw/torch-lenet5-$t.json" > /dev/null
  "${pin[@]}" build/bench/peers/onednn_lenet5 --threads "$t" > "$raw/onednn-lenet5-$t.jsonl"
  "${pin[@]}" build/bench/lenetc_bench_modern --threads "$t" --only train:256 > "$raw/lenetc-lenet5_modern-$t.jsonl"
  "${pin[@]}" /usr/bin/python3 bench/lenet_torch.py bench --model modern --threads "$t" --only train:256 \
    --json "$raw/torch-lenet5_modern-$t.json" > /dev/null
  "${pin[@]}" build/bench/peers/dlib_lenet --threads "$t" > "$raw/dlib-lenet5_modern-$t.jsonl"
  "${pin[@]}" build/bench/lenetc_bench_classic --threads "$t" --only train:256 > "$raw/lenetc-lenet5_classic-$t.jsonl"
  "${pin[@]}" build/bench/peers/tiny_dnn_lenet --threads "$t" > "$raw/tiny-dnn-lenet5_classic-$t.jsonl"
done
cpu=$(lscpu | sed -n 's/^Model name: *//p'); cpu=${cpu%%$'\n'*}
flags=$( (grep -o -w -E "avx512f|avx2" /proc/cpuinfo || true) | sort -u | tr '\n' ' ')
/usr/bin/python3 - "$raw" "$cpu" "$flags" "$(date -u +%Y-%m-%d)" <<'PY'
import json, subprocess, sys
raw, cpu, flags, day = sys.argv[1:]
systems = {"lenet5": [("lenetc", "lenetc"), ("PyTorch (eager)", "torch"), ("oneDNN primitives", "onednn")],
           "lenet5_modern": [("lenetc", "lenetc"), ("PyTorch (eager)", "torch"), ("dlib", "dlib")],
           "lenet5_classic": [("lenetc", "lenetc"), ("tiny-dnn", "tiny-dnn")]}
def speed(prefix, model, t):
    if prefix == "torch":
        r = json.load(open(f"{raw}/torch-{model}-{t}.json"))["results"]
    else:
        r = [json.loads(l) for l in open(f"{raw}/{prefix}-{model}-{t}.jsonl")]
    return next(x for x in r if x["mode"] == "train" and x["batch"] == 256)["ex_per_s_median"]
rows = [f"# Training speed: lenetc beside PyTorch and C++ libraries ({day})", "",
        f"Machine: {cpu} ({flags.strip()}), `bash bench/peers.sh`: every system trains the same "
        "model at batch 256 on the same CPUs (taskset, OMP_NUM_THREADS), median examples/s of 7 "
        "repeats; raw outputs in peers-raw/.", "",
        "| model | threads | system | training examples/s | lenetc speed / system speed |", "|---|---|---|---|---|"]
groups = []
for model, entries in systems.items():
    for t in (1, 2):
        bars = []
        for name, prefix in entries:
            v = speed(prefix, model, t)
            bars.append({"label": name, "value": v})
            rows.append(f"| {model} | {t} | {name} | {v:,.0f} | {bars[0]['value'] / v:.2f}x |")
        groups.append({"label": f"{model}, {t} thread{'s' if t > 1 else ''}", "bars": bars})
open("bench/results/peers.md", "w").write("\n".join(rows) + "\n")
json.dump({"title": f"Training examples/s at batch 256 ({cpu}, {day})", "unit": "training examples/s",
           "groups": groups}, open(f"{raw}/chart.json", "w"), indent=1)
subprocess.run(["/usr/bin/python3", "bench/bar_chart.py", f"{raw}/chart.json", "bench/results/peers.svg"], check=True)
print("\n".join(rows))
PY
