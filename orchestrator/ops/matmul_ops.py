"""MatMul, SparseMatMul, BatchMatMul/V2/V3 and Einsum.

``MatMul`` takes two matrices; ``BatchMatMul`` (v1) needs equal batch dimensions,
``V2``/``V3`` broadcast them (numpy's matmul rule). ``adj_x``/``adj_y`` transpose the
last two dimensions (the inputs are real, so the adjoint is the transpose). ``V3`` may mix
input types (int8 x int8 -> int32): inputs are converted to ``Tout`` before multiplying.

float16/bfloat16 products accumulate in float32 and round once, as TF's CPU kernels do
for those types; float32 goes to numpy's BLAS, whose blocking differs from Eigen's
contraction by a few ulps on long inner dimensions.
"""
from __future__ import annotations

import numpy as np

from orchestrator.dtypes import DType
from orchestrator.errors import InvalidArgumentError
from orchestrator.ops.math_ops import NARROW_FLOATS, as_array, shape_str
from orchestrator.ops.registry import kernel

def _product(a: np.ndarray, b: np.ndarray, out_dtype: np.dtype) -> np.ndarray:
    if out_dtype in NARROW_FLOATS:
        return np.matmul(a.astype(np.float32), b.astype(np.float32)).astype(out_dtype)
    if a.dtype != out_dtype or b.dtype != out_dtype:
        a, b = a.astype(out_dtype), b.astype(out_dtype)
    return np.matmul(a, b)


def _check_inner(op: str, x: np.ndarray, y: np.ndarray, x_inner: int, y_inner: int) -> None:
    if x_inner != y_inner:
        raise InvalidArgumentError(f"{op}: Matrix size-incompatible: In[0]: {shape_str(x.shape)}, "
                                   f"In[1]: {shape_str(y.shape)}")


def _mat_mul(op: str, a: np.ndarray, b: np.ndarray, transpose_a: bool, transpose_b: bool,
             out_dtype: np.dtype) -> np.ndarray:
    if a.ndim != 2 or b.ndim != 2:
        raise InvalidArgumentError(f"{op}: In[0] and In[1] must be matrices, found shapes "
                                   f"{shape_str(a.shape)} and {shape_str(b.shape)}")
    # BLAS picks kernels by memory layout, and with them the rounding: fix the layout so a
    # product does not depend on whether the producer handed over a view or a copy.
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    lhs = a.T if transpose_a else a
    rhs = b.T if transpose_b else b
    if lhs.shape[1] != rhs.shape[0]:
        _check_inner(op, a, b, lhs.shape[1], rhs.shape[0])
    if a.dtype is out_dtype and b.dtype is out_dtype and out_dtype not in NARROW_FLOATS:
        return np.matmul(lhs, rhs)          # the common case, without _product's conversions
    return as_array(_product(lhs, rhs, out_dtype))


@kernel("MatMul")
def mat_mul(a: np.ndarray, b: np.ndarray, *, transpose_a: bool = False,
            transpose_b: bool = False) -> np.ndarray:
    return _mat_mul("MatMul", a, b, transpose_a, transpose_b, a.dtype)


@kernel("SparseMatMul")
def sparse_mat_mul(a: np.ndarray, b: np.ndarray, *, transpose_a: bool = False, transpose_b: bool = False,
                   a_is_sparse: bool = False, b_is_sparse: bool = False) -> np.ndarray:
    """MatMul for float32/bfloat16 operands with a float32 result; the sparsity flags are
    hints for TF's kernel and do not change the product."""
    return _mat_mul("SparseMatMul", a, b, transpose_a, transpose_b, np.dtype(np.float32))


def _batch_mat_mul(op: str, x: np.ndarray, y: np.ndarray, adj_x: bool, adj_y: bool,
                   out_dtype: np.dtype, broadcast: bool) -> np.ndarray:
    if x.ndim < 2 or y.ndim < 2:
        raise InvalidArgumentError(f"{op}: In[0] and In[1] must have rank >= 2, found "
                                   f"{shape_str(x.shape)} and {shape_str(y.shape)}")
    if not broadcast:
        if x.ndim != y.ndim:
            raise InvalidArgumentError(f"{op}: In[0] and In[1] has different ndims: "
                                       f"{shape_str(x.shape)} vs. {shape_str(y.shape)}")
        if x.shape[:-2] != y.shape[:-2]:
            raise InvalidArgumentError(f"{op}: In[0] and In[1] must have the same batch dimensions, "
                                       f"found {shape_str(x.shape)} and {shape_str(y.shape)}")
    x, y = np.ascontiguousarray(x), np.ascontiguousarray(y)     # layout fixes BLAS rounding
    lhs = np.swapaxes(x, -1, -2) if adj_x else x
    rhs = np.swapaxes(y, -1, -2) if adj_y else y
    _check_inner(op, x, y, lhs.shape[-1], rhs.shape[-2])
    try:
        np.broadcast_shapes(x.shape[:-2], y.shape[:-2])
    except ValueError:
        raise InvalidArgumentError(f"{op}: In[0] and In[1] must have compatible batch dimensions: "
                                   f"{shape_str(x.shape)} vs. {shape_str(y.shape)}") from None
    return as_array(_product(lhs, rhs, out_dtype))


@kernel("BatchMatMul")
def batch_mat_mul(x: np.ndarray, y: np.ndarray, *, adj_x: bool = False, adj_y: bool = False) -> np.ndarray:
    return _batch_mat_mul("BatchMatMul", x, y, adj_x, adj_y, x.dtype, broadcast=False)


@kernel("BatchMatMulV2")
def batch_mat_mul_v2(x: np.ndarray, y: np.ndarray, *, adj_x: bool = False, adj_y: bool = False) -> np.ndarray:
    return _batch_mat_mul("BatchMatMulV2", x, y, adj_x, adj_y, x.dtype, broadcast=True)


@kernel("BatchMatMulV3")
def batch_mat_mul_v3(x: np.ndarray, y: np.ndarray, *, Tout: DType | None = None,  # noqa: N803 (TF attr)
                     adj_x: bool = False, adj_y: bool = False) -> np.ndarray:
    out_dtype = Tout.numpy if Tout is not None else x.dtype
    return _batch_mat_mul("BatchMatMulV3", x, y, adj_x, adj_y, out_dtype, broadcast=True)


# numpy's einsum without a contraction path loops in C; with one it hands big products to
# BLAS but spends ~50 us planning. Plan only when the operands are big enough to pay.
_EINSUM_PLAN_MIN_ELEMENTS = 16384


@kernel("Einsum")
def einsum(*inputs: np.ndarray, equation: bytes = b"") -> np.ndarray:
    """TF's equation syntax (letters, ``...`` broadcasting, ``->``) is numpy's."""
    text = equation.decode() if isinstance(equation, bytes) else str(equation)
    out_dtype = inputs[0].dtype if inputs else np.dtype(np.float32)
    work = np.float32 if out_dtype in NARROW_FLOATS else None
    # C layout (einsum's BLAS path rounds by layout); ascontiguousarray would make 0-d 1-d.
    operands = [np.ascontiguousarray(a, work) if a.ndim else np.asarray(a, work) for a in inputs]
    plan = sum(a.size for a in operands) >= _EINSUM_PLAN_MIN_ELEMENTS and len(operands) > 1
    try:
        result = np.einsum(text, *operands, optimize=plan)
    except ValueError as err:
        shapes = ", ".join(shape_str(a.shape) for a in inputs)
        raise InvalidArgumentError(f"Einsum: equation {text!r} does not fit the inputs {shapes}: {err}") from None
    return as_array(result).astype(out_dtype, copy=False)
