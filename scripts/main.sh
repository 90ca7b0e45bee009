#!/usr/bin/env bash
# The main job: set up, build, compile LeNet-5 (models/lenet5.nn) into a standalone trainer,
# and train it on Fashion-MNIST with the model's defaults (SGD lr 0.9, batch 256, 10 epochs).
# Writes lenet5-train, lenet5.ckpt, the run report lenet5.html, lenet5-metrics.csv and
# lenet5-curves.svg in build/run/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
mkdir -p build/run
./build/compiler/lenetc summary models/lenet5.nn
./build/compiler/lenetc build models/lenet5.nn -o build/run/lenet5-train
cd build/run
./lenet5-train --checkpoint lenet5.ckpt --metrics lenet5-metrics.csv --plot lenet5-curves.svg
