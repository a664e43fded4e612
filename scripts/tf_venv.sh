#!/usr/bin/env bash
# Create the TensorFlow side venv used only by scripts/ and compatibility tests.
# The package never imports TensorFlow; TF is our oracle, run in its own process.
# Location: $ORCH_TF_VENV, default .tfvenv/ at the repo root. Prints the venv's python.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${ORCH_TF_VENV:-.tfvenv}"
PYTHON="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import tensorflow" >/dev/null 2>&1; then
    "$PYTHON" -m venv "$VENV" >&2
    "$VENV/bin/python" -m pip install --quiet --upgrade pip >&2
    "$VENV/bin/python" -m pip install --quiet "tensorflow-cpu==2.21.0" "tf-keras==2.21.0" >&2
fi
echo "$(cd "$VENV" && pwd)/bin/python"
