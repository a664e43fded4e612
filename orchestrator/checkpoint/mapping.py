"""Which checkpoint key belongs to which variable, read from the graph's own saver ops.

TF1 does not store the key→variable mapping anywhere but in the save/restore
subgraph that ``tf.train.Saver`` built: ``SaveV2``/``RestoreV2`` nodes whose
``tensor_names`` and ``shape_and_slices`` inputs are constants, the tensors fed to
``SaveV2`` (a variable, or a ``ReadVariableOp`` of one, through ``Identity``s) and the
``Assign``/``AssignVariableOp`` consuming each ``RestoreV2`` output. Reading that
subgraph — instead of assuming "key = variable op name" — is what makes renamed keys
(``Saver({"old/name": v})``), partial var lists and partitioned slices behave as in TF.

Everything here is pure: graph in, :class:`SaverSpec` out.
"""
from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from orchestrator.dtypes import DType
from orchestrator.errors import InvalidArgumentError, NotFoundError, suggest

if TYPE_CHECKING:  # pragma: no cover
    from orchestrator.graph.model import Graph, Operation, Tensor

REF_VARIABLE_OPS = frozenset({"VariableV2", "Variable"})
RESOURCE_VARIABLE_OPS = frozenset({"VarHandleOp"})
_PASS_THROUGH = frozenset({"Identity", "Snapshot", "StopGradient"})
_SAVE_OPS = frozenset({"SaveV2"})
_RESTORE_OPS = frozenset({"RestoreV2"})


@dataclasses.dataclass(frozen=True)
class VariableTarget:
    """A variable op of the graph: where a restored value goes and a saved one comes from."""

    op_name: str
    kind: str                   # "ref" | "resource"
    dtype: DType
    shape: tuple | None         # declared shape (None dims unknown)
    device: str = ""
    container: str = ""
    shared_name: str = ""

    @property
    def resource_key(self) -> tuple[str, str]:
        return (self.container, self.shared_name or self.op_name)


@dataclasses.dataclass(frozen=True)
class SliceSpec:
    """A ``shape_and_slices`` string: ``"10 4 0,4:0,4"`` = rows 0..3 of a [10, 4] tensor."""

    full_shape: tuple[int, ...]
    extents: tuple[tuple[int, int], ...]      # (start, length) per dim; length -1 = whole dim

    @classmethod
    def parse(cls, spec: str, where: str = "") -> "SliceSpec | None":
        """None for ``""`` (the whole tensor)."""
        if not spec:
            return None
        parts = spec.split(" ")
        try:
            full = tuple(int(p) for p in parts[:-1])
            extents = []
            for dim_spec in parts[-1].split(":"):
                if dim_spec == "-":
                    extents.append((0, -1))
                else:
                    start, length = dim_spec.split(",")
                    extents.append((int(start), int(length)))
        except ValueError:
            raise InvalidArgumentError(f"{where}: malformed shape_and_slices entry {spec!r}; expected "
                                       f"'<dims> <start>,<length>:...' such as '10 4 0,5:0,4'") from None
        if len(extents) != len(full):
            raise InvalidArgumentError(f"{where}: shape_and_slices entry {spec!r} has {len(extents)} slice "
                                       f"dims for a rank-{len(full)} shape")
        return cls(full, tuple(extents))

    @property
    def index(self) -> tuple[slice, ...]:
        return tuple(slice(s, None if n < 0 else s + n) for s, n in self.extents)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(d if n < 0 else n for d, (_, n) in zip(self.full_shape, self.extents))

    def __str__(self) -> str:
        dims = " ".join(str(d) for d in self.full_shape)
        ext = ":".join("-" if n < 0 else f"{s},{n}" for s, n in self.extents)
        return f"{dims} {ext}"


@dataclasses.dataclass(frozen=True)
class SaveEntry:
    """One tensor a save writes: ``source`` is a variable, or else a graph tensor to evaluate."""

    key: str
    slice_spec: str
    variable: VariableTarget | None
    tensor_name: str


