#!/usr/bin/env bash
# The main-job command: set up .venv/ and resume the shipped example run
# (configs/mlp_sgd.yaml: a real TF-made MLP checkpoint, 20 steps, saves into runs/mlp_sgd).
# Extra arguments go to `orchestrator run` (e.g. --steps 100).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/orchestrator run configs/mlp_sgd.yaml "$@"
