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

    def __init__(self, case_id: str, main_op: str):
        self.case_id, self.main_op = case_id, main_op
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
                "attrs": {k: _encode_attr(v, kinds[k]) for k, v in node.node_def.attr.items()
                          if not k.startswith("_")},
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


def tensor_array_cases(table: OpTable) -> None:
    import tensorflow as tf

    def ta(p: Program, size: int, dtype: Any = tf.float32, **attrs: Any) -> tuple[Ref, Ref]:
        r = p.op("TensorArrayV3", size=_i32(size), dtype=dtype, **attrs)
        return r[0], r[1]

    def write(p, h, i, value, flow):
        return p.op("TensorArrayWriteV3", handle=h, index=_i32(i), value=value, flow_in=flow)

    def read(p, h, i, flow, dtype=tf.float32):
        return p.op("TensorArrayReadV3", handle=h, index=_i32(i), flow_in=flow, dtype=dtype)

    # write / read, dtypes
    for name, dtype, value in [("f32", tf.float32, _f32((2,))), ("f64", tf.float64, _f32((2,)).astype(np.float64)),
                               ("f16", tf.float16, _f32((2,)).astype(np.float16)),
                               ("i32", tf.int32, _i32([3, -4])), ("i64", tf.int64, _i64([5, -6])),
                               ("bool", tf.bool, np.array([True, False]))]:
        p = Program(f"ta_write_read_{name}", "TensorArrayReadV3")
        h, f = ta(p, 3, dtype, element_shape=tf.TensorShape([2]))
        f = write(p, h, 0, value, f)
        f = write(p, h, 2, value[::-1].copy(), f)
        p.get(read(p, h, 2, f, dtype), read(p, h, 0, f, dtype), read(p, h, 1, f, dtype))
        run(table, p)

    p = Program("ta_read_unwritten_unknown_shape", "TensorArrayReadV3")
    h, f = ta(p, 2)
    p.get(read(p, h, 1, f))
    run(table, p)

    p = Program("ta_read_out_of_range", "TensorArrayReadV3")
    h, f = ta(p, 2, element_shape=tf.TensorShape([2]))
    p.get(read(p, h, 2, f))
    run(table, p)

    p = Program("ta_write_twice", "TensorArrayWriteV3")
    h, f = ta(p, 2)
    f = write(p, h, 0, _f32((2,)), f)
    write(p, h, 0, _f32((2,)), f)
    run(table, p)

    p = Program("ta_read_twice_cleared", "TensorArrayReadV3")
    h, f = ta(p, 2)
    f = write(p, h, 0, _f32((2,)), f)
    r = read(p, h, 0, f)
    read(p, h, 0, f)
    p.get(r)
    run(table, p)

    p = Program("ta_read_twice_kept", "TensorArrayReadV3")
    h, f = ta(p, 2, clear_after_read=False)
    f = write(p, h, 0, _f32((2,)), f)
    p.get(read(p, h, 0, f), read(p, h, 0, f))
    run(table, p)

    p = Program("ta_write_after_read", "TensorArrayWriteV3")
    h, f = ta(p, 2, element_shape=tf.TensorShape([2]))
    read(p, h, 1, f)
    write(p, h, 1, _f32((2,)), f)
    run(table, p)

    p = Program("ta_write_out_of_range", "TensorArrayWriteV3")
    h, f = ta(p, 2)
    write(p, h, 2, _f32((2,)), f)
    run(table, p)

    p = Program("ta_write_negative_dynamic", "TensorArrayWriteV3")
    h, f = ta(p, 0, dynamic_size=True)
    write(p, h, -1, _f32((2,)), f)
    run(table, p)

    p = Program("ta_write_wrong_dtype", "TensorArrayWriteV3")
    h, f = ta(p, 2)
    write(p, h, 0, _i32([1, 2]), f)
    run(table, p)

    p = Program("ta_read_wrong_dtype", "TensorArrayReadV3")
    h, f = ta(p, 2)
    f = write(p, h, 0, _f32((2,)), f)
    read(p, h, 0, f, tf.int32)
    run(table, p)

    p = Program("ta_write_shape_mismatch", "TensorArrayWriteV3")
    h, f = ta(p, 2, element_shape=tf.TensorShape([2]))
    write(p, h, 0, _f32((3,)), f)
    run(table, p)

    p = Program("ta_identical_shapes_infer", "TensorArrayWriteV3")
    h, f = ta(p, 2, identical_element_shapes=True)
    f = write(p, h, 0, _f32((2, 3)), f)
    write(p, h, 1, _f32((3, 3)), f)
    run(table, p)

    p = Program("ta_identical_shapes_zero_read", "TensorArrayReadV3")
    h, f = ta(p, 2, identical_element_shapes=True)
    f = write(p, h, 0, _f32((2, 3)), f)
    p.get(read(p, h, 1, f))
    run(table, p)

    p = Program("ta_dynamic_grow", "TensorArraySizeV3")
    h, f = ta(p, 0, dynamic_size=True, element_shape=tf.TensorShape([2]), clear_after_read=False)
    f = write(p, h, 3, _f32((2,)), f)
    size = p.op("TensorArraySizeV3", handle=h, flow_in=f)
    gathered = p.op("TensorArrayGatherV3", handle=h, indices=_i32([3, 0, 1]), flow_in=f, dtype=tf.float32,
                    element_shape=tf.TensorShape(None))
    p.get(size, gathered)
    run(table, p)

    # gather
    p = Program("ta_gather_order", "TensorArrayGatherV3")
    h, f = ta(p, 3, clear_after_read=False)
    for i in range(3):
        f = write(p, h, i, _f32((2, 2), i * 10.0), f)
    p.get(p.op("TensorArrayGatherV3", handle=h, indices=_i32([2, 0, 2]), flow_in=f, dtype=tf.float32,
               element_shape=tf.TensorShape([2, 2])))
    run(table, p)

    p = Program("ta_gather_inconsistent", "TensorArrayGatherV3")
    h, f = ta(p, 2)
    f = write(p, h, 0, _f32((2,)), f)
    f = write(p, h, 1, _f32((3,)), f)
    p.op("TensorArrayGatherV3", handle=h, indices=_i32([0, 1]), flow_in=f, dtype=tf.float32,
         element_shape=tf.TensorShape(None))
    run(table, p)

    p = Program("ta_gather_element_shape_mismatch", "TensorArrayGatherV3")
    h, f = ta(p, 1)
    f = write(p, h, 0, _f32((2,)), f)
    p.op("TensorArrayGatherV3", handle=h, indices=_i32([0]), flow_in=f, dtype=tf.float32,
         element_shape=tf.TensorShape([3]))
    run(table, p)

    p = Program("ta_gather_empty", "TensorArrayGatherV3")
    h, f = ta(p, 0)
    p.get(p.op("TensorArrayGatherV3", handle=h, indices=_i32([]), flow_in=f, dtype=tf.float32,
               element_shape=tf.TensorShape([2, 3])))
    run(table, p)

    p = Program("ta_gather_empty_unknown_shape", "TensorArrayGatherV3")
    h, f = ta(p, 0)
    p.op("TensorArrayGatherV3", handle=h, indices=_i32([]), flow_in=f, dtype=tf.float32,
         element_shape=tf.TensorShape(None))
    run(table, p)

    # scatter
    p = Program("ta_scatter_read", "TensorArrayScatterV3")
    h, f = ta(p, 4, element_shape=tf.TensorShape([2]), clear_after_read=False)
    f = p.op("TensorArrayScatterV3", handle=h, indices=_i32([2, 0, 3]), value=_f32((3, 2)), flow_in=f)
    p.get(read(p, h, 0, f), read(p, h, 1, f),
          p.op("TensorArrayGatherV3", handle=h, indices=_i32([0, 1, 2, 3]), flow_in=f, dtype=tf.float32,
               element_shape=tf.TensorShape([2])))
    run(table, p)

    for name, idx, value, size, dyn in [("len_mismatch", [0, 1], _f32((3, 2)), 4, False),
                                        ("max_index", [0, 4], _f32((2, 2)), 4, False),
                                        ("negative_index", [1, -1], _f32((2, 2)), 4, False),
                                        ("scalar_value", [0], np.float32(1), 4, False),
                                        ("duplicate_index", [1, 1], _f32((2, 2)), 4, False)]:
        p = Program(f"ta_scatter_{name}", "TensorArrayScatterV3")
        h, f = ta(p, size, dynamic_size=dyn)
        p.op("TensorArrayScatterV3", handle=h, indices=_i32(idx), value=value, flow_in=f)
        run(table, p)

    p = Program("ta_scatter_dynamic_grow", "TensorArrayScatterV3")
    h, f = ta(p, 1, dynamic_size=True)
    f = p.op("TensorArrayScatterV3", handle=h, indices=_i32([4, 1]), value=_f32((2, 3)), flow_in=f)
    p.get(p.op("TensorArraySizeV3", handle=h, flow_in=f), read(p, h, 4, f))
    run(table, p)

    # concat / split
    p = Program("ta_concat", "TensorArrayConcatV3")
    h, f = ta(p, 3)
    for i, rows in enumerate([2, 1, 0]):
        f = write(p, h, i, _f32((rows, 3), i), f)
    c = p.op("TensorArrayConcatV3", handle=h, flow_in=f, dtype=tf.float32,
             element_shape_except0=tf.TensorShape([3]))
    p.get(c[0], c[1])
    run(table, p)

    p = Program("ta_concat_inconsistent", "TensorArrayConcatV3")
    h, f = ta(p, 2)
    f = write(p, h, 0, _f32((2, 3)), f)
    f = write(p, h, 1, _f32((2, 4)), f)
    p.op("TensorArrayConcatV3", handle=h, flow_in=f, dtype=tf.float32, element_shape_except0=tf.TensorShape(None))
    run(table, p)

    p = Program("ta_concat_scalar", "TensorArrayConcatV3")
    h, f = ta(p, 1)
    f = write(p, h, 0, np.float32(2), f)
    p.op("TensorArrayConcatV3", handle=h, flow_in=f, dtype=tf.float32, element_shape_except0=tf.TensorShape(None))
    run(table, p)

    p = Program("ta_concat_empty", "TensorArrayConcatV3")
    h, f = ta(p, 0)
    c = p.op("TensorArrayConcatV3", handle=h, flow_in=f, dtype=tf.float32,
             element_shape_except0=tf.TensorShape([3]))
    p.get(c[0], c[1])
    run(table, p)

    p = Program("ta_concat_unwritten_known_shape", "TensorArrayConcatV3")
    h, f = ta(p, 2, element_shape=tf.TensorShape([2, 3]))
    f = write(p, h, 1, _f32((2, 3)), f)
    c = p.op("TensorArrayConcatV3", handle=h, flow_in=f, dtype=tf.float32,
             element_shape_except0=tf.TensorShape([3]))
    p.get(c[0], c[1])
    run(table, p)

    p = Program("ta_split", "TensorArraySplitV3")
    h, f = ta(p, 3, clear_after_read=False)
    f = p.op("TensorArraySplitV3", handle=h, value=_f32((5, 2)), lengths=_i64([2, 0, 3]), flow_in=f)
    c = p.op("TensorArrayConcatV3", handle=h, flow_in=f, dtype=tf.float32,
             element_shape_except0=tf.TensorShape(None))
    p.get(read(p, h, 0, f), read(p, h, 1, f), read(p, h, 2, f), c[0], c[1])
    run(table, p)

    for name, size, dyn, value, lengths in [("bad_sum", 2, False, _f32((5, 2)), [2, 2]),
                                            ("size_mismatch", 2, False, _f32((5, 2)), [1, 1, 3]),
                                            ("scalar_value", 1, False, np.float32(3), [1]),
                                            ("dynamic_too_big", 4, True, _f32((5, 2)), [2, 3])]:
        p = Program(f"ta_split_{name}", "TensorArraySplitV3")
        h, f = ta(p, size, dynamic_size=dyn)
        p.op("TensorArraySplitV3", handle=h, value=value, lengths=_i64(lengths), flow_in=f)
        run(table, p)

    p = Program("ta_split_dynamic_grow", "TensorArraySplitV3")
    h, f = ta(p, 0, dynamic_size=True)
    f = p.op("TensorArraySplitV3", handle=h, value=_f32((3,)), lengths=_i64([1, 2]), flow_in=f)
    p.get(p.op("TensorArraySizeV3", handle=h, flow_in=f), read(p, h, 1, f))
    run(table, p)

    # size / close
    p = Program("ta_close_then_read", "TensorArrayCloseV3")
    h, f = ta(p, 2)
    f = write(p, h, 0, _f32((2,)), f)
    p.op("TensorArrayCloseV3", handle=h)
    read(p, h, 0, f)
    run(table, p)

    p = Program("ta_close_then_size", "TensorArrayCloseV3")
    h, f = ta(p, 2)
    p.op("TensorArrayCloseV3", handle=h)
    p.op("TensorArraySizeV3", handle=h, flow_in=f)
    run(table, p)

    p = Program("ta_size_negative", "TensorArrayV3")
    ta(p, -1)
    run(table, p)

    # gradients
    p = Program("ta_grad_aggregate", "TensorArrayGradV3")
    h, f = ta(p, 3, element_shape=tf.TensorShape([2]))
    for i in range(3):
        f = write(p, h, i, _f32((2,), i), f)
    g = p.op("TensorArrayGradV3", handle=h, flow_in=f, source="gradients")
    gh, gf = g[0], g[1]
    gf = write(p, gh, 1, _f32((2,), 1.0), gf)
    gf = write(p, gh, 1, _f32((2,), 10.0), gf)
    gf = write(p, gh, 1, _f32((2,), 100.0), gf)
    g2 = p.op("TensorArrayGradV3", handle=h, flow_in=f, source="gradients")   # the same array again
    gathered = p.op("TensorArrayGatherV3", handle=g2[0], indices=_i32([0, 1, 2]), flow_in=gf,
                    dtype=tf.float32, element_shape=tf.TensorShape(None))
    p.get(gathered, p.op("TensorArraySizeV3", handle=gh, flow_in=gf))
    run(table, p)

    p = Program("ta_grad_read_twice", "TensorArrayGradV3")   # gradient arrays clear after read
    h, f = ta(p, 2, element_shape=tf.TensorShape([2]), clear_after_read=False)
    f = write(p, h, 0, _f32((2,)), f)
    g = p.op("TensorArrayGradV3", handle=h, flow_in=f, source="gradients")
    read(p, g[0], 0, g[1])
    read(p, g[0], 0, g[1])
    run(table, p)

    p = Program("ta_grad_unwritten_forward_shapes", "TensorArrayGradV3")
    h, f = ta(p, 3)   # element shape unknown: the grad knows only the written forward shapes
    f = write(p, h, 0, _f32((2, 2)), f)
    g = p.op("TensorArrayGradV3", handle=h, flow_in=f, source="gradients")
    p.get(read(p, g[0], 0, g[1]))
    read(p, g[0], 1, g[1])
    run(table, p)

    p = Program("ta_grad_read_past_size", "TensorArrayGradV3")
    h, f = ta(p, 2, element_shape=tf.TensorShape([3]))
    g = p.op("TensorArrayGradV3", handle=h, flow_in=f, source="gradients")
    r = read(p, g[0], 4, g[1])
    p.get(r, p.op("TensorArraySizeV3", handle=g[0], flow_in=g[1]))
    run(table, p)

    p = Program("ta_grad_aggregate_shape_mismatch", "TensorArrayGradV3")
    h, f = ta(p, 2)
    f = write(p, h, 0, _f32((2,)), f)
    g = p.op("TensorArrayGradV3", handle=h, flow_in=f, source="gradients")
    gf = write(p, g[0], 0, _f32((2,)), g[1])
    write(p, g[0], 0, _f32((3,)), gf)
    run(table, p)

    p = Program("ta_grad_stops_growth", "TensorArrayGradV3")
    h, f = ta(p, 1, dynamic_size=True)
    f = write(p, h, 0, _f32((2,)), f)
    g = p.op("TensorArrayGradV3", handle=h, flow_in=f, source="gradients")
    write(p, h, 1, _f32((2,)), g[1])
    run(table, p)

    p = Program("ta_grad_of_aggregated", "TensorArrayGradV3")
    h, f = ta(p, 1, element_shape=tf.TensorShape([2]))
    f = write(p, h, 0, _f32((2,)), f)
    g = p.op("TensorArrayGradV3", handle=h, flow_in=f, source="gradients")
    gf = write(p, g[0], 0, _f32((2,)), g[1])
    gf = write(p, g[0], 0, _f32((2,)), gf)
    p.op("TensorArrayGradV3", handle=g[0], flow_in=gf, source="gradients_1")
    run(table, p)

    p = Program("ta_grad_split_concat", "TensorArrayGradV3")   # split sets the grad's concat size
    h, f = ta(p, 2)
    f = p.op("TensorArraySplitV3", handle=h, value=_f32((3, 2)), lengths=_i64([1, 2]), flow_in=f)
    g = p.op("TensorArrayGradV3", handle=h, flow_in=f, source="gradients")
    gf = write(p, g[0], 1, _f32((2, 2), 7.0), g[1])
    c = p.op("TensorArrayConcatV3", handle=g[0], flow_in=gf, dtype=tf.float32,
             element_shape_except0=tf.TensorShape(None))
    p.get(c[0], c[1])
    run(table, p)

    p = Program("ta_grad_with_shape", "TensorArrayGradWithShape")
    h, f = ta(p, 2, element_shape=tf.TensorShape([2]))
    f = write(p, h, 0, _f32((2,)), f)
    g = p.op("TensorArrayGradWithShape", handle=h, flow_in=f, shape_to_prepend=_i32([3]), source="g")
    gf = write(p, g[0], 0, _f32((3, 2), 1.0), g[1])
    gf = write(p, g[0], 0, _f32((3, 2), 2.0), gf)
    p.get(read(p, g[0], 0, gf), read(p, g[0], 1, gf))
    run(table, p)


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
    from ops_collections_lists import list_cases
    table = OpTable("collections", only)
    tensor_array_cases(table)
    stack_cases(table)
    list_cases(table)
    table.write(out_dir)


if __name__ == "__main__":
    build(OUT, set(sys.argv[1:]) or None)