@dataclasses.dataclass(frozen=True)
class SaveShard:
    """One ``SaveV2`` node: its entries become one data file of the checkpoint."""

    op_name: str
    device: str
    shard: int
    entries: tuple[SaveEntry, ...]


@dataclasses.dataclass(frozen=True)
class RestoreEntry:
    key: str
    slice_spec: str
    dtype: DType
    variable: VariableTarget | None      # None: the output feeds something that is not an assign
    consumer: str = ""                  # for errors: what consumed the restored tensor instead


@dataclasses.dataclass(frozen=True)
class SaverSpec:
    shards: tuple[SaveShard, ...]
    restores: tuple[RestoreEntry, ...]
    sharded: bool

    @property
    def save_entries(self) -> list[SaveEntry]:
        return [e for shard in self.shards for e in shard.entries]


def variable_target(op: "Operation") -> VariableTarget:
    if op.type in REF_VARIABLE_OPS:
        return VariableTarget(op.name, "ref", op.outputs[0].dtype, op.attrs.get("shape"), op.device,
                              _text(op.attrs.get("container")), _text(op.attrs.get("shared_name")))
    if op.type in RESOURCE_VARIABLE_OPS:
        return VariableTarget(op.name, "resource", op.attrs.get("dtype", DType.INVALID), op.attrs.get("shape"),
                              op.device, _text(op.attrs.get("container")), _text(op.attrs.get("shared_name")))
    raise InvalidArgumentError(f"operation {op.name!r} ({op.type}) is not a variable")


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else str(value)


def string_list_const(tensor: "Tensor", where: str) -> list[str]:
    """The value of a string-vector Const feeding a save/restore op."""
    op = tensor.op
    while op.type in _PASS_THROUGH and op.inputs:
        op = op.inputs[0].op
    if op.type != "Const":
        raise InvalidArgumentError(f"{where}: expected a Const string vector, found {op.type} {op.name!r}; "
                                   f"orchestrator reads key lists from the graph without running it")
    value = np.asarray(op.get_attr("value"))
    return [v.decode() if isinstance(v, bytes) else str(v) for v in value.reshape(-1)]


def trace_variable(tensor: "Tensor") -> VariableTarget | None:
    """The variable a saved tensor reads, through Identity and ReadVariableOp; None if none."""
    op = tensor.op
    for _ in range(64):
        if op.type in REF_VARIABLE_OPS or op.type in RESOURCE_VARIABLE_OPS:
            return variable_target(op)
        if (op.type in _PASS_THROUGH or op.type == "ReadVariableOp") and op.inputs:
            op = op.inputs[0].op
            continue
        return None
    return None


def _walk_back(graph: "Graph", start: "Operation", wanted: frozenset[str]) -> list["Operation"]:
    """Ops of type ``wanted`` reachable backwards from ``start`` (not expanded past them)."""
    found, seen, queue = [], {start.name}, deque([start])
    while queue:
        op = queue.popleft()
        if op.type in wanted:
            found.append(op)
            continue
        for parent in [t.op for t in op.inputs] + list(op.control_inputs):
            if parent.name not in seen:
                seen.add(parent.name)
                queue.append(parent)
    return sorted(found, key=lambda o: o.name)


def _shard_index(save_op: "Operation", position: int) -> int:
    prefix_op = save_op.inputs[0].op
    if prefix_op.type == "ShardedFilename" and prefix_op.inputs[1].op.type == "Const":
        return int(np.asarray(prefix_op.inputs[1].op.get_attr("value")))
    return position


def _save_shard(save_op: "Operation", position: int) -> SaveShard:
    where = f"save op {save_op.name!r}"
    keys = string_list_const(save_op.inputs[1], where + " tensor_names")
    slices = string_list_const(save_op.inputs[2], where + " shape_and_slices")
    tensors = save_op.inputs[3:]
    if not (len(keys) == len(slices) == len(tensors)):
        raise InvalidArgumentError(f"{where}: {len(keys)} tensor_names, {len(slices)} shape_and_slices and "
                                   f"{len(tensors)} tensors; they must match")
    entries = tuple(SaveEntry(k, s, trace_variable(t), t.name) for k, s, t in zip(keys, slices, tensors))
    return SaveShard(save_op.name, save_op.device, _shard_index(save_op, position), entries)


