#!/usr/bin/env bash
# Data parallelism on this machine's cores: LeNet-5 on Fashion-MNIST at batch 256, trained
# four ways, alternated in one invocation:
#   lenetc, 1 process x 2 threads      (the ordinary trainer's way)
#   lenetc, 2 MPI ranks x 1 thread     (mpirun -np 2, --distributed mpi)
#   PyTorch, 1 process x 2 threads
#   PyTorch DistributedDataParallel (gloo), 2 processes x 1 thread
# Each run trains EPOCHS epochs; a configuration's speed is the median of its epochs'
# training examples/s over all rounds.
#   bash bench/mpi.sh [ROUNDS] [EPOCHS]     -> bench/results/mpi.md (defaults: 3 rounds, 3 epochs)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds=${1:-3} epochs=${2:-3}
sudo=""; [ "$(id -u)" != 0 ] && sudo=sudo
if ! /usr/bin/python3 -c "import torch" 2>/dev/null || ! dpkg-query -W libopenblas0-openmp >/dev/null 2>&1; then
  $sudo apt-get install -y -q --no-install-recommends python3-torch python3-numpy libopenblas0-openmp >/dev/null
fi
cmake --build build --target lenet5-mpi-train sum_bench fma_peak >/dev/null
# Open MPI refuses root without these.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
out=bench/results; mkdir -p "$out"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
trainer=build/bin/lenet5-mpi-train
common=(--data fashion-mnist --batch 256 --epochs "$epochs" --no-checkpoint --no-report --quiet)
for r in $(seq "$rounds"); do
  echo "== round $r of $rounds"
  # What the second core adds right now (virtual machines' cores may share one FMA unit).
  build/bench/fma_peak --threads 1 > "$tmp/peak-1-$r.json"
  build/bench/fma_peak --threads 2 > "$tmp/peak-2-$r.json"
  "$trainer" "${common[@]}" --threads 2 --metrics "$tmp/lenetc-1x2-$r.csv" >/dev/null
  mpirun -np 2 "$trainer" "${common[@]}" --threads 1 --metrics "$tmp/lenetc-2x1-$r.csv" >/dev/null
  /usr/bin/python3 bench/torch_lenet5_ddp.py --world 1 --threads 2 --epochs "$epochs" --json "$tmp/torch-1x2-$r.json" >/dev/null
  /usr/bin/python3 bench/torch_lenet5_ddp.py --world 2 --threads 1 --epochs "$epochs" --json "$tmp/torch-2x1-$r.json" >/dev/null
done
# The per-step collective alone: through shared memory, and through TCP (loopback), the way
# it would cross hosts.
mpirun -np 2 build/bench/sum_bench > "$tmp/sum-shm.json"
mpirun -np 2 --mca btl tcp,self build/bench/sum_bench > "$tmp/sum-tcp.json"
machine="$(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(grep -q avx512f /proc/cpuinfo && echo AVX-512 || echo AVX2)"
/usr/bin/python3 - "$tmp" "$rounds" "$machine" "$out/mpi.md" <<'PY'
import csv, glob, json, statistics, sys, datetime
tmp, rounds, machine, dest = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def lenetc(cfg):
    return [float(r["examples_per_second"]) for f in sorted(glob.glob(f"{tmp}/lenetc-{cfg}-*.csv")) for r in csv.DictReader(open(f))]
def torch(cfg):
    return [v for f in sorted(glob.glob(f"{tmp}/torch-{cfg}-*.json")) for v in json.load(open(f))["examples_per_second"]]
rows = [("lenetc", "1 process x 2 threads", lenetc("1x2")), ("lenetc", "2 MPI ranks x 1 thread", lenetc("2x1")),
        ("PyTorch", "1 process x 2 threads", torch("1x2")), ("PyTorch", "DDP (gloo), 2 processes x 1 thread", torch("2x1"))]
base = statistics.median(rows[0][2])
best_torch = max(statistics.median(rows[2][2]), statistics.median(rows[3][2]))
lines = [f"# Data parallelism on one machine: LeNet-5, Fashion-MNIST, batch 256", "",
         f"`bash bench/mpi.sh {rounds}` on {datetime.date.today()}, {machine}. Training examples/s per epoch",
         f"(median of {len(rows[0][2])} epochs: the configurations alternated, {rounds} rounds).", "",
         "| system | how | examples/s (median) | range | vs lenetc 1 x 2 | vs PyTorch's best |", "|---|---|---|---|---|---|"]
for system, how, v in rows:
    m = statistics.median(v)
    lines.append(f"| {system} | {how} | {m:,.0f} | {min(v):,.0f}-{max(v):,.0f} | {m / base:.2f}x | {m / best_torch:.2f}x |")
peak = {t: statistics.median(json.load(open(f))["gflops"] for f in glob.glob(f"{tmp}/peak-{t}-*.json")) for t in (1, 2)}
lines += ["", f"FMA peak measured in the same run (build/bench/fma_peak, median of the rounds): {peak[1]:.0f} GFLOP/s on 1 thread, "
          f"{peak[2]:.0f} on 2: the second core adds {100 * (peak[2] / peak[1] - 1):.0f}%."]
lines += ["", "The one collective per step, the rank-ordered sum of 61,706 floats (build/bench/sum_bench, 2 ranks):", ""]
for kind, label in (("shm", "shared memory (one host)"), ("tcp", "TCP over loopback")):
    r = json.load(open(f"{tmp}/sum-{kind}.json"))
    lines.append(f"- {label}: median {r['median_us']:.0f} us, 90th percentile {r['p90_us']:.0f} us")
open(dest, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
