"""Op table for TensorArray / Stack / TensorList kernels (orchestrator/ops/{collection,
tensor_array,list,list_edit}_ops.py), made with real TF.

Run with the TensorFlow venv:
    TF_ENABLE_ONEDNN_OPTS=0 /work/tfvenv/bin/python scripts/tf_fixtures/ops_collections.py

These ops act on state (a TensorArray, a stack) or on variant values, so one op alone
says little: each case is a small *program* — a sequence of ops, each node depending on
the previous one, run once in a TF1 graph session — and records what TF returned for the
fetched outputs, or which step failed with which error (Grappler off). Constant inputs are fed through
``placeholder_with_default`` of unknown shape so that shape inference at graph build time
never pre-empts the runtime checks being recorded.

Case layout (besides OpTable's ``inputs``/``outputs``):
  ``steps``: ``[{"op", "inputs": [ref | [ref, ...]], "attrs": {name: encoded}}]`` with
  inputs in op-def order; a ref is ``"in<k>"`` (the case's k-th input array) or
  ``"s<i>:<j>"`` (output j of step i). Attrs are the node's attrs after TF filled the
  defaults: ``{"type": name}``, ``{"shape": dims | null}`` (-1 unknown dims), ``{"s": str}``,
  or plain bool/int.
  ``fetch``: the refs recorded in ``outputs``; ``error``: ``{"step", "type", "message"}``
  when the program failed (outputs then empty).
"""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ops_state import OUT, OpTable  # noqa: E402


class Ref:
    def __init__(self, step: int, out: int = 0):
        self.step, self.out = step, out

    def __getitem__(self, j: int) -> "Ref":
        return Ref(self.step, j)

    def __str__(self) -> str:
        return f"s{self.step}:{self.out}"


class Program:
    """Steps of one case; ``p.op("TensorArrayV3", size=..., dtype=tf.float32)`` returns a Ref."""

    def __init__(self, case_id: str, main_op: str, graph_producer: int | None = None):
        self.case_id, self.main_op = case_id, main_op
        # Ops TF removed from newer GraphDefs (TensorArray*V2: producer < 26) are built in a
        # graph that claims this older producer version.
        self.graph_producer = graph_producer
        self.steps: list[tuple[str, dict]] = []
        self.fetch: list[Ref] = []

    def op(self, op_type: str, **kwargs: Any) -> Ref:
        self.steps.append((op_type, kwargs))
        return Ref(len(self.steps) - 1)

    def get(self, *refs: Ref) -> None:
        self.fetch.extend(refs)


def _encode_attr(value: Any, kind: str) -> Any:
    import tensorflow as tf
    if kind == "type":
        return {"type": tf.as_dtype(value.type).name}
    if kind == "shape":
        shape = tf.TensorShape(value.shape)
        return {"shape": None if shape.rank is None else [-1 if d is None else d for d in shape.as_list()]}
    if kind == "string":
        return {"s": value.s.decode()}
    if kind == "bool":
        return bool(value.b)
    if kind == "int":
        return int(value.i)
    raise ValueError(f"attr kind {kind} not encoded")


def run(table: OpTable, prog: Program) -> None:
    if not table.wants(prog.main_op) and prog.case_id not in (table.only or ()):
        return
    import tensorflow as tf
    from tensorflow.core.protobuf import rewriter_config_pb2
    from tensorflow.python.framework import op_def_registry
    v1 = tf.compat.v1
    consts: list[np.ndarray] = []
    graph = tf.Graph()
    steps_json: list[dict] = []
    with graph.as_default():
        if prog.graph_producer is not None:
            old_versions = v1.GraphDef()
            old_versions.versions.producer = prog.graph_producer
            v1.import_graph_def(old_versions, name="")   # lowers the graph's producer version
        outs: list[list] = []
        prev = None

        def resolve(v: Any, enc: list) -> Any:
            if isinstance(v, Ref):
                enc.append(str(v))
                return outs[v.step][v.out]
            if isinstance(v, list):
                inner: list = []
                got = [resolve(x, inner) for x in v]
                enc.append(inner)
                return got
            arr = np.asarray(v)
            enc.append(f"in{len(consts)}")
            consts.append(arr)
            return v1.placeholder_with_default(tf.constant(arr), shape=None)

        for i, (op_type, kwargs) in enumerate(prog.steps):
            op_def = op_def_registry.get(op_type)
            inputs, encoded = {}, []
            for arg in op_def.input_arg:
                if arg.name not in kwargs:
                    raise ValueError(f"{prog.case_id}: step {i} {op_type} lacks input {arg.name}")
                inputs[arg.name] = resolve(kwargs[arg.name], encoded)
            attrs = {k: v for k, v in kwargs.items() if k not in inputs}
            with tf.control_dependencies([prev] if prev is not None else []):
                getattr(tf.raw_ops, op_type)(**inputs, **attrs, name=f"s{i}")
            node = graph.get_operation_by_name(f"s{i}")
            prev = node
            outs.append(list(node.outputs))
            kinds = {a.name: a.type for a in op_def.attr}
            steps_json.append({
                "op": op_type, "inputs": encoded,
                "attrs": {k: _encode_attr(node.node_def.attr[k], kinds[k])   # sorted: byte-stable json
                          for k in sorted(node.node_def.attr) if not k.startswith("_")},
            })
        fetches = [outs[r.step][r.out] for r in prog.fetch]
        error = None
        # Grappler off: its loop optimizer drops pushes to stacks nobody pops, and these
        # programs are about what the kernels themselves do.
        config = v1.ConfigProto(graph_options=v1.GraphOptions(
            rewrite_options=rewriter_config_pb2.RewriterConfig(disable_meta_optimizer=True)))
        with v1.Session(graph=graph, config=config) as sess:
            try:
                values = sess.run({"fetch": fetches, "last": prev})["fetch"]
            except tf.errors.OpError as e:
                values = []
                error = _error_record(e)
    table.add(prog.case_id, prog.main_op, {}, consts, values, steps=steps_json,
              fetch=[str(r) for r in prog.fetch], **({"error": error} if error else {}))
    status = f"error at step {error['step']}: {error['type']}" if error else f"{len(values)} outputs"
    print(f"  {prog.case_id}: {status}")


