"""Checkpoint restore/save throughput: real TensorFlow against orchestrator, and the raw read limit.

    .venv/bin/python scripts/bench_checkpoint.py                 # 1 GiB over 64 variables
    .venv/bin/python scripts/bench_checkpoint.py --gib 0.25      # quick run

1. A TF subprocess (``--tf-python``, TF's default settings incl. oneDNN, as users run it)
   builds ``--variables`` float32 variables totalling ``--gib`` GiB, saves them with
   ``tf.compat.v1.train.Saver`` (timed), then times ``import_meta_graph`` + session +
   ``restore`` of that checkpoint, and the ``restore`` call alone.
2. This process times, on the same files: orchestrator's ``import_meta_graph`` + Saver
   restore (crc32c on); the Saver restore alone with one reader and one thread, with one
   reader and ``--threads`` threads (the Saver's path), and ``--readers`` work lists of
   the restore plan executed in parallel; the Saver restore with its reads on ``--ray-actors``
   actors of an embedded local Ray (started before timing; the bytes travel through Ray's
   object store to this process); orchestrator's Saver save; and the raw limit: plain sequential
   ``readinto`` of each data file into one fresh numpy buffer, and of each tensor's
   bytes into its own fresh buffer (the faster of the two is "raw"; with per-tensor
   buffers the allocator reuses freed memory instead of faulting in new pages).

Every measurement runs once to warm the page cache, then best of ``--repeats`` (ours
interleaved round by round, see :func:`best_of`).
Throughput is checkpoint bytes / seconds (GB = 1e9 bytes).
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TF_SIDE = r"""
import json, os, sys, time
import numpy as np
import tensorflow as tf
t = tf.compat.v1
t.disable_eager_execution()
workdir, gib, nvars, repeats = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
per_var = int(gib * 2**30) // 4 // nvars
shape = [per_var // 1024, 1024] if per_var % 1024 == 0 else [per_var]
graph = tf.Graph()
with graph.as_default():
    for i in range(nvars):
        t.get_variable(f"layer_{i:03d}/kernel", shape, tf.float32,
                       initializer=t.random_uniform_initializer(-1.0, 1.0, seed=i))
    saver = t.train.Saver(max_to_keep=1)
    timed_saver = t.train.Saver(max_to_keep=1)
    with t.Session() as sess:
        sess.run(t.global_variables_initializer())
        prefix = saver.save(sess, os.path.join(workdir, "tf", "model.ckpt"), global_step=0)
        saves = []
        for step in range(repeats + 1):
            start = time.perf_counter()
            timed_saver.save(sess, os.path.join(workdir, "tf_save", "model.ckpt"), global_step=step)
            saves.append(time.perf_counter() - start)
restores, restore_calls = [], []
for _ in range(repeats + 1):
    g = tf.Graph()
    with g.as_default():
        start = time.perf_counter()
        restorer = t.train.import_meta_graph(prefix + ".meta")
        sess = t.Session(graph=g)
        middle = time.perf_counter()
        restorer.restore(sess, prefix)
        end = time.perf_counter()
        restores.append(end - start)
        restore_calls.append(end - middle)
        sess.close()
print(json.dumps({"prefix": prefix, "save": min(saves[1:]), "restore": min(restores[1:]),
                  "restore_call": min(restore_calls[1:]), "shape": shape, "tf_version": tf.__version__}))
"""


def best_of(repeats: int, runs: dict[str, Callable[[], Any]]) -> dict[str, float]:
    """Warm-up run of each, then the fastest of ``repeats`` timed runs of each.

    The measurements are interleaved round by round, so a burst of load from other
    processes on the machine slows one round of everything rather than one measurement.
    """
    for run in runs.values():
        run()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            gc.collect()
            start = time.perf_counter()
            result = run()
            times[name].append(time.perf_counter() - start)
            del result
    return {name: min(values) for name, values in times.items()}


def run_tf(args: argparse.Namespace, workdir: str) -> dict[str, Any]:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TF_USE_LEGACY_KERAS="1", CUDA_VISIBLE_DEVICES="")
    env.pop("TF_ENABLE_ONEDNN_OPTS", None)             # TF's default (oneDNN on), as users run it
    proc = subprocess.run([args.tf_python, "-c", TF_SIDE, workdir, str(args.gib), str(args.variables),
                           str(args.repeats)], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"TensorFlow side failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def raw_read(data_files: list[str]) -> list[Any]:
    import numpy as np
    out = []
    for path in data_files:
        buffer = np.empty(os.path.getsize(path), dtype=np.uint8)
        with open(path, "rb", buffering=0) as handle:
            handle.readinto(memoryview(buffer))
        out.append(buffer)
    return out


def raw_read_per_tensor(ranges: list[tuple[str, int, int]]) -> list[Any]:
    """The same bytes into one fresh array per tensor (the allocation pattern a restore has)."""
    import numpy as np
    out = []
    handles = {path: open(path, "rb", buffering=0) for path in {r[0] for r in ranges}}
    try:
        for path, offset, length in ranges:
            buffer = np.empty(length, dtype=np.uint8)
            handles[path].seek(offset)
            handles[path].readinto(memoryview(buffer))
            out.append(buffer)
    finally:
        for handle in handles.values():
            handle.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gib", type=float, default=1.0, help="checkpoint size in GiB (default 1)")
    parser.add_argument("--variables", type=int, default=64, help="number of variables (default 64)")
    parser.add_argument("--threads", type=int, default=4, help="read threads of one reader (default 4)")
    parser.add_argument("--readers", type=int, default=2, help="parallel readers (work lists) (default 2)")
    parser.add_argument("--ray-actors", type=int, default=2,
                        help="restore through this many Ray actors of a local Ray (0: skip; default 2)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per measurement (default 3)")
    parser.add_argument("--tf-python", default=os.environ.get("ORCH_TF_PYTHON", "/work/tfvenv/bin/python"))
    parser.add_argument("--workdir", help="where checkpoints are written (default: a temp dir, removed)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()

    from orchestrator.checkpoint import bundle_io, files
    from orchestrator.exec.state import SessionState
    from orchestrator.graph.load import import_meta_graph
    from orchestrator.graph.model import Graph

    with tempfile.TemporaryDirectory(dir=args.workdir) as workdir:
        tf = run_tf(args, workdir)
        prefix = tf["prefix"]
        data_files = files.data_files(prefix)
        size = sum(os.path.getsize(p) for p in data_files)

        def import_and_restore(threads: int) -> Callable[[], Any]:
            def run() -> Any:
                graph = Graph()
                with graph.as_default():
                    restorer = import_meta_graph(prefix + ".meta")
                restorer.max_workers = threads
                state = SessionState()
                restorer.restore(state, prefix)
                return state
            return run

        graph = Graph()
        with graph.as_default():
            saver = import_meta_graph(prefix + ".meta")

        def restore_only(threads: int) -> Callable[[], Any]:
            def run() -> Any:
                saver.max_workers = threads
                state = SessionState()
                saver.restore(state, prefix)
                return state
            return run

        def readers_restore() -> Any:
            index = bundle_io.read_index(prefix)
            return bundle_io.read_entries(index, readers=args.readers, threads=args.threads)

        state = restore_only(args.threads)()
        saver.saver_def.max_to_keep = 1
        save_dir = os.path.join(workdir, "ours_save")
        step = iter(range(1, 10_000))

        def save() -> None:
            saver.save(state, os.path.join(save_dir, "model.ckpt"), global_step=next(step))

        index = bundle_io.read_index(prefix)
        tensor_ranges = sorted((files.data_filename(prefix, e.shard_id, index.header.num_shards), e.offset, e.size)
                               for e in index.entries.values() if not e.slices)
        n = args.threads
        timed: dict[str, Callable[[], Any]] = {}
        ray_context = contextlib.ExitStack()
        if args.ray_actors:
            from orchestrator.distributed import cluster
            from orchestrator.distributed.restore import ActorReader

            ray = ray_context.enter_context(cluster.connected())
            actor_reader = ActorReader(ray, args.ray_actors, args.threads)

            def ray_restore() -> Any:
                saver.item_reader = actor_reader.read_items
                try:
                    return restore_only(args.threads)()
                finally:
                    saver.item_reader = None

            timed[f"ours_ray_{args.ray_actors}x{n}"] = ray_restore
        results = best_of(args.repeats, {
            "raw_file": lambda: raw_read(data_files),
            "raw_tensors": lambda: raw_read_per_tensor(tensor_ranges),
            f"ours_import_restore_1x{n}": import_and_restore(n),
            "ours_restore_1x1": restore_only(1),
            f"ours_restore_1x{n}": restore_only(n),
            f"ours_read_{args.readers}_readers": readers_restore,
            **timed,
            "ours_save": save,
        })
        ray_context.close()
        results.update(tf_import_restore=tf["restore"], tf_restore=tf["restore_call"], tf_save=tf["save"])

    gb = size / 1e9
    raw = min(results["raw_file"], results["raw_tensors"])       # % of raw: against the faster
    # (label, key, TF row it is compared with, compared with raw?)
    rows = [
        ("raw: each data file into one numpy buffer", "raw_file", None, True),
        ("raw: each tensor's bytes into its own numpy buffer", "raw_tensors", None, True),
        ("TF: import_meta_graph + Session + restore", "tf_import_restore", "tf_import_restore", False),
        (f"ours: import_meta_graph + restore, 1 reader x {n} threads", f"ours_import_restore_1x{n}",
         "tf_import_restore", False),
        ("TF: Saver.restore call", "tf_restore", "tf_restore", True),
        ("ours: Saver.restore, 1 reader x 1 thread", "ours_restore_1x1", "tf_restore", True),
        (f"ours: Saver.restore, 1 reader x {n} threads", f"ours_restore_1x{n}", "tf_restore", True),
        (f"ours: restore plan, {args.readers} readers ({n} threads in all)", f"ours_read_{args.readers}_readers",
         "tf_restore", True),
        *([(f"ours: Saver.restore, {args.ray_actors} Ray actors x {n} threads", f"ours_ray_{args.ray_actors}x{n}",
            "tf_restore", True)] if args.ray_actors else []),
        ("TF: Saver.save (+ meta graph, state file)", "tf_save", "tf_save", False),
        ("ours: Saver.save (+ meta graph, state file)", "ours_save", "tf_save", False),
    ]
    command = " ".join(shlex.quote(a) for a in [sys.executable, *sys.argv])
    print(f"checkpoint: {gb:.3f} GB in {args.variables} float32 variables of shape {tf['shape']}, "
          f"{len(data_files)} data file(s); TF {tf['tf_version']}; {os.cpu_count()} cores; crc32c verified; "
          f"warm cache, best of {args.repeats}")
    print(f"| {'measurement':<58} | {'seconds':>8} | {'GB/s':>6} | {'vs TF':>6} | {'% of raw':>8} |")
    print(f"|{'-' * 60}|{'-' * 10}|{'-' * 8}|{'-' * 8}|{'-' * 10}|")
    for label, key, versus_key, versus_raw in rows:
        seconds = results[key]
        versus = "" if versus_key is None else f"{results[versus_key] / seconds:.2f}x"
        of_raw = f"{100 * raw / seconds:.0f} %" if versus_raw else ""
        print(f"| {label:<58} | {seconds:>8.3f} | {gb / seconds:>6.2f} | {versus:>6} | {of_raw:>8} |")
    print(f"command: {command}")
    if args.json:
        Path(args.json).write_text(json.dumps({"bytes": size, "seconds": results, "command": command}, indent=1))


if __name__ == "__main__":
    main()
