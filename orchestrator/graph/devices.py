"""Device strings: ``DeviceSpec``, the devices a graph uses, and its colocation groups.

A TF1 node's ``device`` is a partial spec such as ``/job:ps/task:1`` or ``/gpu:0``;
TF prints them in one canonical form, ``/job:ps/replica:0/task:1/device:GPU:0``, with
any missing part left out. Parsing follows ``tf.DeviceSpec.from_string`` (checked
against real TF in ``tests/fixtures/graph/devices.json``):

* parts are separated by ``/``; empty parts are skipped (``//job:ps//`` is ``/job:ps``);
* ``job:NAME``, ``replica:INT``, ``task:INT`` (a later one of a kind wins);
* ``device:TYPE:INDEX`` (TYPE as given, ``cpu``/``gpu`` upper-cased) or the legacy
  ``TYPE:INDEX``/``TYPE`` for TF's known types ``CPU GPU TPU CUSTOM EPU`` in any case;
  ``*`` as index means "any" (``None``); only one device part is allowed;
* anything else is an error.

    >>> DeviceSpec.from_string("/job:ps/task:1/gpu:0").to_string()
    '/job:ps/task:1/device:GPU:0'
    >>> DeviceSpec.from_string("/task:2").make_merged_spec(DeviceSpec.from_string("/cpu:*")).to_string()
    '/task:2/device:CPU:*'

The graph-level helpers feed ``orchestrator inspect`` and the per-worker rewrite:
:func:`devices_used` counts nodes per canonical device, :func:`colocation_groups`
lists which nodes ``_class`` (``loc:@name``) attrs tie together.
"""
from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from orchestrator.errors import InvalidArgumentError
from orchestrator.graph import names as naming

if TYPE_CHECKING:  # pragma: no cover
    from orchestrator.graph.model import Graph

# Types TF's DeviceSpec accepts in the legacy "TYPE:INDEX" form (any letter case).
LEGACY_DEVICE_TYPES = frozenset({"CPU", "GPU", "TPU", "CUSTOM", "EPU"})


def _as_int(value: Any, field: str) -> int | None:
    """TF stores replica/task/index as Python ints (so ``"01"``, ``" 1"``, ``"+2"`` are accepted)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidArgumentError(f"DeviceSpec {field} must be an integer, found bool {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"DeviceSpec {field} must be an integer, found {value!r}") from None


def _as_device_type(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    # TF upper-cases only these two lowercase spellings (kept for old graphs).
    return text.upper() if text in ("cpu", "gpu") else text


_FIELDS = ("job", "replica", "task", "device_type", "device_index")
_NORMALIZE = {"job": lambda v: None if v is None else str(v),
              "replica": lambda v: _as_int(v, "replica"), "task": lambda v: _as_int(v, "task"),
              "device_type": _as_device_type, "device_index": lambda v: _as_int(v, "device_index")}


@dataclasses.dataclass(eq=True)
class DeviceSpec:
    """A (possibly partial) device: ``None`` fields are unspecified.

    Fields are normalised on every assignment as TF's setters do (ints as ints,
    ``cpu``/``gpu`` upper-cased). Like TF's it hashes by its string, and like TF1's
    ``merge_from`` updates it in place; ``make_merged_spec`` and ``replace`` return new specs.
    """

    job: str | None = None
    replica: int | None = None
    task: int | None = None
    device_type: str | None = None
    device_index: int | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in _NORMALIZE:
            raise InvalidArgumentError(f"DeviceSpec has no field {name!r}; fields are {', '.join(_FIELDS)}")
        object.__setattr__(self, name, _NORMALIZE[name](value))

    def __hash__(self) -> int:
        return hash(self.to_string())

    @classmethod
    def from_string(cls, spec: str | None) -> DeviceSpec:
        """Parse any device string TF accepts; InvalidArgumentError naming the string otherwise."""
        if spec is None:
            return cls()
        if not isinstance(spec, str):
            raise InvalidArgumentError(f"device spec must be a string, found {type(spec).__name__} {spec!r}")
        return cls(*_parse(spec))

    parse_from_string = from_string   # TF1's name

    def to_string(self) -> str:
        """TF's canonical form: ``/job:J/replica:R/task:T/device:TYPE:INDEX``, unset parts left out."""
        parts = []
        if self.job is not None:
            parts.append(f"/job:{self.job}")
        if self.replica is not None:
            parts.append(f"/replica:{self.replica}")
        if self.task is not None:
            parts.append(f"/task:{self.task}")
        if self.device_type is not None:
            index = "*" if self.device_index is None else str(self.device_index)
            parts.append(f"/device:{self.device_type}:{index}")
        return "".join(parts)

    def make_merged_spec(self, other: DeviceSpec | str) -> DeviceSpec:
        """A new spec: every field ``other`` sets overrides this one's (TF's precedence).

        Fields merge one by one, so ``/device:GPU:1`` merged with ``/device:CPU:*`` is
        ``/device:CPU:1``, exactly as in TF.
        """
        other = other if isinstance(other, DeviceSpec) else DeviceSpec.from_string(other)
        return DeviceSpec(*(theirs if theirs is not None else mine
                            for mine, theirs in zip(self._fields(), other._fields())))

    def merge_from(self, other: DeviceSpec | str) -> None:
        """TF1's in-place merge: take every field ``other`` sets."""
        merged = self.make_merged_spec(other)
        for name in _FIELDS:
            setattr(self, name, getattr(merged, name))

    def replace(self, **changes: Any) -> DeviceSpec:
        """A copy with the given fields set; ``None`` clears a field (``replace(job=None)``)."""
        unknown = set(changes) - set(_FIELDS)
        if unknown:
            raise InvalidArgumentError(f"DeviceSpec.replace: unknown field(s) {sorted(unknown)}; fields are "
                                       f"{', '.join(_FIELDS)}")
        return dataclasses.replace(self, **changes)

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in _FIELDS)

    def __str__(self) -> str:
        return self.to_string()


