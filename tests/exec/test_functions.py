"""Function bodies (FunctionDef) built by hand: input naming, attr placeholders, nested calls."""
from __future__ import annotations

import numpy as np
import pytest

from orchestrator.dtypes import as_dtype
from orchestrator.errors import InvalidArgumentError, NotFoundError, UnimplementedError
from orchestrator.exec.session import Session
from orchestrator.graph.model import Graph
from orchestrator.protos import attr_value_pb2, function_pb2, graph_pb2

F32 = as_dtype(np.float32)


def split_and_scale() -> function_pb2.FunctionDef:
    """f(x: T) -> (first, total): Split x in two along axis 0 (``split:output:1`` naming),
    scale the second half by a constant of dtype $T, and add the halves."""
    fdef = function_pb2.FunctionDef()
    fdef.signature.name = "split_and_scale"
    fdef.signature.input_arg.add(name="x", type_attr="T")
    fdef.signature.output_arg.add(name="first", type_attr="T")
    fdef.signature.output_arg.add(name="total", type_attr="T")
    fdef.signature.attr.add(name="T", type="type")
    axis = fdef.node_def.add(name="axis", op="Const")
    axis.attr["dtype"].type = as_dtype(np.int32).value
    axis.attr["value"].tensor.dtype = as_dtype(np.int32).value
    axis.attr["value"].tensor.int_val.append(0)
    split = fdef.node_def.add(name="split", op="Split", input=["axis:output:0", "x"])
    split.attr["T"].placeholder = "T"
    split.attr["num_split"].i = 2
    three = fdef.node_def.add(name="three", op="Const")
    three.attr["dtype"].placeholder = "T"
    three.attr["value"].tensor.dtype = F32.value
    three.attr["value"].tensor.float_val.append(3.0)
    scaled = fdef.node_def.add(name="scaled", op="Mul", input=["split:output:1", "three:output:0"])
    scaled.attr["T"].placeholder = "T"
    total = fdef.node_def.add(name="total", op="AddV2", input=["split:output:0", "scaled:z:0"])
    total.attr["T"].placeholder = "T"
    fdef.ret["first"] = "split:output:0"
    fdef.ret["total"] = "total:z:0"
    return fdef


def calls_split_and_scale() -> function_pb2.FunctionDef:
    """g(y) -> split_and_scale(y).total + 0, calling the other function by op name."""
    fdef = function_pb2.FunctionDef()
    fdef.signature.name = "outer"
    fdef.signature.input_arg.add(name="y", type=F32.value)
    fdef.signature.output_arg.add(name="out", type=F32.value)
    inner = fdef.node_def.add(name="inner", op="split_and_scale", input=["y"])
    inner.attr["T"].type = F32.value
    fdef.ret["out"] = "inner:total:0"
    return fdef


def graph_calling(function: str, tout: int) -> tuple[Graph, object]:
    g = Graph()
    library = graph_pb2.GraphDef().library
    library.function.add().CopyFrom(split_and_scale())
    library.function.add().CopyFrom(calls_split_and_scale())
    g._add_functions(library, "test")
    x = g.create_op("Placeholder", [], attrs={"dtype": F32, "shape": (4,)}, name="x").outputs[0]
    f = attr_value_pb2.NameAttrList(name=function)
    if function == "split_and_scale":
        f.attr["T"].type = F32.value
    call = g.create_op("PartitionedCall", [[x]], attrs={"Tin": [F32], "Tout": [F32] * tout, "f": f}, name="call")
    return g, call


def test_output_arg_naming_and_attr_placeholders() -> None:
    g, call = graph_calling("split_and_scale", 2)
    first, total = Session(g).run(list(call.outputs), {"x:0": np.array([1, 2, 3, 4], np.float32)})
    assert first.tolist() == [1.0, 2.0] and total.tolist() == [10.0, 14.0]
    assert first.dtype == np.float32


def test_function_called_by_op_name_inside_a_body() -> None:
    g, call = graph_calling("outer", 1)
    (out,) = Session(g).run(list(call.outputs), {"x:0": np.array([1, 2, 3, 4], np.float32)})
    assert out.tolist() == [10.0, 14.0]


def test_missing_function_and_kernels_inside_bodies_are_refused_up_front() -> None:
    g, call = graph_calling("split_and_scale", 2)
    g.function_library["split_and_scale"].node_def[3].op = "DecodeJpeg"   # a body op without a kernel
    sess = Session(g)
    assert sess.unsupported_ops() == {"DecodeJpeg": ["split_and_scale/scaled"]}
    with pytest.raises(UnimplementedError, match="split_and_scale/scaled"):
        sess.run(call.outputs[0], {"x:0": np.ones(4, np.float32)})
    g2, call2 = graph_calling("split_and_scale", 2)
    del g2.function_library["split_and_scale"]
    with pytest.raises(UnimplementedError, match="function split_and_scale"):
        Session(g2).run(call2.outputs[0], {"x:0": np.ones(4, np.float32)})


def test_body_errors_name_the_function_node() -> None:
    g, _ = graph_calling("split_and_scale", 2)
    runtime = Session(g)._functions
    float_type = {"T": attr_value_pb2.AttrValue(type=F32.value)}
    with pytest.raises(InvalidArgumentError, match="split_and_scale/split"):
        runtime.call("split_and_scale", [np.ones(3, np.float32)], float_type)   # 3 rows do not split in two
    with pytest.raises(InvalidArgumentError, match="takes 1 argument"):
        runtime.call("split_and_scale", [], float_type)
    with pytest.raises(NotFoundError, match="no_such_function"):
        runtime.call("no_such_function", [])
