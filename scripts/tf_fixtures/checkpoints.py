"""Checkpoint format fixtures: ``tests/fixtures/checkpoints/<case>/``.

Each case holds TF-written checkpoint files plus ``expected.npz`` / ``expected.json`` made by
``scripts/tf_read_checkpoint.py`` (what ``tf.train.load_checkpoint`` reads back), with the
case's extra facts (prefix, files, partition slices, kept checkpoints) merged into the json.
"""
from __future__ import annotations

import pathlib
import shutil
import sys
from typing import Any, Callable

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
from common import chdir  # noqa: E402
from tf_read_checkpoint import dump  # noqa: E402

PREFIX = "model.ckpt"


def _tf():
    import tensorflow as tf
    return tf


def _strings() -> dict[str, np.ndarray]:
    long = bytes(range(256)) + b"tail"  # 260 bytes: a two-byte varint length
    return {
        "string/vector": np.array([b"", b"a", b"\x00\xff\x00", "héllo".encode(), long,
                                   b"trailing\x00"], dtype=object),
        "string/matrix": np.array([[b"r0c0", b""], [b"r1c0", b"\x00"], [b"", b"r2c1"]], dtype=object),
        "string/scalar": np.array(b"just one", dtype=object),
        "string/empty_list": np.zeros([0], dtype=object),
        "string/only_empty": np.array([b""], dtype=object),
    }


def _all_dtypes_values() -> dict[str, Any]:
    tf = _tf()
    rng = np.random.default_rng(3)
    values: dict[str, Any] = {}
    for name in ("float16", "float32", "float64"):
        values[f"float/{name}"] = (rng.standard_normal((3, 4)) * 10).astype(name)
    values["float/bfloat16"] = tf.constant(rng.standard_normal((2, 5)).astype(np.float32),
                                           dtype=tf.bfloat16)
    for name in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"):
        info = np.iinfo(name)
        edge = np.array([info.min, info.max, 0, 1], dtype=name)
        values[f"int/{name}"] = np.concatenate([edge, rng.integers(info.min // 2, info.max // 2, 4,
                                                                    dtype=name)]).reshape(2, 4)
    values["bool/matrix"] = rng.integers(0, 2, (3, 3)).astype(bool)
    values["complex/complex64"] = (rng.standard_normal(4) + 1j * rng.standard_normal(4)).astype(np.complex64)
    values["complex/complex128"] = (rng.standard_normal((2, 2)) + 1j).astype(np.complex128)
    values["scalar/float32"] = np.float32(3.25)
    values["scalar/int64"] = np.int64(-(2 ** 40))
    values["scalar/bool"] = np.bool_(True)
    values["scalar/float64"] = np.float64(np.pi)
    for name, shape in (("float32", (0,)), ("int32", (3, 0)), ("bool", (0, 2)), ("float64", (2, 0, 3)),
                        ("int64", (0,))):
        values[f"empty/{name}"] = np.zeros(shape, dtype=name)
    values["special/float32"] = np.array([np.inf, -np.inf, np.nan, -0.0, 1e-45], np.float32)
    values.update(_strings())
    return values


def _save_raw(case_dir: pathlib.Path, values: dict[str, Any]) -> None:
    """One SaveV2 call (the kernel every Saver uses) over plain tensors of any dtype."""
    tf = _tf()
    names = sorted(values)
    tensors = [values[n] if isinstance(values[n], tf.Tensor) else tf.constant(values[n])
               for n in names]
    with chdir(case_dir):
        tf.raw_ops.SaveV2(prefix=PREFIX, tensor_names=names, shape_and_slices=[""] * len(names),
                          tensors=tensors)


def all_dtypes(case_dir: pathlib.Path) -> dict:
    _save_raw(case_dir, _all_dtypes_values())
    return {"notes": "every dtype a bundle holds, scalars, zero-size tensors, inf/nan/-0/denormal, "
                     "strings incl. empty, binary (NUL, 0xff), utf-8, 260-byte, 2-D and empty lists; "
                     "written by one SaveV2"}


def bigger(case_dir: pathlib.Path) -> dict:
    """A 3 MiB float32 tensor among small ones, for read-plan / range coalescing tests."""
    tf = _tf()
    big = ((np.arange(768 * 1024) % 1000).astype(np.float32) * 0.001 - 0.5).reshape(768, 1024)
    values: dict[str, Any] = {"big/kernel": big}
    rng = np.random.default_rng(5)
    for k in range(6):
        values[f"small/v{k}"] = rng.standard_normal(3 + 5 * k).astype(np.float32)
    values["small/step"] = np.int64(1234)
    values["zzz/after_big"] = np.arange(10, dtype=np.int32)
    del tf
    _save_raw(case_dir, values)
    return {"notes": "big/kernel = ((arange(768*1024) % 1000) * 0.001 - 0.5).reshape(768, 1024) "
                     "float32 (3 MiB) between small tensors; one SaveV2"}


