#!/usr/bin/env bash
# The test command: on a fresh machine, set everything up and run the whole suite.
#   scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
ORCH_TF_PYTHON="$(scripts/tf_venv.sh)"
export ORCH_TF_PYTHON
export ORCH_REQUIRE_TF=1   # compatibility tests must run here, not skip
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
    echo "pytest collected no tests: treating as failure" >&2
    exit 1
fi
exit "$rc"
