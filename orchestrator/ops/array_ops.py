"""Sources and pass-through kernels: Const, Placeholder, Identity and friends, checks
(CheckNumerics, EnsureShape, Assert) and tf.Print.

Pass-through ops return their input object itself, as TF forwards the buffer: a
consumer of ``Identity(ref_variable)`` sees later in-place updates, like in TF.
``Snapshot`` is the one that copies — that is its purpose.

The shape, joining, slicing and indexing kernels of the array family live in
``shape_ops``, ``join_ops``, ``slicing_ops`` and ``index_ops``.
"""
from __future__ import annotations

import sys
import weakref
from typing import Any

import numpy as np

from orchestrator.dtypes import DType
from orchestrator.errors import InvalidArgumentError
from orchestrator.exec.state import KernelContext, Ref
from orchestrator.ops.array_util import shape_str
from orchestrator.ops.registry import kernel


# ------------------------------------------------------------------------- sources

@kernel("Const")
def const(*, value: np.ndarray, dtype: DType | None = None) -> np.ndarray:
    return value


@kernel("Placeholder", "PlaceholderV2", needs_ctx=True)
def placeholder(*, ctx: KernelContext, dtype: DType = DType.FLOAT, shape: Any = None) -> np.ndarray:
    """Reached only when the placeholder was not fed: TF's error, word for word."""
    message = (f"You must feed a value for placeholder tensor '{ctx.op_name}' with dtype "
               f"{dtype_string(dtype)}")
    if shape:   # TF leaves the shape out for scalars and unknown ranks
        message += f" and shape {shape_str(shape)}"
    raise InvalidArgumentError(message)


def dtype_string(dtype: DType) -> str:
    """TF's DataTypeString: ``float``, ``double``, ``int32``, ``half``, ``string`` ..."""
    return DType(dtype).name.lower()


# ------------------------------------------------------------------- pass-through

@kernel("Identity", "StopGradient", "GuaranteeConst")
def identity(x: Any) -> Any:
    return x


@kernel("PreventGradient")
def prevent_gradient(x: Any, *, message: bytes = b"") -> Any:
    return x


@kernel("PlaceholderWithDefault")
def placeholder_with_default(x: Any, *, dtype: DType | None = None, shape: Any = None) -> Any:
    return x


@kernel("RefIdentity", ref_inputs=(0,))
def ref_identity(ref: Ref) -> Ref:
    """Forwards the variable reference itself: consumers may assign through it."""
    return ref


@kernel("IdentityN", multi=True)
def identity_n(*xs: Any) -> tuple:
    return tuple(xs)


@kernel("Snapshot")
def snapshot(x: np.ndarray) -> np.ndarray:
    """A copy taken now: later in-place updates of a ref variable do not show through."""
    return np.array(x, copy=True)


# --------------------------------------------------------------------------- checks

@kernel("CheckNumerics", needs_ctx=True)
def check_numerics(x: np.ndarray, *, ctx: KernelContext | None = None, message: bytes = b"") -> np.ndarray:
    """InvalidArgumentError ``'<message> : Tensor had NaN values'`` (Inf, Inf and NaN) like TF."""
    finite = np.isfinite(x)
    if finite.all():
        return x
    has_nan = bool(np.isnan(x).any())
    has_inf = bool((~finite).sum() > np.isnan(x).sum())
    found = "Inf and NaN" if has_nan and has_inf else "NaN" if has_nan else "Inf"
    raise InvalidArgumentError(f"{message.decode(errors='replace')} : Tensor had {found} values"
                               f"{_node_suffix(ctx)}")


@kernel("CheckNumericsV2", needs_ctx=True)
def check_numerics_v2(x: np.ndarray, *, ctx: KernelContext | None = None,
                      message: bytes = b"") -> np.ndarray:
    """Like CheckNumerics, but tells -Inf from +Inf: ``'... Tensor had -Inf, +Inf, and NaN values'``."""
    if np.isfinite(x).all():
        return x
    found = [name for name, hit in (("-Inf", np.isneginf(x).any()), ("+Inf", np.isposinf(x).any()),
                                    ("NaN", np.isnan(x).any())) if hit]
    text = found[0] if len(found) == 1 else (
        " and ".join(found) if len(found) == 2 else f"{found[0]}, {found[1]}, and {found[2]}")
    raise InvalidArgumentError(f"{message.decode(errors='replace')} : Tensor had {text} values"
                               f"{_node_suffix(ctx)}")


@kernel("EnsureShape", needs_ctx=True)
def ensure_shape(x: np.ndarray, *, ctx: KernelContext | None = None, shape: Any = None) -> np.ndarray:
    if shape is None:   # unknown rank: anything goes
        return x
    actual = np.shape(x)
    if len(actual) != len(shape) or any(e is not None and e >= 0 and e != a
                                        for a, e in zip(actual, shape)):
        raise InvalidArgumentError(
            f"Shape of tensor {_input_name(ctx, 0)} {shape_str(actual)} is not compatible with "
            f"expected shape {shape_str(shape)}.{_node_suffix(ctx)}")
    return x


