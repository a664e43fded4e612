"""Explicit registry of numpy kernels, one per TF op type.

A kernel is a plain function: the op's inputs positionally, the node's attrs as
keyword-only parameters (only those it declares are passed), numpy arrays out.

    @kernel("MatMul")
    def matmul(a, b, *, transpose_a=False, transpose_b=False):
        ...

Flags on the registration say how the executor must call it:

- ``multi=True``: the kernel returns a tuple, one value per output (otherwise one value).
- ``ref_inputs=(0,)``: these input slots take the variable *reference* (a ``Ref``
  holder updated in place), not its value — ``Assign``, ``ApplyAdam`` on ref variables.
- ``needs_ctx=True``: the kernel gets ``ctx`` (the executor's per-run context: the
  session's variable/resource state, step counters for random ops, the node itself).
- ``stateful=True``: the op has side effects or hidden state; it must run at most once
  per ``Session.run`` and is never constant-folded or deduplicated.

Registration is explicit: importing :mod:`orchestrator.ops` imports each family
module, whose decorators fill the one table below. Nothing scans globals.
"""
from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable

from orchestrator.errors import UnimplementedError, suggest


@dataclasses.dataclass(frozen=True)
class KernelDef:
    op_type: str
    fn: Callable
    multi: bool = False
    ref_inputs: tuple[int, ...] = ()
    needs_ctx: bool = False
    stateful: bool = False
    attr_names: frozenset[str] = frozenset()   # keyword-only params of fn (minus ctx)
    accepts_all_attrs: bool = False            # fn has **attrs


_KERNELS: dict[str, KernelDef] = {}


def kernel(*op_types: str, multi: bool = False, ref_inputs: tuple[int, ...] = (),
           needs_ctx: bool = False, stateful: bool = False) -> Callable[[Callable], Callable]:
    """Register ``fn`` as the kernel of each of ``op_types``."""

    def register(fn: Callable) -> Callable:
        sig = inspect.signature(fn)
        kw = {p.name for p in sig.parameters.values() if p.kind is p.KEYWORD_ONLY}
        var_kw = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
        kw.discard("ctx")
        for op_type in op_types:
            if op_type in _KERNELS:
                raise RuntimeError(f"kernel for {op_type} registered twice "
                                   f"({_KERNELS[op_type].fn.__module__} and {fn.__module__})")
            _KERNELS[op_type] = KernelDef(op_type, fn, multi, tuple(ref_inputs), needs_ctx,
                                          stateful, frozenset(kw), var_kw)
        return fn

    return register


def get_kernel(op_type: str) -> KernelDef:
    """The kernel for ``op_type``; UnimplementedError naming near op types otherwise."""
    _ensure_loaded()
    try:
        return _KERNELS[op_type]
    except KeyError:
        raise UnimplementedError(f"no kernel for op type {op_type!r}.{suggest(op_type, _KERNELS)}") from None


def has_kernel(op_type: str) -> bool:
    _ensure_loaded()
    return op_type in _KERNELS


def registered_op_types() -> list[str]:
    _ensure_loaded()
    return sorted(_KERNELS)


def _ensure_loaded() -> None:
    # Importing the package imports every family module (see ops/__init__.py).
    import orchestrator.ops  # noqa: F401
