"""The ``TensorArray*V2`` kernels: graphs written before TF 1.2 (GraphDef producer < 26).

They run TF's TensorArray kernels unchanged (TF registers one kernel class per pair of
V2/V3 names), so here each V2 op calls its V3 twin of :mod:`tensor_array_ops`. What
differs is the signature:

* ``TensorArrayV2`` outputs only the handle (no flow; the graph feeds a constant float as
  the first ``flow_in``) and has no ``identical_element_shapes`` attr;
* ``TensorArrayGradV2`` outputs only the gradient array's handle;
* TF's V2 handle is a ``string`` vector ``[container, name]``; here it is the same
  :class:`StepResourceHandle` the V3 ops pass, which carries the array (the string names
  in TF only serve to find the array in the step's resource manager).

Errors name the V2 op: the V3 code's message is re-headed when it propagates, so the V3
kernels (which v1 ``dynamic_rnn`` loops call hundreds of times a step) keep their single
frame.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from orchestrator.dtypes import DType
from orchestrator.errors import OrchestratorError
from orchestrator.exec.state import KernelContext
from orchestrator.ops import tensor_array_ops as v3
from orchestrator.ops.collection_ops import StepResourceHandle
from orchestrator.ops.registry import kernel


def _as_v2(op_v2: str, fn: Callable, *args: Any, **attrs: Any) -> Any:
    """Call the V3 kernel ``fn``; an error it raises is re-raised naming ``op_v2``."""
    try:
        return fn(*args, **attrs)
    except OrchestratorError as exc:
        op_v3 = op_v2[:-1] + "3"
        message = str(exc)
        if not message.startswith(op_v3):
            raise
        raise type(exc)(op_v2 + message[len(op_v3):]) from None


@kernel("TensorArrayV2", needs_ctx=True, stateful=True)
def tensor_array_v2(size: Any, *, ctx: KernelContext, dtype: DType = DType.FLOAT,
                    element_shape: Any = None, dynamic_size: bool = False, clear_after_read: bool = True,
                    tensor_array_name: bytes = b"") -> StepResourceHandle:
    handle, _flow = _as_v2("TensorArrayV2", v3.tensor_array_v3, size, ctx=ctx, dtype=dtype,
                           element_shape=element_shape, dynamic_size=dynamic_size,
                           clear_after_read=clear_after_read, tensor_array_name=tensor_array_name)
    return handle


@kernel("TensorArrayGradV2", stateful=True)
def tensor_array_grad_v2(handle: Any, flow_in: Any, *, source: bytes = b"") -> StepResourceHandle:
    grad_handle, _flow = _as_v2("TensorArrayGradV2", v3.tensor_array_grad_v3, handle, flow_in, source=source)
    return grad_handle


@kernel("TensorArrayWriteV2", stateful=True)
def tensor_array_write_v2(handle: Any, index: Any, value: Any, flow_in: Any) -> np.ndarray:
    return _as_v2("TensorArrayWriteV2", v3.tensor_array_write_v3, handle, index, value, flow_in)


@kernel("TensorArrayReadV2", stateful=True)
def tensor_array_read_v2(handle: Any, index: Any, flow_in: Any, *, dtype: DType = DType.FLOAT) -> np.ndarray:
    return _as_v2("TensorArrayReadV2", v3.tensor_array_read_v3, handle, index, flow_in, dtype=dtype)


@kernel("TensorArrayGatherV2", stateful=True)
def tensor_array_gather_v2(handle: Any, indices: Any, flow_in: Any, *, dtype: DType = DType.FLOAT,
                           element_shape: Any = None) -> np.ndarray:
    return _as_v2("TensorArrayGatherV2", v3.tensor_array_gather_v3, handle, indices, flow_in, dtype=dtype,
                  element_shape=element_shape)


@kernel("TensorArrayScatterV2", stateful=True)
def tensor_array_scatter_v2(handle: Any, indices: Any, value: Any, flow_in: Any) -> np.ndarray:
    return _as_v2("TensorArrayScatterV2", v3.tensor_array_scatter_v3, handle, indices, value, flow_in)


@kernel("TensorArrayConcatV2", multi=True, stateful=True)
def tensor_array_concat_v2(handle: Any, flow_in: Any, *, dtype: DType = DType.FLOAT,
                           element_shape_except0: Any = None) -> tuple[np.ndarray, np.ndarray]:
    return _as_v2("TensorArrayConcatV2", v3.tensor_array_concat_v3, handle, flow_in, dtype=dtype,
                  element_shape_except0=element_shape_except0)


@kernel("TensorArraySplitV2", stateful=True)
def tensor_array_split_v2(handle: Any, value: Any, lengths: Any, flow_in: Any) -> np.ndarray:
    return _as_v2("TensorArraySplitV2", v3.tensor_array_split_v3, handle, value, lengths, flow_in)


@kernel("TensorArraySizeV2", stateful=True)
def tensor_array_size_v2(handle: Any, flow_in: Any) -> np.ndarray:
    return _as_v2("TensorArraySizeV2", v3.tensor_array_size_v3, handle, flow_in)


@kernel("TensorArrayCloseV2", stateful=True)
def tensor_array_close_v2(handle: Any) -> None:
    _as_v2("TensorArrayCloseV2", v3.tensor_array_close_v3, handle)