def _graph_save(case_dir: pathlib.Path, build: Callable[[Any], Any], config=None,
                steps: list[int] | None = None) -> None:
    """Build variables in a v1 graph, initialise, save with the Saver ``build`` returns."""
    tf = _tf()
    t = tf.compat.v1
    graph = t.Graph()
    with graph.as_default():
        t.set_random_seed(11)
        saver, step_op = build(t)
        with t.Session(graph=graph, config=config) as sess, chdir(case_dir):
            sess.run(t.global_variables_initializer())
            for step in steps or [None]:
                if step is not None:
                    sess.run(step_op)
                saver.save(sess, PREFIX, global_step=step, write_meta_graph=False)


def _slices(t) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for var in t.global_variables():
        info = var._save_slice_info  # noqa: SLF001 (the only place TF keeps it)
        if info is not None:
            out.setdefault(info.full_name, []).append(
                {"part": var.op.name, "full_shape": list(info.full_shape),
                 "offset": list(info.var_offset), "size": list(info.var_shape)})
    return out


def partitioned(case_dir: pathlib.Path) -> dict:
    facts: dict = {}

    def build(t):
        with t.variable_scope("", use_resource=False):
            t.get_variable("rows", [10, 3], partitioner=t.fixed_size_partitioner(3),
                           initializer=t.random_normal_initializer())
            t.get_variable("cols", [4, 7], partitioner=t.fixed_size_partitioner(3, axis=1),
                           initializer=t.random_normal_initializer())
            t.get_variable("plain", [5], initializer=t.random_normal_initializer())
        facts["slices"] = _slices(t)
        return t.train.Saver(), None

    _graph_save(case_dir, build)
    return {"notes": "rows [10,3] in 4/3/3 row partitions, cols [4,7] in 3/2/2 column partitions "
                     "(fixed_size_partitioner), plain [5]; slices = the partitions' SaveSliceInfo",
            **facts}


def sharded(case_dir: pathlib.Path) -> dict:
    t = _tf().compat.v1

    def build(t):
        with t.variable_scope("", use_resource=False):
            for dev, names in (("/device:CPU:0", ("a", "b")), ("/device:CPU:1", ("c", "d"))):
                with t.device(dev):
                    for name in names:
                        t.get_variable(name, [3, 2], initializer=t.random_normal_initializer())
        return t.train.Saver(sharded=True), None

    _graph_save(case_dir, build, config=t.ConfigProto(device_count={"CPU": 2}))
    return {"notes": "Saver(sharded=True), variables a,b on CPU:0 and c,d on CPU:1: 2 data files, "
                     "merged index"}


def v1_format(case_dir: pathlib.Path) -> dict:
    def build(t):
        with t.variable_scope("", use_resource=False):
            t.get_variable("w", [3, 4], initializer=t.random_normal_initializer())
            t.get_variable("count", [], t.int64, initializer=t.constant_initializer(7))
            t.get_variable("s", [2], t.string, initializer=t.constant_initializer([b"x", b""]))
        return t.train.Saver(write_version=t.train.SaverDef.V1), None

    _graph_save(case_dir, build)
    # No partitioned variable: TF's own reader refuses sliced V1 tensors ("Sliced checkpoints
    # are not supported"), so there would be no expected value to compare with.
    return {"notes": "Saver(write_version=V1): one table file named by the prefix (no .index)"}


def multi_step(case_dir: pathlib.Path) -> dict:
    def build(t):
        with t.variable_scope("", use_resource=False):
            w = t.get_variable("w", [2, 2], initializer=t.zeros_initializer())
        step = t.train.get_or_create_global_step()
        bump = t.group(t.assign_add(w, t.ones([2, 2])), t.assign_add(step, 10))
        return t.train.Saver(max_to_keep=3), bump

    steps = [10, 20, 30, 40, 50]
    _graph_save(case_dir, build, steps=steps)
    kept = [f"{PREFIX}-{s}" for s in steps[-3:]]
    return {"notes": "5 saves (global_step 10..50, w += 1 each) with max_to_keep=3; expected.* is "
                     "the latest; values per kept checkpoint in 'checkpoints'",
            "kept": kept, "deleted": [f"{PREFIX}-{s}" for s in steps[:-3]], "prefix": kept[-1],
            "checkpoints": {p: {"w": np.full((2, 2), float(k + 3), np.float32).tolist(),
                                "global_step": (k + 3) * 10} for k, p in enumerate(kept)}}


CASES: dict[str, Callable[[pathlib.Path], dict]] = {
    "all_dtypes": all_dtypes, "partitioned": partitioned, "sharded": sharded,
    "v1_format": v1_format, "multi_step": multi_step, "bigger": bigger,
}


def build(out_dir: pathlib.Path, only: set[str] | None = None) -> None:
    for name, make in CASES.items():
        if only is not None and name not in only:
            continue
        case_dir = out_dir / "checkpoints" / name
        shutil.rmtree(case_dir, ignore_errors=True)
        case_dir.mkdir(parents=True)
        facts = make(case_dir)
        prefix = facts.pop("prefix", PREFIX)
        files = sorted(p.name for p in case_dir.iterdir())
        info = dump(str(case_dir / prefix), case_dir / "expected.npz", case_dir / "expected.json",
                    {"prefix": prefix, "files": files, **facts})
        print(f"checkpoint {name}: {len(info)} tensors, files {files}")
