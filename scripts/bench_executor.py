"""Training steps per second: orchestrator's Session vs real TensorFlow's, on the fixture models.

    .venv/bin/python scripts/bench_executor.py [--models mlp_sgd cnn ...] [--seconds 1.0]
                                              [--tf-python /work/tfvenv/bin/python]

For each model of ``tests/fixtures/models``: import ``model.meta``, restore
``ckpt/model.ckpt-0``, then time ``sess.run([train_op, loss], feed_dict=feed_i)`` cycling
over the 20 recorded feeds (after a few untimed warm-up steps), for at least ``--seconds``.
TF runs the same loop in a subprocess of the TF venv with its default settings (oneDNN on,
default thread pools), in the same invocation. Graphs whose device strings TF cannot place
in one local process (``ps_worker``'s /job:ps tasks, ``sharded_saver``'s second CPU) are
imported by TF with ``clear_devices=True`` (marked ``*``); ours ignores devices anyway.

Prints one row per model (steps/s of both, ratio ours/TF, ops per step in our schedule),
the median ratio, and our per-op dispatch overhead: µs per op of a compiled chain of
1000 ``Identity`` ops (a kernel that does nothing but return its input).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
MODELS = REPO / "tests" / "fixtures" / "models"
CLEAR_DEVICES = {"ps_worker", "sharded_saver"}
WARMUP_STEPS = 3

# The timing loop, shared verbatim by both sides: `tf` is orchestrator.compat.v1 or TF's.
_LOOP = r'''
def bench_model(tf, folder, seconds, clear_devices):
    import json, time
    import numpy as np
    manifest = json.loads(open(f"{folder}/manifest.json").read())
    reference = np.load(f"{folder}/reference.npz")
    feeds = [{t: reference[f"feed/{i}/{t}"] for t in manifest["feeds"]} for i in range(manifest["steps"])]
    graph = tf.Graph()
    with graph.as_default():
        saver = tf.train.import_meta_graph(f"{folder}/model.meta", clear_devices=clear_devices)
        sess = tf.Session(graph=graph)
        saver.restore(sess, f"{folder}/{manifest['checkpoint']}")
        fetches = [graph.get_operation_by_name(manifest["train_op"]), graph.get_tensor_by_name(manifest["loss"])]
        for i in range(WARMUP_STEPS):
            sess.run(fetches, feed_dict=feeds[i % len(feeds)])
        steps, start = 0, time.perf_counter()
        while True:
            sess.run(fetches, feed_dict=feeds[steps % len(feeds)])
            steps += 1
            elapsed = time.perf_counter() - start
            if elapsed >= seconds and steps >= 20:
                break
    return steps / elapsed, sess
'''

_TF_MAIN = r'''
import json, os, sys
import tensorflow as tf1
tf1.compat.v1.disable_eager_execution()
tf = tf1.compat.v1
WARMUP_STEPS = int(sys.argv[3])
exec(sys.argv[4])
out = {}
for name in json.loads(sys.argv[1]):
    folder = os.path.join(sys.argv[2], name)
    try:
        rate, sess = bench_model(tf, folder, float(sys.argv[5]), name in json.loads(sys.argv[6]))
        sess.close()
        out[name] = rate
    except Exception as exc:
        out[name] = f"error: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
print("RESULT " + json.dumps(out))
'''


def tf_rates(tf_python: str, names: list[str], seconds: float) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TF_USE_LEGACY_KERAS="1", CUDA_VISIBLE_DEVICES="")
    env.pop("TF_ENABLE_ONEDNN_OPTS", None)          # TF's defaults, as users run it
    proc = subprocess.run([tf_python, "-c", _TF_MAIN, json.dumps(names), str(MODELS), str(WARMUP_STEPS),
                           _LOOP, str(seconds), json.dumps(sorted(CLEAR_DEVICES))],
                          capture_output=True, text=True, env=env, cwd=REPO)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise SystemExit(f"TF benchmark failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")


def our_rates(names: list[str], seconds: float) -> dict:
    import orchestrator.compat.v1 as tf
    scope = {"WARMUP_STEPS": WARMUP_STEPS}
    exec(_LOOP, scope)
    out = {}
    for name in names:
        try:
            rate, sess = scope["bench_model"](tf, str(MODELS / name), seconds, False)
            plan = next(iter(sess._plans.values()))
            out[name] = (rate, plan.num_ops)
            sess.close()
        except Exception as exc:  # noqa: BLE001 - reported in the table
            out[name] = (f"error: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}", 0)
    return out


def dispatch_overhead_us(chain: int = 1000, repeats: int = 200) -> float:
    """µs per op of a compiled chain of Identity ops (the executor's own cost per kernel call)."""
    from orchestrator.dtypes import as_dtype
    from orchestrator.exec.session import Session
    from orchestrator.graph.model import Graph

    g = Graph()
    value = g.create_op("Placeholder", [], attrs={"dtype": as_dtype(np.float32), "shape": ()}, name="x").outputs[0]
    for _ in range(chain):
        value = g.create_op("Identity", [value]).outputs[0]
    sess = Session(g)
    feed = {"x:0": np.float32(1.0)}
    sess.run(value, feed)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeats // 5):
            sess.run(value, feed)
        best = min(best, (time.perf_counter() - start) / (repeats // 5))
    return best / chain * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", help="model fixture names (default: all)")
    parser.add_argument("--seconds", type=float, default=1.0, help="minimum timed seconds per model and side")
    parser.add_argument("--tf-python", default=os.environ.get("ORCH_TF_PYTHON", "/work/tfvenv/bin/python"))
    args = parser.parse_args(argv)
    names = args.models or sorted(p.name for p in MODELS.iterdir() if (p / "manifest.json").exists())
    ours = our_rates(names, args.seconds)
    theirs = tf_rates(args.tf_python, names, args.seconds)
    print(f"{'model':<24}{'ours steps/s':>14}{'TF steps/s':>12}{'ratio':>8}{'ops/step':>10}")
    ratios = []
    for name in names:
        rate, ops = ours[name]
        tf_rate = theirs.get(name)
        label = name + ("*" if name in CLEAR_DEVICES else "")
        if isinstance(rate, str) or isinstance(tf_rate, str) or tf_rate is None:
            print(f"{label:<24}  ours: {rate if isinstance(rate, str) else f'{rate:.1f}'}  TF: {tf_rate}")
            continue
        ratio = rate / tf_rate
        ratios.append(ratio)
        print(f"{label:<24}{rate:>14.1f}{tf_rate:>12.1f}{ratio:>7.2f}x{ops:>10}")
    if ratios:
        print(f"median ratio {statistics.median(ratios):.2f}x over {len(ratios)} models; "
              f"min {min(ratios):.2f}x ({names[ratios.index(min(ratios))] if len(ratios) == len(names) else ''})")
    print(f"dispatch overhead: {dispatch_overhead_us():.2f} µs per op (compiled chain of 1000 Identity ops)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
