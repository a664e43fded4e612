"""Training steps per second: orchestrator's Session vs real TensorFlow's, on the fixture models.

    .venv/bin/python scripts/bench_executor.py [--models mlp_sgd cnn ...] [--seconds 1.5]
                                              [--rounds 3] [--tf-python /work/tfvenv/bin/python]
    .venv/bin/python scripts/bench_executor.py --profile cnn     # where one model's step goes

For each model of ``tests/fixtures/models``: import ``model.meta``, restore
``ckpt/model.ckpt-0``, then time ``sess.run([train_op, loss], feed_dict=feed_i)`` cycling
over the 20 recorded feeds (after untimed warm-up steps). TF runs the same code in a
process of the TF venv with its default settings (oneDNN on, default thread pools), in the
same invocation. The two sides are timed alternately in ``--rounds`` windows of
``seconds / rounds`` each and the best window of each side counts, so that load from
other processes on the machine hits both alike. Graphs whose device strings TF cannot place
in one local process (``ps_worker``'s /job:ps tasks, ``sharded_saver``'s second CPU) are
imported by TF with ``clear_devices=True`` (marked ``*``); ours ignores devices anyway.

Prints one row per model (steps/s of both, ratio ours/TF, ops per step in our schedule),
the median ratio, and our per-op dispatch overhead: µs per op of a compiled chain of
1000 ``StopGradient`` ops (a kernel that does nothing but return its input).
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
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
MODELS = REPO / "tests" / "fixtures" / "models"
CLEAR_DEVICES = {"ps_worker", "sharded_saver"}
WARMUP_STEPS = 3

# The timing code, shared verbatim by both sides: `tf` is orchestrator.compat.v1 or TF's.
_LOOP = r'''
import json, time
import numpy as np

class ModelLoop:
    def __init__(self, tf, folder, clear_devices):
        manifest = json.loads(open(f"{folder}/manifest.json").read())
        reference = np.load(f"{folder}/reference.npz")
        self.feeds = [{t: reference[f"feed/{i}/{t}"] for t in manifest["feeds"]} for i in range(manifest["steps"])]
        self.graph = tf.Graph()
        with self.graph.as_default():
            saver = tf.train.import_meta_graph(f"{folder}/model.meta", clear_devices=clear_devices)
            self.sess = tf.Session(graph=self.graph)
            start = time.perf_counter()
            saver.restore(self.sess, f"{folder}/{manifest['checkpoint']}")
            self.restore_seconds = time.perf_counter() - start
        self.fetches = [self.graph.get_operation_by_name(manifest["train_op"]),
                        self.graph.get_tensor_by_name(manifest["loss"])]
        self.step = 0
        self.steps_per_second(0.0)       # warm-up: compile/first-run costs are not timed

    def steps_per_second(self, seconds):
        steps, start = 0, time.perf_counter()
        while True:
            self.sess.run(self.fetches, feed_dict=self.feeds[self.step % len(self.feeds)])
            self.step += 1
            steps += 1
            elapsed = time.perf_counter() - start
            if elapsed >= seconds and steps >= WARMUP_STEPS:
                return steps / elapsed
'''

# TF side: a server reading one command per line ("load NAME CLEAR" / "time SECONDS" / "restore" /
# "ready": answered once TF is imported, so a caller can keep TF's import out of its timings).
_TF_SERVER = r'''
import json, os, sys
import tensorflow as tf1
tf1.compat.v1.disable_eager_execution()
tf = tf1.compat.v1
WARMUP_STEPS = int(sys.argv[2])
exec(sys.argv[1])
loop = None
for line in sys.stdin:
    command, *args = line.split()
    try:
        if command == "load":
            if loop is not None:
                loop.sess.close()
            loop = ModelLoop(tf, args[0], args[1] == "1")
            reply = "ok"
        elif command == "restore":
            reply = loop.restore_seconds
        elif command == "ready":
            reply = "ok"
        else:
            reply = loop.steps_per_second(float(args[0]))
    except Exception as exc:
        loop = None
        reply = f"error: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
    print(json.dumps(reply), flush=True)
'''


class TFSide:
    """Real TF in its venv, driven line by line so that both sides are timed alternately."""

    def __init__(self, tf_python: str):
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TF_USE_LEGACY_KERAS="1", CUDA_VISIBLE_DEVICES="")
        env.pop("TF_ENABLE_ONEDNN_OPTS", None)          # TF's defaults, as users run it
        self.proc = subprocess.Popen([tf_python, "-c", _TF_SERVER, _LOOP, str(WARMUP_STEPS)], cwd=REPO, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

    def ask(self, line: str):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline()
        if not reply:
            raise SystemExit(f"the TF process exited (code {self.proc.wait()})")
        return json.loads(reply)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def compare(name: str, tf_side: TFSide, seconds: float, rounds: int, models_dir: Path = MODELS,
            details: dict | None = None) -> tuple:
    """(our best steps/s, TF's best steps/s, our ops per step), timing the two sides alternately.

    ``details``, if given, receives ``restore_seconds``: (ours, TF's) ``saver.restore`` call."""
    import orchestrator.compat.v1 as tf
    scope = {"WARMUP_STEPS": WARMUP_STEPS}
    exec(_LOOP, scope)
    folder = str(models_dir / name)
    try:
        ours = scope["ModelLoop"](tf, folder, False)
    except Exception as exc:  # noqa: BLE001 - reported in the table
        return f"error: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}", None, 0
    loaded = tf_side.ask(f"load {folder} {int(name in CLEAR_DEVICES)}")
    if loaded != "ok":
        return None, loaded, 0
    our_best = tf_best = 0.0
    for _ in range(rounds):
        our_best = max(our_best, ours.steps_per_second(seconds / rounds))
        tf_best = max(tf_best, tf_side.ask(f"time {seconds / rounds}"))
    ops = next(iter(ours.sess._plans.values())).num_ops
    if details is not None:
        details["restore_seconds"] = (ours.restore_seconds, tf_side.ask("restore"))
    ours.sess.close()
    return our_best, tf_best, ops


def dispatch_overhead_us(chain: int = 1000, repeats: int = 200) -> float:
    """µs per op of a compiled chain of StopGradient ops: a kernel that returns its input, and
    that the compiler keeps (an Identity would be forwarded away), so this is the executor's
    own cost per kernel call."""
    from orchestrator.dtypes import as_dtype
    from orchestrator.exec.session import Session
    from orchestrator.graph.model import Graph

    g = Graph()
    value = g.create_op("Placeholder", [], attrs={"dtype": as_dtype(np.float32), "shape": ()}, name="x").outputs[0]
    for _ in range(chain):
        value = g.create_op("StopGradient", [value]).outputs[0]
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


def profile_model(name: str, steps: int = 100, models_dir: Path = MODELS) -> None:
    """Print where a model's step goes: time per op type (kernel calls, incl. loop and function
    bodies; a loop/call node's own row is inclusive) and the executor's share."""
    import collections

    from orchestrator.exec import executor
    import orchestrator.compat.v1 as tf

    scope = {"WARMUP_STEPS": WARMUP_STEPS}
    exec(_LOOP, scope)
    loop = scope["ModelLoop"](tf, str(models_dir / name), False)
    seconds: collections.Counter = collections.Counter()
    calls: collections.Counter = collections.Counter()
    original = executor.FlatSchedule.run

    def timed_run(self: Any, inputs: Any) -> Any:
        saved = self.steps
        self.steps = tuple(step._replace(fn=_timed(step.fn, step.node.type)) for step in saved)
        try:
            return original(self, inputs)
        finally:
            self.steps = saved

    def _timed(fn: Any, kind: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                seconds[kind] += time.perf_counter() - start
                calls[kind] += 1
        return call

    executor.FlatSchedule.run = timed_run
    try:
        first, start = loop.step, time.perf_counter()
        while loop.step - first < steps:
            loop.steps_per_second(0.0)
        steps = loop.step - first
        total = (time.perf_counter() - start) / steps
    finally:
        executor.FlatSchedule.run = original
    print(f"{name}: {total * 1e3:.2f} ms per step (timed), {sum(calls.values()) / steps:.0f} kernel calls per step")
    for kind, spent in seconds.most_common(25):
        print(f"  {kind:<36}{spent / steps * 1e6:>9.1f} us/step{spent / calls[kind] * 1e6:>9.1f} us/call"
              f"{calls[kind] / steps:>7.0f} calls/step")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", help="model fixture names (default: all)")
    parser.add_argument("--seconds", type=float, default=1.5, help="timed seconds per model and side")
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternating timing windows per side (the best window counts)")
    parser.add_argument("--tf-python", default=os.environ.get("ORCH_TF_PYTHON", "/work/tfvenv/bin/python"))
    parser.add_argument("--profile", metavar="MODEL", help="instead: time per op type for one model (no TF)")
    args = parser.parse_args(argv)
    if args.profile:
        profile_model(args.profile)
        return 0
    names = args.models or sorted(p.name for p in MODELS.iterdir() if (p / "manifest.json").exists())
    tf_side = TFSide(args.tf_python)
    print(f"{'model':<24}{'ours steps/s':>14}{'TF steps/s':>12}{'ratio':>8}{'ops/step':>10}", flush=True)
    ratios: dict[str, float] = {}
    for name in names:
        rate, tf_rate, ops = compare(name, tf_side, args.seconds, args.rounds)
        label = name + ("*" if name in CLEAR_DEVICES else "")
        if not isinstance(rate, float) or not isinstance(tf_rate, float):
            print(f"{label:<24}  ours: {rate}  TF: {tf_rate}", flush=True)
            continue
        ratios[name] = rate / tf_rate
        print(f"{label:<24}{rate:>14.1f}{tf_rate:>12.1f}{ratios[name]:>7.2f}x{ops:>10}", flush=True)
    tf_side.close()
    if ratios:
        worst = min(ratios, key=ratios.get)
        print(f"median ratio {statistics.median(ratios.values()):.2f}x over {len(ratios)} models; "
              f"lowest {ratios[worst]:.2f}x ({worst})")
    print(f"dispatch overhead: {dispatch_overhead_us():.2f} µs per op (compiled chain of 1000 StopGradient ops)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
