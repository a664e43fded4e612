"""Training steps per second at realistic sizes: orchestrator's Session vs real TensorFlow's.

    .venv/bin/python scripts/bench_scale.py [--quick] [--models mlp_wide ...] [--out DIR]
                                           [--seconds 12] [--rounds 3] [--vocab N ...]
    .venv/bin/python scripts/bench_scale.py --profile embedding_large     # where one step goes

``scripts/bench_executor.py`` times the tiny fixture models; this times models sized like the
runs users resume (``scripts/tf_fixtures/models_scale.py``: a 1M x 64 embedding table with
Adagrad and with GradientDescent, a 3 x 2048 MLP with Adam, a 64x64 CNN with batch norm and
Momentum). The models are first made by real TF in its venv (``--tf-python``), with plain
(non-oneDNN) kernels so that the recorded losses are a numeric reference, into ``--out`` (a
temp dir by default, deleted afterwards; models already in ``--out`` with the same sizes are
reused). Then, per model:

- our first ``--check-steps`` losses after import + restore are compared with TF's recorded
  trajectory (max relative difference; a real mismatch is printed as such, never hidden);
- both sides are timed with ``bench_executor``'s machinery (``compare``: the same loop code,
  alternating windows, best window counts; TF with its default settings, as users run it),
  which also gives each side's ``saver.restore`` time.

Only TF's side needs TensorFlow; ``--help`` works without it.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

SCRIPTS = Path(__file__).resolve().parent
REPO = SCRIPTS.parent
GENERATOR = SCRIPTS / "tf_fixtures" / "models_scale.py"
sys.path.insert(0, str(SCRIPTS))
sys.path.insert(0, str(SCRIPTS / "tf_fixtures"))

from bench_executor import TFSide, compare, profile_model  # noqa: E402  (scripts/ is no package)
from models_scale import (MODEL_NAMES, Sizes, add_size_arguments, size_flags,  # noqa: E402
                          sizes_from_args)


def _has_model(folder: Path, sizes: Sizes) -> bool:
    """A model made earlier with exactly these sizes (its manifest records them)."""
    manifest = folder / "manifest.json"
    if not manifest.exists() or not (folder / "reference.npz").exists():
        return False
    return json.loads(manifest.read_text()).get("sizes") == dataclasses.asdict(sizes)


def generate(root: Path, names: list[str], sizes: Sizes, tf_python: str, regenerate: bool) -> None:
    """Make the models that ``root/models`` does not already hold at these sizes, with real TF."""
    missing = [name for name in names if regenerate or not _has_model(root / "models" / name, sizes)]
    if not missing:
        print(f"reusing the models in {root / 'models'} (--regenerate to remake them)", flush=True)
        return
    if shutil.which(tf_python) is None:
        raise SystemExit(f"no TF python at {tf_python!r}: pass --tf-python or set ORCH_TF_PYTHON "
                         "(scripts/tf_venv.sh makes the side venv)")
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="3", TF_ENABLE_ONEDNN_OPTS="0",
               CUDA_VISIBLE_DEVICES="", PYTHONHASHSEED="0")
    command = [tf_python, str(GENERATOR), "--out", str(root), "--only", *missing, *size_flags(sizes)]
    print(f"generating {', '.join(missing)} with TF: {shlex.join(command)}", flush=True)
    proc = subprocess.run(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"TF model generation failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}")
    for line in proc.stdout.splitlines():
        if line.startswith("model "):
            print(f"  {line}", flush=True)


def check_losses(folder: Path, steps: int) -> tuple[float, np.ndarray, np.ndarray]:
    """(max relative difference, our losses, TF's) over the first ``steps`` recorded steps after
    import_meta_graph + restore, the resume path TF recorded in reference.npz."""
    import orchestrator.compat.v1 as tf

    manifest = json.loads((folder / "manifest.json").read_text())
    reference = np.load(folder / "reference.npz")
    steps = min(steps, manifest["steps"])
    graph = tf.Graph()
    with graph.as_default():
        saver = tf.train.import_meta_graph(str(folder / "model.meta"))
        with tf.Session(graph=graph) as sess:
            saver.restore(sess, str(folder / manifest["checkpoint"]))
            fetches = [graph.get_operation_by_name(manifest["train_op"]),
                       graph.get_tensor_by_name(manifest["loss"])]
            ours = np.array([sess.run(fetches, {t: reference[f"feed/{i}/{t}"] for t in manifest["feeds"]})[1]
                             for i in range(steps)])
    theirs = reference["loss"][:steps]
    relative = np.abs(ours.astype(np.float64) - theirs) / np.maximum(np.abs(theirs), np.finfo(np.float32).tiny)
    return float(relative.max()), ours, theirs


def checkpoint_megabytes(folder: Path) -> float:
    return sum(p.stat().st_size for p in (folder / "ckpt").glob("model.ckpt-0.*")) / 1e6


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", choices=MODEL_NAMES, metavar="NAME",
                        help=f"models to run (default: all of {', '.join(MODEL_NAMES)})")
    parser.add_argument("--out", help="where the models are made and kept (default: a temp dir, deleted)")
    parser.add_argument("--regenerate", action="store_true",
                        help="remake the models even if --out holds them at these sizes")
    parser.add_argument("--seconds", type=float, default=12.0, help="timed seconds per model and side")
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternating timing windows per side (the best window counts)")
    parser.add_argument("--check-steps", type=int, default=5,
                        help="first steps whose losses are compared with TF's recorded ones")
    parser.add_argument("--tf-python", default=os.environ.get("ORCH_TF_PYTHON", "/work/tfvenv/bin/python"))
    parser.add_argument("--profile", metavar="MODEL", choices=MODEL_NAMES,
                        help="instead: time per op type of our steps for one model (TF only generates)")
    parser.add_argument("--profile-steps", type=int, default=20, help="steps timed by --profile")
    add_size_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    sizes = sizes_from_args(args)
    names = [args.profile] if args.profile else list(args.models or MODEL_NAMES)
    root = Path(args.out).resolve() if args.out else Path(tempfile.mkdtemp(prefix="orch-bench-scale-"))
    print(f"command: {shlex.join([Path(sys.executable).name, *sys.argv])}")
    print(f"date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"sizes: {sizes}", flush=True)
    try:
        generate(root, names, sizes, args.tf_python, args.regenerate)
        models_dir = root / "models"
        if args.profile:
            profile_model(args.profile, steps=args.profile_steps, models_dir=models_dir)
            return 0
        run_table(names, models_dir, args)
    finally:
        if not args.out:
            shutil.rmtree(root, ignore_errors=True)
    return 0


def run_table(names: list[str], models_dir: Path, args: argparse.Namespace) -> None:
    tf_side = TFSide(args.tf_python)
    tf_side.ask("ready")            # TF's import (seconds of CPU) must not overlap our first model
    print(f"{'model':<22}{'ckpt MB':>9}{'ours steps/s':>14}{'TF steps/s':>12}{'ratio':>8}{'ops/step':>10}"
          f"{'restore ours':>14}{'restore TF':>12}{'loss rel diff':>15}", flush=True)
    ratios: dict[str, float] = {}
    mismatches: list[str] = []
    for name in names:
        folder = models_dir / name
        manifest = json.loads((folder / "manifest.json").read_text())
        try:
            difference, ours_losses, tf_losses = check_losses(folder, args.check_steps)
        except Exception as exc:  # noqa: BLE001 - reported in the table
            print(f"{name:<22}  ours failed: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}", flush=True)
            continue
        tolerance = manifest["tolerance"]
        if not np.allclose(ours_losses, tf_losses, rtol=tolerance["rtol"], atol=tolerance["atol"]):
            mismatches.append(f"{name}: ours {ours_losses.tolist()} vs TF {tf_losses.tolist()}")
        details: dict = {}
        rate, tf_rate, ops = compare(name, tf_side, args.seconds, args.rounds, models_dir, details)
        if not isinstance(rate, float) or not isinstance(tf_rate, float):
            print(f"{name:<22}  ours: {rate}  TF: {tf_rate}", flush=True)
            continue
        ratios[name] = rate / tf_rate
        ours_restore, tf_restore = details["restore_seconds"]
        print(f"{name:<22}{checkpoint_megabytes(folder):>9.0f}{rate:>14.2f}{tf_rate:>12.2f}{ratios[name]:>7.2f}x"
              f"{ops:>10}{ours_restore:>13.3f}s{tf_restore:>11.3f}s{difference:>15.1e}", flush=True)
    tf_side.close()
    if ratios:
        print(f"median ratio {statistics.median(ratios.values()):.2f}x over {len(ratios)} models")
    for line in mismatches:
        print(f"LOSS MISMATCH beyond the model's tolerance {line}")
    # Other processes slow both sides alike only roughly: say how busy the machine was.
    print(f"load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    sys.exit(main())