@functools.lru_cache(maxsize=4096)
def _parse(spec: str) -> tuple[Any, ...]:
    """The five fields of ``spec`` (cached: graphs repeat a handful of device strings)."""
    job = replica = task = device_type = index = None
    device_seen = False

    def fail(why: str) -> InvalidArgumentError:
        return InvalidArgumentError(f"invalid device spec {spec!r}: {why}; expected parts like "
                                    f"'/job:ps', '/replica:0', '/task:1', '/device:GPU:0', '/gpu:0' or '/cpu:*'")

    def number(text: str, field: str) -> int:
        try:
            return int(text)
        except ValueError:
            raise fail(f"{field} {text!r} is not an integer") from None

    for part in spec.split("/"):
        fields = part.split(":")
        head = fields[0]
        if len(fields) == 2 and head == "job":
            job = fields[1]
        elif len(fields) == 2 and head == "replica":
            replica = number(fields[1], "replica")
        elif len(fields) == 2 and head == "task":
            task = number(fields[1], "task")
        elif len(fields) <= 2 and head.upper() in LEGACY_DEVICE_TYPES:
            if device_seen:
                raise fail("it names more than one device")
            device_seen, device_type = True, head.upper()
            index = number(fields[1], "device index") if len(fields) == 2 and fields[1] != "*" else None
        elif len(fields) == 3 and head == "device":
            if device_seen:
                raise fail("it names more than one device")
            device_seen, device_type = True, fields[1]
            index = None if fields[2] == "*" else number(fields[2], "device index")
        elif head:
            raise fail(f"unknown part {part!r}")
        # An empty head (from "", "//" or ":") is skipped, as TF does.
    return DeviceSpec(job, replica, task, device_type, index)._fields()


def canonical_device(device: str, where: str = "") -> str:
    """``device`` in TF's canonical form (``/gpu:0`` → ``/device:GPU:0``); ``""`` stays ``""``."""
    if not device:
        return ""
    try:
        return DeviceSpec.from_string(device).to_string()
    except InvalidArgumentError as exc:
        raise InvalidArgumentError(f"{where}: {exc}" if where else str(exc)) from None


def devices_used(graph: Graph) -> dict[str, int]:
    """Canonical device → number of nodes placed there (``""`` counts unplaced nodes), most used first."""
    counts: dict[str, int] = {}
    for op in graph.get_operations():
        device = canonical_device(op.device, f"node {op.name!r}")
        counts[device] = counts.get(device, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def colocation_groups(graph: Graph) -> dict[str, list[str]]:
    """Nodes that ``_class`` attrs require to share a device, as ``{group: [member names]}``.

    A node with ``_class = [b"loc:@w"]`` belongs with ``w``; one naming several targets
    ties their groups together, so groups are the connected components of those links.
    A group is keyed by its first-named target (in graph order) and lists its members in
    graph order; a target that is not a node of the graph (e.g. cut off by an
    ``export_scope``) still keys its group but is not listed. Nodes without ``_class``
    are in no group (TF treats them as colocated only with themselves).
    """
    ops = graph.get_operations()
    parent: dict[str, str] = {}

    def find(name: str) -> str:
        root = name
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[name] != root:          # path compression
            parent[name], name = root, parent[name]
        return root

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[rb] = ra

    first_target: dict[str, str] = {}   # root -> group key
    order: list[str] = []
    for op in ops:
        targets = _colocation_targets(op.attr_protos.get("_class"))
        for target in targets:
            if target not in parent:
                order.append(target)
            union(targets[0], target)
        if targets:
            union(targets[0], op.name)
    for target in order:
        first_target.setdefault(find(target), target)
    groups: dict[str, list[str]] = {first_target[find(t)]: [] for t in order}
    for op in ops:
        if op.name in parent:
            groups[first_target[find(op.name)]].append(op.name)
    return groups


def _colocation_targets(attr: Any) -> list[str]:
    values: Iterable[bytes] = attr.list.s if attr is not None else ()
    return [v[len(naming.COLOCATION_PREFIX):].decode("utf-8", "replace") for v in values
            if v.startswith(naming.COLOCATION_PREFIX)]


__all__ = ["DeviceSpec", "LEGACY_DEVICE_TYPES", "canonical_device", "devices_used", "colocation_groups"]