def _error_record(e: Any) -> dict:
    """Failing step, error class and the kernel's own message (without TF's traceback of
    where the node was defined, which names our script's lines)."""
    text = e.message
    node = re.search(r"Node: '([^']+)'", text) or re.search(r"\{\{node ([^}]+)\}\}", text)
    name = node.group(1) if node else (e.op.name if e.op is not None else "")
    core = text.split(f"Node: '{name}'\n", 1)[-1].split("\n\t [[", 1)[0].strip()
    step = int(name[1:]) if name.startswith("s") and name[1:].isdigit() else None
    return {"step": step, "type": type(e).__name__, "message": core}


# --------------------------------------------------------------------------- cases

def _i32(v: Any) -> np.ndarray:
    return np.asarray(v, np.int32)


def _i64(v: Any) -> np.ndarray:
    return np.asarray(v, np.int64)


def _f32(shape: tuple, start: float = 1.0) -> np.ndarray:
    return (np.arange(int(np.prod(shape)), dtype=np.float32) * 0.5 + start).reshape(shape)


def stack_cases(table: OpTable) -> None:
    import tensorflow as tf

    for name, dtype, values in [("f32", tf.float32, [_f32((2,)), _f32((2,), 5.0), _f32((3,), -1.0)]),
                                ("i64", tf.int64, [_i64([1]), _i64([[2, 3]])]),
                                ("bool", tf.bool, [np.array(True), np.array([False, True])])]:
        p = Program(f"stack_lifo_{name}", "StackPopV2")
        s = p.op("StackV2", max_size=_i32(-1), elem_type=dtype, stack_name="acc")
        pushed = [p.op("StackPushV2", handle=s, elem=v, swap_memory=False) for v in values]
        pops = [p.op("StackPopV2", handle=s, elem_type=dtype) for _ in values]
        p.get(pushed[0], *pops)
        run(table, p)

    p = Program("stack_pop_empty", "StackPopV2")
    s = p.op("StackV2", max_size=_i32(-1), elem_type=tf.float32, stack_name="")
    p.op("StackPushV2", handle=s, elem=_f32((1,)))
    p.op("StackPopV2", handle=s, elem_type=tf.float32)
    p.op("StackPopV2", handle=s, elem_type=tf.float32)
    run(table, p)

    p = Program("stack_max_size", "StackPushV2")
    s = p.op("StackV2", max_size=_i32(2), elem_type=tf.float32, stack_name="")
    for _ in range(3):
        p.op("StackPushV2", handle=s, elem=_f32((1,)))
    run(table, p)

    p = Program("stack_push_wrong_dtype", "StackPushV2")
    s = p.op("StackV2", max_size=_i32(-1), elem_type=tf.float32, stack_name="")
    p.op("StackPushV2", handle=s, elem=_i32([1]))
    run(table, p)

    p = Program("stack_pop_wrong_dtype", "StackPopV2")
    s = p.op("StackV2", max_size=_i32(-1), elem_type=tf.float32, stack_name="")
    p.op("StackPushV2", handle=s, elem=_f32((1,)))
    p.op("StackPopV2", handle=s, elem_type=tf.int32)
    run(table, p)

    p = Program("stack_closed", "StackCloseV2")
    s = p.op("StackV2", max_size=_i32(-1), elem_type=tf.float32, stack_name="")
    p.op("StackPushV2", handle=s, elem=_f32((1,)))
    p.op("StackCloseV2", handle=s)
    p.op("StackPushV2", handle=s, elem=_f32((1,)))
    run(table, p)


def build(out_dir: Path = OUT, only: set[str] | None = None) -> None:
    import tensorflow as tf
    tf.compat.v1.disable_eager_execution()
    from ops_collections_arrays import tensor_array_cases
    from ops_collections_lists import list_cases
    from ops_collections_v2_cases import list_concat_cases, old_graph_case, tensor_array_v2_cases
    table = OpTable("collections", only)
    tensor_array_cases(table)
    stack_cases(table)
    list_cases(table)
    tensor_array_v2_cases(table)
    list_concat_cases(table)
    table.write(out_dir)
    old_graph_case(out_dir, only)


if __name__ == "__main__":
    build(OUT, set(sys.argv[1:]) or None)
