#!/usr/bin/env bash
# Set up, build, and run every test (GoogleTest unit tests and lit/FileCheck IR tests).
# Long work (full training runs, autotuning) is not here: see bench/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
ctest --test-dir build --output-on-failure -j "$(nproc)"
