#!/usr/bin/env bash
# The main job: set up, build, and compile LeNet-5 (models/lenet5.nn).
# For now the compiler's front end is what exists: this prints the model's summary and
# draws its graph. (Training it on Fashion-MNIST comes with the trainer; see the issues.)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
./build/compiler/lenetc summary models/lenet5.nn
./build/compiler/lenetc graph models/lenet5.nn -o build/lenet5.svg