def _assign_target(output: "Tensor") -> tuple[VariableTarget | None, str]:
    """Follow a RestoreV2 output forward through Identity to the assign op that consumes it."""
    frontier, other = [output], ""
    for _ in range(16):
        next_frontier = []
        for tensor in frontier:
            for consumer in tensor.consumers():
                if consumer.type in ("Assign", "AssignVariableOp") and consumer.inputs[1].name == tensor.name:
                    target = trace_variable(consumer.inputs[0])
                    if target is not None:
                        return target, ""
                    other = f"{consumer.type} {consumer.name!r}"
                elif consumer.type in _PASS_THROUGH:
                    next_frontier.append(consumer.outputs[0])
                else:
                    other = other or f"{consumer.type} {consumer.name!r}"
        if not next_frontier:
            break
        frontier = next_frontier
    return None, other or "nothing"


def _restore_entries(restore_op: "Operation") -> list[RestoreEntry]:
    where = f"restore op {restore_op.name!r}"
    keys = string_list_const(restore_op.inputs[1], where + " tensor_names")
    slices = string_list_const(restore_op.inputs[2], where + " shape_and_slices")
    dtypes = restore_op.attrs.get("dtypes") or [t.dtype for t in restore_op.outputs]
    if not (len(keys) == len(slices) == len(restore_op.outputs)):
        raise InvalidArgumentError(f"{where}: {len(keys)} tensor_names, {len(slices)} shape_and_slices and "
                                   f"{len(restore_op.outputs)} outputs; they must match")
    out = []
    for i, (key, spec) in enumerate(zip(keys, slices)):
        target, consumer = _assign_target(restore_op.outputs[i])
        out.append(RestoreEntry(key, spec, dtypes[i], target, consumer))
    return out


def spec_from_saver_def(graph: "Graph", saver_def: Any) -> SaverSpec:
    """Read the key→variable mapping of the saver described by ``saver_def``."""
    save_name = saver_def.save_tensor_name
    restore_name = saver_def.restore_op_name
    try:
        save_root = graph.as_graph_element(save_name, allow_tensor=True, allow_operation=True)
        restore_root = graph.get_operation_by_name(restore_name)
    except (NotFoundError, KeyError, ValueError) as exc:
        raise NotFoundError(f"saver_def names a save/restore node that is not in the graph: {exc}") from None
    save_root = getattr(save_root, "op", save_root)
    save_ops = _walk_back(graph, save_root, _SAVE_OPS)
    restore_ops = _walk_back(graph, restore_root, _RESTORE_OPS)
    unsupported = _walk_back(graph, restore_root, frozenset({"Restore", "RestoreSlice"}))
    if not save_ops and not restore_ops and unsupported:
        raise InvalidArgumentError(f"saver {restore_name!r} uses V1 save/restore ops "
                                   f"({', '.join(o.type for o in unsupported)}); only V2 savers are supported")
    if not save_ops:
        raise NotFoundError(f"no SaveV2 op found upstream of saver_def.save_tensor_name {save_name!r}")
    if not restore_ops:
        raise NotFoundError(f"no RestoreV2 op found upstream of saver_def.restore_op_name {restore_name!r}")
    shards = sorted((_save_shard(op, i) for i, op in enumerate(save_ops)), key=lambda s: s.shard)
    restores = [e for op in restore_ops for e in _restore_entries(op)]
    return SaverSpec(tuple(shards), tuple(restores), bool(saver_def.sharded))


def check_keys(spec: SaverSpec, available: Iterable[str], where: str) -> None:
    """NotFoundError listing every restore key missing from a checkpoint, with near names."""
    available = set(available)
    missing = sorted({e.key for e in spec.restores} - available)
    if missing:
        hints = "; ".join(f"{k!r}{suggest(k, available)}" for k in missing[:10])
        more = f" (and {len(missing) - 10} more)" if len(missing) > 10 else ""
        raise NotFoundError(f"{where}: key(s) not found in checkpoint: {hints}{more}")
