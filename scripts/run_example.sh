#!/usr/bin/env bash
# The main-job command: set up .venv/ and run the shipped example on the embedded default.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/orchestrator inspect tests/fixtures/models/mlp_sgd/model.meta "$@"