@kernel("Assert", needs_ctx=True, stateful=True)
def assert_(condition: np.ndarray, *data: Any, ctx: KernelContext | None = None,
            summarize: int = 3, T: Any = None) -> None:
    """Fails with TF's message: ``assertion failed: [<data 0>] [<data 1>] ...``, each data
    tensor printed as TF summarizes it (first ``summarize`` elements, nested brackets)."""
    condition = np.asarray(condition)
    if condition.size != 1:
        raise InvalidArgumentError(f"In[0] should be a scalar: {shape_str(condition.shape)}"
                                   f"{_node_suffix(ctx)}")
    if bool(condition.reshape(-1)[0]):
        return None
    parts = " ".join(f"[{summarize_value(np.asarray(d), summarize)}]" for d in data)
    raise InvalidArgumentError(f"assertion failed: {parts}{_node_suffix(ctx)}")


def _node_suffix(ctx: KernelContext | None) -> str:
    node = getattr(ctx, "node", None)
    name = getattr(node, "name", None)
    return f"\n\t [[node {name}]]" if name else ""


def _input_name(ctx: KernelContext | None, index: int) -> str:
    """The NodeDef's input string (``x``, ``op:1``) as TF names the tensor; ``input`` without a node."""
    node = getattr(ctx, "node", None)
    inputs = getattr(node, "inputs", None)
    if inputs and len(inputs) > index:
        return getattr(inputs[index], "name", "input").removesuffix(":0")
    return "input"


# ---------------------------------------------------------- TF's SummarizeValue

def summarize_value(x: np.ndarray, max_entries: int) -> str:
    """TF's ``Tensor::SummarizeValue`` (the non-v2 form Assert and Print use).

    The first ``max_entries`` elements (all when negative), each dimension in brackets
    without separators (``[[1 2][3 4]]``), ``...`` where elements were left out.
    """
    flat = x.reshape(-1)
    limit = flat.size if max_entries < 0 else min(max_entries, flat.size)
    items = [_element_str(v, x.dtype) for v in flat[:limit]]
    out: list[str] = []
    if x.ndim == 0:
        out.append(" ".join(items))
    else:
        _print_dim(0, x.shape, limit, items, [0], out)
    if flat.size > limit:
        out.append("...")
    return "".join(out)


def _print_dim(dim: int, shape: tuple, limit: int, items: list[str], pos: list[int],
               out: list[str]) -> None:
    # Mirrors TF's recursive PrintOneDim, including where it puts "..." and "]".
    if pos[0] >= limit:
        return
    if dim == len(shape) - 1:
        for i in range(shape[dim]):
            if pos[0] >= limit:
                if dim != 0:
                    out.append("...")
                return
            if i > 0:
                out.append(" ")
            out.append(items[pos[0]])
            pos[0] += 1
        return
    for _ in range(shape[dim]):
        opened = pos[0] < limit
        if opened:
            out.append("[")
        _print_dim(dim + 1, shape, limit, items, pos, out)
        if pos[0] < limit or opened:
            out.append("]")


def _element_str(value: Any, dtype: np.dtype) -> str:
    if dtype == object or dtype.kind == "S":
        return _c_escape(value if isinstance(value, bytes) else str(value).encode())
    if dtype.kind == "b":
        return "1" if value else "0"
    if dtype.kind in "iu":
        return str(int(value))
    if dtype == np.float64:
        return _shortest(float(value), "%.15g", "%.17g", np.float64)
    if dtype.kind == "c":
        return "?"   # TF has no printer for complex elements
    # float32, and half/bfloat16 which TF prints as float
    return _shortest(float(np.float32(value)), "%.6g", "%.9g", np.float32)


def _shortest(value: float, short: str, long: str, kind: type) -> str:
    """TF's FloatToBuffer/DoubleToBuffer: the short form if it reads back exactly, else the long."""
    text = short % value
    if np.isfinite(value) and kind(float(text)) != kind(value):
        text = long % value
    return text


_ESCAPES = {ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t", ord('"'): '\\"',
            ord("'"): "\\'", ord("\\"): "\\\\"}


def _c_escape(raw: bytes) -> str:
    """absl's Utf8SafeCEscape: C escapes, octal for other control bytes, UTF-8 kept."""
    out = bytearray()
    for b in raw:
        if b in _ESCAPES:
            out += _ESCAPES[b].encode()
        elif b < 0x80 and not 0x20 <= b < 0x7F:
            out += b"\\%03o" % b
        else:
            out.append(b)
    return out.decode("utf-8", errors="replace")


# ---------------------------------------------------------------------------- Print

_PRINT_COUNTS: "weakref.WeakKeyDictionary[Any, dict[str, int]]" = weakref.WeakKeyDictionary()


@kernel("Print", needs_ctx=True, stateful=True)
def print_(x: Any, *data: Any, ctx: KernelContext | None = None, message: bytes = b"",
           first_n: int = -1, summarize: int = 3) -> Any:
    """tf.Print (v1): forwards ``x`` and writes ``message[<data 0>][<data 1>]...`` to stderr,
    only on the first ``first_n`` runs of the op in a session when ``first_n >= 0``."""
    if first_n >= 0 and ctx is not None:
        counts = _PRINT_COUNTS.setdefault(ctx.state, {})
        seen = counts.get(ctx.op_name, 0)
        if seen >= first_n:
            return x
        counts[ctx.op_name] = seen + 1
    line = message.decode(errors="replace") + "".join(
        f"[{summarize_value(np.asarray(d), summarize)}]" for d in data)
    print(line, file=sys.stderr, flush=True)
    return x
