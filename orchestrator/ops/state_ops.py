"""Variable kernels: ref variables (``VariableV2``, ``Assign*``, ``Scatter*``) and
resource variables (``VarHandleOp``, ``ReadVariableOp``, ``AssignVariableOp``, ``Resource*``).

The two kinds differ in how an update is seen, and the kernels keep TF's difference:

* ref kernels mutate ``Ref.value`` in place, so every tensor aliasing the variable
  (the ``VariableV2`` output fed to a consumer earlier in the step) sees the update;
* resource kernels write into ``Ref.mutable()``: the stored array itself when nothing
  else references it, else a fresh copy (copy-on-write, as TF's resource variables), so a
  value read earlier in the step (``ReadVariableOp``) keeps the old contents.

Scatter kernels apply duplicate indices one after another (``np.add.at`` and friends),
which is what TF's CPU kernels do.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from orchestrator.dtypes import DType
from orchestrator.errors import FailedPreconditionError, InvalidArgumentError
from orchestrator.exec.state import KernelContext, Ref, ResourceHandle
from orchestrator.ops.array_util import indices_in_range
from orchestrator.ops.jit import lazy_njit
from orchestrator.ops.registry import kernel

_BOOL_TRUE = np.array(True)
_BOOL_FALSE = np.array(False)


def _np_dtype(dtype: Any) -> np.dtype | None:
    if dtype is None:
        return None
    return dtype.numpy if isinstance(dtype, DType) else np.dtype(dtype)


def _known_shape(shape: Any) -> tuple | None:
    """A fully defined shape tuple, or None when the rank or a dimension is unknown."""
    if shape is None or any(d is None or d < 0 for d in shape):
        return None
    return tuple(int(d) for d in shape)


def as_handle(value: Any) -> ResourceHandle:
    """A ResourceHandle from a kernel input (the handle itself or a 0-d object array of it)."""
    if isinstance(value, ResourceHandle):
        return value
    if isinstance(value, np.ndarray) and value.dtype == object and value.size == 1:
        item = value.reshape(-1)[0]
        if isinstance(item, ResourceHandle):
            return item
    raise InvalidArgumentError(f"expected a resource handle input, found {type(value).__name__}")


def resource_ref(ctx: KernelContext, handle: Any) -> Ref:
    """The Ref behind a handle input; FailedPrecondition naming the variable when missing."""
    return ctx.state.resource_variable(as_handle(handle))


def _check_same_shape(op: str, name: str, old: np.ndarray, new: np.ndarray) -> None:
    if old.shape != new.shape:
        raise InvalidArgumentError(
            f"{op} on {name}: value shape {list(new.shape)} does not match the variable's "
            f"shape {list(old.shape)}")


# ------------------------------------------------------------------ ref variables

@kernel("VariableV2", "Variable", needs_ctx=True, stateful=True)
def variable_v2(*, ctx: KernelContext, shape: Any = None, dtype: DType | None = None) -> Ref:
    """One Ref per op per session; uninitialized until an Assign or a restore fills it."""
    return ctx.state.ref_variable(ctx.op_name, _np_dtype(dtype), _known_shape(shape))


@kernel("TemporaryVariable", needs_ctx=True, stateful=True)
def temporary_variable(*, ctx: KernelContext, shape: Any = None, dtype: DType | None = None,
                       var_name: bytes = b"") -> Ref:
    name = var_name.decode() if var_name else ctx.op_name
    ref = ctx.state.ref_variable("__tmp__/" + name, _np_dtype(dtype), _known_shape(shape))
    known = _known_shape(shape)
    if ref.value is None and known is not None:
        ref.set(np.zeros(known, dtype=_np_dtype(dtype)))   # TF leaves it unset; zeros are a valid choice
    return ref


@kernel("DestroyTemporaryVariable", ref_inputs=(0,), needs_ctx=True, stateful=True)
def destroy_temporary_variable(ref: Ref, *, ctx: KernelContext, var_name: bytes = b"") -> np.ndarray:
    value = ref.get()
    ctx.state.ref_variables.pop(ref.name, None)
    return value


@kernel("Assign", ref_inputs=(0,), stateful=True)
def assign(ref: Ref, value: Any, *, validate_shape: bool = True, use_locking: bool = True) -> Ref:
    value = np.asarray(value)
    dtype = ref.dtype if ref.dtype is not None else value.dtype
    old = ref.value
    if old is not None and old.shape == value.shape and old.flags.writeable:
        np.copyto(old, value, casting="unsafe")
        return ref
    if validate_shape:
        expected = old.shape if old is not None else ref.shape
        if expected is not None and tuple(expected) != value.shape:
            raise InvalidArgumentError(
                f"Assign to {ref.name}: value shape {list(value.shape)} does not match the "
                f"variable's shape {list(expected)} (validate_shape=True)")
    ref.set(np.array(value, dtype=dtype, copy=True))
    return ref


@kernel("AssignAdd", ref_inputs=(0,), stateful=True)
def assign_add(ref: Ref, value: Any, *, use_locking: bool = False) -> Ref:
    current = ref.get()
    value = np.asarray(value)
    _check_same_shape("AssignAdd", ref.name, current, value)
    np.add(current, value, out=current, casting="unsafe")
    return ref


@kernel("AssignSub", ref_inputs=(0,), stateful=True)
def assign_sub(ref: Ref, value: Any, *, use_locking: bool = False) -> Ref:
    current = ref.get()
    value = np.asarray(value)
    _check_same_shape("AssignSub", ref.name, current, value)
    np.subtract(current, value, out=current, casting="unsafe")
    return ref


@kernel("IsVariableInitialized", ref_inputs=(0,))
def is_variable_initialized(ref: Ref, *, dtype: DType | None = None) -> np.ndarray:
    return _BOOL_TRUE if ref.initialized else _BOOL_FALSE


# ---------------------------------------------------------------- scatter helpers

def _check_indices(op: str, name: str, indices: np.ndarray, limit: int) -> None:
    if not indices_in_range(indices, limit):
        flat = indices.reshape(-1)
        bad = int(np.nonzero((flat < 0) | (flat >= limit))[0][0])
        raise InvalidArgumentError(
            f"{op} on {name}: indices[{bad}] = {int(flat[bad])} is not in [0, {limit})")


def _scatter_updates(op: str, name: str, var: np.ndarray, indices: np.ndarray,
                     updates: Any) -> np.ndarray:
    """Check shapes (updates = indices.shape + var.shape[1:], or a scalar) and indices."""
    updates = np.asarray(updates)
    if var.ndim == 0:
        raise InvalidArgumentError(f"{op} on {name}: the variable must be at least 1-D, found a scalar")
    if updates.ndim and updates.shape != indices.shape + var.shape[1:]:
        raise InvalidArgumentError(
            f"{op} on {name}: updates shape {list(updates.shape)} must be indices.shape + "
            f"var.shape[1:] = {list(indices.shape + var.shape[1:])}")
    _check_indices(op, name, indices, var.shape[0])
    return updates


def _apply_scatter(mode: str, target: np.ndarray, index: Any, updates: np.ndarray) -> None:
    """Apply ``updates`` at ``index`` of ``target`` in place; duplicates applied in order.

    ``index`` is an integer array over axis 0 (Scatter*) or a tuple of arrays, one per
    leading axis (ScatterNd*).
    """
    if mode == "update":
        target[index] = updates
    elif mode == "div" and target.dtype.kind in "iu":
        _int_div_at(target, index, updates)
    elif not (mode in ("add", "sub") and _rows_in_place(target, index, updates, mode == "sub")):
        _UFUNC_AT[mode](target, index, updates.astype(target.dtype, copy=False))


_ROW_LOOP_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _rows_in_place(target: np.ndarray, index: Any, updates: np.ndarray, subtract: bool) -> bool:
    """ScatterAdd/Sub over axis 0 as one compiled loop (np.add.at is ~100x slower per element:
    an embedding table's sparse update by thousands of ids). The same additions in the same
    order (index after index, C order), so the same bits; False when not applicable."""
    if (type(index) is not np.ndarray or index.dtype.kind != "i" or target.dtype not in _ROW_LOOP_DTYPES
            or updates.dtype is not target.dtype or not target.ndim or not target.flags.c_contiguous
            or not updates.flags.c_contiguous or updates.shape != index.shape + target.shape[1:]
            or not target.size or np.may_share_memory(target, updates)):
        return False
    _scatter_rows_loop(target, index.reshape(-1), updates, subtract)
    return True


@lazy_njit
def _scatter_rows_loop(target_io, indices, updates_in, subtract):
    rows = target_io.shape[0]
    inner = target_io.size // rows
    target, updates = target_io.reshape(-1), updates_in.reshape(-1)
    for k in range(indices.size):
        base = indices[k] * inner
        for j in range(inner):
            if subtract:
                target[base + j] = target[base + j] - updates[k * inner + j]
            else:
                target[base + j] = target[base + j] + updates[k * inner + j]


def _int_div_at(target: np.ndarray, index: Any, updates: np.ndarray) -> None:
    """Integer ScatterDiv: C++ division truncates toward zero (numpy floors), one row at a time."""
    if isinstance(index, tuple):
        positions = list(zip(*(np.asarray(i).reshape(-1).tolist() for i in index)))
        row_shape = target.shape[len(index):]
    else:
        positions = np.asarray(index).reshape(-1).tolist()
        row_shape = target.shape[1:]
    rows = np.broadcast_to(updates, (len(positions),) + row_shape) if updates.ndim == 0 \
        else updates.reshape((len(positions),) + row_shape)
    for pos, divisor in zip(positions, rows):
        if np.any(divisor == 0):
            raise InvalidArgumentError("ScatterDiv: integer division by zero")
        a = target[pos]
        q = np.floor_divide(a, divisor)
        q = q + ((np.remainder(a, divisor) != 0) & ((a < 0) != (divisor < 0))).astype(q.dtype)
        target[pos] = q


_UFUNC_AT = {
    "add": np.add.at, "sub": np.subtract.at, "mul": np.multiply.at,
    "div": np.divide.at, "max": np.maximum.at, "min": np.minimum.at,
}

_MODES = {"Update": "update", "Add": "add", "Sub": "sub", "Mul": "mul", "Div": "div",
          "Max": "max", "Min": "min"}


def _register_ref_scatter(suffix: str, mode: str) -> None:
    op = "Scatter" + suffix

    @kernel(op, ref_inputs=(0,), stateful=True)
    def scatter(ref: Ref, indices: Any, updates: Any, *, use_locking: bool = True) -> Ref:
        var = ref.get()
        indices = np.asarray(indices)
        updates = _scatter_updates(op, ref.name, var, indices, updates)
        _apply_scatter(mode, var, indices, updates)
        return ref

    scatter.__name__ = scatter.__qualname__ = "scatter_" + mode


def _register_resource_scatter(suffix: str, mode: str) -> None:
    op = "ResourceScatter" + suffix

    @kernel(op, needs_ctx=True, stateful=True)
    def resource_scatter(handle: Any, indices: Any, updates: Any, *, ctx: KernelContext,
                         dtype: DType | None = None) -> None:
        ref = resource_ref(ctx, handle)
        indices = np.asarray(indices)
        updates = _scatter_updates(op, ref.name, ref.get(), indices, updates)   # every check first
        _apply_scatter(mode, ref.mutable(), indices, updates)                   # copy-on-write

    resource_scatter.__name__ = resource_scatter.__qualname__ = "resource_scatter_" + mode


for _suffix, _mode in _MODES.items():
    _register_ref_scatter(_suffix, _mode)
    _register_resource_scatter(_suffix, _mode)


def _nd_index(op: str, name: str, var: np.ndarray, indices: Any, updates: Any
              ) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    indices = np.asarray(indices)
    updates = np.asarray(updates)
    if indices.ndim < 1:
        raise InvalidArgumentError(f"{op} on {name}: indices must be at least 1-D, found a scalar")
    depth = indices.shape[-1]
    if depth > var.ndim:
        raise InvalidArgumentError(
            f"{op} on {name}: indices.shape[-1] = {depth} exceeds the variable's rank {var.ndim}")
    expected = indices.shape[:-1] + var.shape[depth:]
    if updates.shape != expected:
        raise InvalidArgumentError(
            f"{op} on {name}: updates shape {list(updates.shape)} must be "
            f"indices.shape[:-1] + var.shape[indices.shape[-1]:] = {list(expected)}")
    for k in range(depth):
        col = indices[..., k]
        if col.size and (col.min() < 0 or col.max() >= var.shape[k]):
            bad = np.argwhere((col < 0) | (col >= var.shape[k]))[0]
            raise InvalidArgumentError(
                f"{op} on {name}: indices{list(bad)} = {indices[tuple(bad)].tolist()} does not "
                f"index into shape {list(var.shape)}")
    return tuple(indices[..., k] for k in range(depth)), updates


def _register_nd(suffix: str, mode: str) -> None:
    op = "ScatterNd" + suffix
    rop = "ResourceScatterNd" + suffix

    @kernel(op, ref_inputs=(0,), stateful=True)
    def scatter_nd(ref: Ref, indices: Any, updates: Any, *, use_locking: bool = True) -> Ref:
        var = ref.get()
        index, updates = _nd_index(op, ref.name, var, indices, updates)
        _apply_scatter(mode, var, index, updates)
        return ref

    @kernel(rop, needs_ctx=True, stateful=True)
    def resource_scatter_nd(handle: Any, indices: Any, updates: Any, *, ctx: KernelContext,
                            use_locking: bool = True) -> None:
        ref = resource_ref(ctx, handle)
        index, updates = _nd_index(rop, ref.name, ref.get(), indices, updates)   # every check first
        _apply_scatter(mode, ref.mutable(), index, updates)                      # copy-on-write


for _suffix in ("Update", "Add", "Sub"):
    _register_nd(_suffix, _MODES[_suffix])


# -------------------------------------------------------------- resource variables

@kernel("VarHandleOp", needs_ctx=True, stateful=True)
def var_handle_op(*, ctx: KernelContext, container: bytes = b"", shared_name: bytes = b"",
                  dtype: DType | None = None, shape: Any = None) -> ResourceHandle:
    name = shared_name.decode() if shared_name else ctx.op_name
    return ResourceHandle(container.decode(), name, _np_dtype(dtype), _known_shape(shape))


@kernel("ReadVariableOp", needs_ctx=True)
def read_variable_op(handle: Any, *, ctx: KernelContext, dtype: DType | None = None) -> np.ndarray:
    # Safe to hand out the stored array: resource updates replace it, never write into it.
    return resource_ref(ctx, handle).get()


@kernel("AssignVariableOp", needs_ctx=True, stateful=True)
def assign_variable_op(handle: Any, value: Any, *, ctx: KernelContext, dtype: DType | None = None,
                       validate_shape: bool = False) -> None:
    h = as_handle(handle)
    ref = ctx.state.resource_variable(h, create=True)
    want = _np_dtype(dtype) or h.dtype
    value = np.array(value, dtype=want, copy=True)   # the caller may own and later change `value`
    if validate_shape and ref.value is not None:
        _check_same_shape("AssignVariableOp", ref.name, ref.value, value)
    ref.set(value)


def _assign_update(op: str, fn: Any) -> None:
    @kernel(op, needs_ctx=True, stateful=True)
    def assign_update(handle: Any, value: Any, *, ctx: KernelContext,
                      dtype: DType | None = None) -> None:
        ref = resource_ref(ctx, handle)
        current = ref.get()
        value = np.asarray(value)
        _check_same_shape(op, ref.name, current, value)
        ref.set(fn(current, value, dtype=current.dtype))

    assign_update.__name__ = assign_update.__qualname__ = op


_assign_update("AssignAddVariableOp", np.add)
_assign_update("AssignSubVariableOp", np.subtract)


@kernel("VarIsInitializedOp", needs_ctx=True)
def var_is_initialized_op(handle: Any, *, ctx: KernelContext) -> np.ndarray:
    ref = ctx.state.resources.get(as_handle(handle).key)
    return _BOOL_TRUE if isinstance(ref, Ref) and ref.initialized else _BOOL_FALSE


@kernel("DestroyResourceOp", needs_ctx=True, stateful=True)
def destroy_resource_op(handle: Any, *, ctx: KernelContext, ignore_lookup_error: bool = True) -> None:
    h = as_handle(handle)
    if ctx.state.resources.pop(h.key, None) is None and not ignore_lookup_error:
        raise FailedPreconditionError(f"DestroyResourceOp: resource {h.shared_name!r} does not exist")


@kernel("VariableShape", needs_ctx=True)
def variable_shape(handle: Any, *, ctx: KernelContext, out_type: DType = DType.INT32) -> np.ndarray:
    return np.array(resource_ref(ctx, handle).get().shape, dtype=out_type.numpy)


@kernel("ResourceGather", needs_ctx=True)
def resource_gather(handle: Any, indices: Any, *, ctx: KernelContext, batch_dims: int = 0,
                    validate_indices: bool = True, dtype: DType | None = None) -> np.ndarray:
    ref = resource_ref(ctx, handle)
    params = ref.get()
    indices = np.asarray(indices)
    if batch_dims < 0:
        batch_dims += indices.ndim
    if params.ndim <= batch_dims:
        raise InvalidArgumentError(f"ResourceGather on {ref.name}: batch_dims={batch_dims} needs "
                                   f"a variable of rank > {batch_dims}, found {params.ndim}")
    _check_indices("ResourceGather", ref.name, indices, params.shape[batch_dims])
    if batch_dims == 0:
        return params.take(indices, axis=0)
    batch = params.shape[:batch_dims]
    p = params.reshape((-1,) + params.shape[batch_dims:])
    ix = indices.reshape((p.shape[0],) + indices.shape[batch_dims:])
    out = np.stack([np.take(p[b], ix[b], axis=0) for b in range(p.shape[0])])
    return out.reshape(batch + out.shape[1:])


@kernel("ResourceGatherNd", needs_ctx=True)
def resource_gather_nd(handle: Any, indices: Any, *, ctx: KernelContext,
                       dtype: DType | None = None) -> np.ndarray:
    ref = resource_ref(ctx, handle)
    params = ref.get()
    indices = np.asarray(indices)
    depth = indices.shape[-1] if indices.ndim else 0
    if depth > params.ndim:
        raise InvalidArgumentError(f"ResourceGatherNd on {ref.name}: indices.shape[-1] = {depth} "
                                   f"exceeds the variable's rank {params.ndim}")
    for k in range(depth):
        _check_indices("ResourceGatherNd", ref.name, indices[..., k], params.shape[k])
    return params[tuple(indices[..., k] for k in range(depth))]
