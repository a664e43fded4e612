"""Make the test fixtures with real TensorFlow (the only place besides scripts/ that needs it).

Run with the TF side venv (``scripts/tf_venv.sh`` prints its python):

    /work/tfvenv/bin/python scripts/make_fixtures.py [--only NAME ...] [--out tests/fixtures]

Each generator module in ``scripts/tf_fixtures/`` exposes ``build(out_dir, only)``; ``only``
is the set of case/model names to (re)make, or None for all. Modules are listed explicitly
below (no discovery); a listed module that does not exist yet is skipped with a message.
Every module runs in its own process: TF's process-wide switches (eager execution, control
flow v2, in-process servers) set by one generator must not leak into the next. They run with
PYTHONHASHSEED=0 so that anything TF orders by Python string hashes repeats between runs.
See tests/fixtures/README.md for the layout.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

# Before TF is imported anywhere: Keras 2 for tf.compat.v1.layers / v1 RNN cells, plain
# (non-oneDNN) float kernels for numeric references, quiet logs, no GPU.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
GENERATORS = HERE / "tf_fixtures"

# (module, subdirectory of --out its build() writes into). Older op-table modules take the
# directory of their tables; the rest take the fixtures root and add their own folder.
MODULES: list[tuple[str, str]] = [
    ("models", ""),
    ("models_cnn", ""),
    ("models_embedding", ""),
    ("models_rnn", ""),
    ("models_dist", ""),
    ("checkpoints", ""),
    ("saver_cases", ""),
    ("graph_cases", ""),
    ("ops_math", "ops"),
    ("ops_nn", "ops"),
    ("ops_array", "ops"),
    ("ops_state", "ops"),
    ("ops_train", "ops"),
    ("ops_random", "ops"),
    ("ops_summary", "ops"),
    ("ops_collections", "ops"),
    ("collection_graphs", "ops"),
    ("exec_cases", ""),
]

# Runs one generator in a fresh interpreter: argv = generators dir, module, out dir, only (json).
_RUN_ONE = """
import importlib, json, pathlib, sys
sys.path.insert(0, sys.argv[1])
only = json.loads(sys.argv[4])
importlib.import_module(sys.argv[2]).build(pathlib.Path(sys.argv[3]), None if only is None else set(only))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help="make only these cases/models (with --modules), or whole modules")
    parser.add_argument("--out", default=str(REPO / "tests" / "fixtures"), help="fixtures root")
    parser.add_argument("--modules", nargs="+", metavar="MODULE",
                        help="run only these generator modules (default: all listed)")
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out).resolve()
    only = set(args.only) if args.only else None
    known = {m for m, _ in MODULES}
    modules = set(args.modules or [])
    unknown = modules - known
    if unknown:
        parser.error(f"unknown module(s) {sorted(unknown)}; listed: {sorted(known)}")
    if only is not None:
        modules |= only & known  # a module named in --only is made whole
        cases = only - known
        if cases and not args.modules:
            # Op-table generators rewrite their whole table file from the cases they make, so
            # running every module with a foreign name would empty their tables.
            parser.error(f"--only {' '.join(sorted(cases))}: also say which generator makes it "
                         f"with --modules (one of {', '.join(m for m, _ in MODULES)})")
    failed = []
    for module_name, subdir in MODULES:
        if modules and module_name not in modules:
            continue
        path = GENERATORS / f"{module_name}.py"
        if not path.exists():
            failed.append(module_name)
            print(f"{module_name}: scripts/tf_fixtures/{module_name}.py is listed but missing")
            continue
        if "def build(" not in path.read_text():
            print(f"skip {module_name}: it has no build(out_dir, only) function")
            continue
        # Naming a module in --only makes all of its cases.
        module_only = None if only is None or module_name in only else only
        start = time.perf_counter()
        target = out / subdir if subdir else out
        args_json = json.dumps(sorted(module_only) if module_only is not None else None)
        proc = subprocess.run([sys.executable, "-c", _RUN_ONE, str(GENERATORS), module_name,
                               str(target), args_json], cwd=REPO,
                              env=dict(os.environ, PYTHONHASHSEED="0"))
        took = time.perf_counter() - start
        if proc.returncode != 0:
            failed.append(module_name)
            print(f"{module_name}: FAILED (exit {proc.returncode}) after {took:.1f} s")
        else:
            print(f"{module_name}: done in {took:.1f} s")
    if failed:
        print(f"failed: {' '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
