"""Per-worker device remapping: explicit rules that rewrite a graph's device fields.

TF1 resumes a run only on the cluster layout it was built for; ``clear_devices=True``
is the escape hatch and throws the layout away. A :class:`DeviceMap` moves the layout
instead, with every decision visible and checked:

    dm = DeviceMap.from_rules([
        {"from": "/job:ps", "to": "/job:localhost/replica:0/task:0/device:CPU:0"},
        {"from": "/job:worker", "to": "/job:localhost/replica:0/task:0"},
    ])
    report = dm.apply(graph)          # raises InvalidArgumentError listing every problem
    for line in report.lines(): log(line)

Semantics:

* A placed node's device (canonical ``DeviceSpec``) **matches** a rule when every field the
  rule's ``from`` sets is equal to the node's (unset fields and a ``*`` index match anything;
  a field the node leaves unset does not match a set one). ``from: ""`` matches every
  placed node (a catch-all as the last rule).
* The **first** matching rule applies: the new device is the node's spec with every field
  ``to`` sets overriding it (TF's ``DeviceSpec`` merge: ``/job:ps/task:1/device:CPU:0`` with
  ``to: /job:localhost/task:0`` is ``/job:localhost/task:0/device:CPU:0``). A ``to`` that
  sets no field (``""``) clears the device.
* Nodes with an empty device are never matched and stay unplaced: TF's placer puts them
  with their colocation group or inputs on whatever layout runs the graph.
* Placed devices no rule matches: ``unmapped="error"`` (default) fails listing each one with
  its node count and an example node; ``unmapped="keep"`` leaves them as they are.
* A rule that rewrites no node (its ``from`` matches nothing, or only devices an earlier rule
  took) is an error unless ``allow_unused_rules``: a typo must not pass silently.
* Colocation groups (``_class`` ``loc:@`` attrs) whose members' devices cannot be merged after
  the rewrite are errors naming the group and the devices.
* Function-library bodies are rewritten by the same rules (nodes named ``<function>/<node>``
  in reports); colocation is checked on the graph's own nodes only.

Validation happens before anything changes: :meth:`DeviceMap.plan` computes the rewrite and
its problems without touching the graph (``orchestrator inspect --device-map``), and
:meth:`DeviceMap.apply` writes it only when there are none.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from orchestrator.errors import InvalidArgumentError
from orchestrator.graph.devices import DeviceSpec, colocation_groups

if TYPE_CHECKING:  # pragma: no cover
    from orchestrator.graph.model import Graph

UNMAPPED_POLICIES = ("error", "keep")
_SPEC_FIELDS = ("job", "replica", "task", "device_type", "device_index")
_RULE_KEYS = ("from", "to")


@dataclasses.dataclass(frozen=True)
class DeviceRule:
    """Rule ``index`` of a map: devices matching ``source`` get ``target``'s set fields."""

    index: int
    from_text: str
    to_text: str
    source: DeviceSpec
    target: DeviceSpec

    @property
    def clears(self) -> bool:
        return not self.target.to_string()

    def matches(self, device: DeviceSpec) -> bool:
        return all(want is None or want == getattr(device, field)
                   for field, want in ((f, getattr(self.source, f)) for f in _SPEC_FIELDS))

    def rewrite(self, device: DeviceSpec) -> str:
        return "" if self.clears else device.make_merged_spec(self.target).to_string()

    def describe(self) -> str:
        return f"rule {self.index} (from {self.from_text!r} to {self.to_text!r})"


@dataclasses.dataclass(frozen=True)
class DeviceMapping:
    """One line of a report: ``nodes`` nodes placed on ``old`` move to ``new``.

    ``rule`` is the applied rule's index; ``None`` means no rule matched and the device
    was kept (``unmapped="keep"``) or is reported as a problem (``unmapped="error"``).
    """

    old: str
    new: str
    nodes: int
    rule: int | None
    example: str

    def line(self) -> str:
        how = f"rule {self.rule}" if self.rule is not None else "no rule matched, kept"
        noun = "node" if self.nodes == 1 else "nodes"
        return f"device {self.old} -> {self.new or '(none)'}  ({self.nodes} {noun}, {how}; e.g. {self.example})"

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class DeviceMapPlan:
    """What a map does to one graph: the mappings, unplaced nodes, and any problems.

    ``graph_devices``/``function_devices`` hold the new device of every node that changes
    (graph node name → device; ``(function, node index)`` → device).
    """

    mappings: tuple[DeviceMapping, ...]
    unplaced_nodes: int
    problems: tuple[str, ...]
    graph_devices: Mapping[str, str]
    function_devices: Mapping[tuple[str, int], str]
    source: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        """One log line per mapping (and one for unplaced nodes, when there are any)."""
        out = [m.line() for m in self.mappings]
        if self.unplaced_nodes:
            out.append(f"{self.unplaced_nodes} node(s) without a device left unplaced (graph and function bodies)")
        return out

    def raise_if_invalid(self) -> None:
        if self.problems:
            where = f"{self.source}: " if self.source else ""
            listed = "\n".join(f"  - {p}" for p in self.problems)
            raise InvalidArgumentError(f"{where}device_map cannot be applied ({len(self.problems)} "
                                       f"problem(s)):\n{listed}")

    def as_dict(self) -> dict[str, Any]:
        return {"mappings": [m.as_dict() for m in self.mappings], "unplaced_nodes": self.unplaced_nodes,
                "problems": list(self.problems)}


@dataclasses.dataclass(frozen=True)
class DeviceMap:
    """An ordered list of rules plus the policies for unmatched devices and unused rules."""

    rules: tuple[DeviceRule, ...]
    unmapped: str = "error"
    allow_unused_rules: bool = False
    source: str = ""          # where the rules came from (config file), for messages

    @classmethod
    def from_rules(cls, rules: Sequence[Mapping[str, Any]] | None, *, unmapped: str = "error",
                   allow_unused_rules: bool = False, source: str = "") -> DeviceMap:
        """Parse ``[{"from": spec, "to": spec}, ...]``; InvalidArgumentError naming the bad rule."""
        where = f"{source}: " if source else ""
        if unmapped not in UNMAPPED_POLICIES:
            raise InvalidArgumentError(f"{where}unmapped devices policy must be one of "
                                       f"{', '.join(UNMAPPED_POLICIES)}; found {unmapped!r}")
        if not isinstance(allow_unused_rules, bool):
            raise InvalidArgumentError(f"{where}allow_unused_rules must be true or false; found "
                                       f"{allow_unused_rules!r}")
        if rules is None:
            rules = ()
        if isinstance(rules, (str, bytes, Mapping)) or not isinstance(rules, Iterable):
            raise InvalidArgumentError(f"{where}device_map must be a list of {{from: ..., to: ...}} rules; "
                                       f"found {type(rules).__name__} {rules!r}")
        return cls(tuple(_parse_rule(i, raw, where) for i, raw in enumerate(rules)), unmapped,
                   allow_unused_rules, source)

    def match(self, device: str | DeviceSpec) -> DeviceRule | None:
        """The first rule matching a placed ``device``, or None."""
        spec = device if isinstance(device, DeviceSpec) else DeviceSpec.from_string(device)
        return next((rule for rule in self.rules if rule.matches(spec)), None)

    def map_device(self, device: str) -> str:
        """The device a node placed on ``device`` gets; unmatched and empty devices come back as given."""
        if not device:
            return device
        spec = DeviceSpec.from_string(device)
        rule = self.match(spec)
        return spec.to_string() if rule is None else rule.rewrite(spec)

    # ---------------------------------------------------------------- planning
    def plan(self, graph: Graph) -> DeviceMapPlan:
        """The rewrite of ``graph`` and every problem with it; the graph is not changed."""
        problems: list[str] = []
        placed: dict[str, list[str]] = {}          # canonical old device -> node names (graph, functions)
        graph_nodes: dict[str, str] = {}           # node name -> canonical old device
        function_nodes: dict[tuple[str, int], str] = {}
        unplaced = 0
        for op in graph.get_operations():
            device = _canonical(op.device, f"node {op.name!r}", problems)
            if device is None:
                continue
            if not device:
                unplaced += 1
                continue
            placed.setdefault(device, []).append(op.name)
            graph_nodes[op.name] = device
        for fname, fdef in graph.function_library.items():
            for i, node in enumerate(fdef.node_def):
                device = _canonical(node.device, f"function {fname!r} node {node.name!r}", problems)
                if device:
                    placed.setdefault(device, []).append(f"{fname}/{node.name}")
                    function_nodes[(fname, i)] = device
                elif device == "":
                    unplaced += 1

        new_of: dict[str, str] = {}
        mappings: list[DeviceMapping] = []
        used: set[int] = set()
        unmatched: list[tuple[str, list[str]]] = []
        for old, nodes in sorted(placed.items(), key=lambda item: (-len(item[1]), item[0])):
            rule = self.match(old)
            if rule is None:
                new_of[old] = old
                if self.unmapped == "error":
                    unmatched.append((old, nodes))
            else:
                new_of[old] = rule.rewrite(DeviceSpec.from_string(old))
                used.add(rule.index)
            mappings.append(DeviceMapping(old, new_of[old], len(nodes), None if rule is None else rule.index,
                                          nodes[0]))
        if unmatched:
            listed = "; ".join(f"{device} ({len(nodes)} node{'s' if len(nodes) != 1 else ''}, e.g. {nodes[0]!r})"
                               for device, nodes in unmatched)
            hint = ""
            local = [device for device, _ in unmatched if _names_no_task(device)]
            if local:
                # TF's sharded Saver puts its filename ops on "/device:CPU:*": say how to keep such devices.
                hint = (f"; a device that names no job or task is kept by a rule mapping it to itself, e.g. "
                        f"{{from: {local[0]!r}, to: {local[0]!r}}} as the last rule")
            problems.append(f"{len(unmatched)} device(s) match no rule (add rules for them, or set "
                            f"unmapped_devices: keep): {listed}{hint}")
        if not self.allow_unused_rules:
            problems.extend(self._unused_rule_problems(used, list(placed)))
        problems.extend(_colocation_problems(graph, graph_nodes, new_of))
        return DeviceMapPlan(
            tuple(mappings), unplaced, tuple(problems),
            {name: new_of[old] for name, old in graph_nodes.items() if new_of[old] != old},
            {key: new_of[old] for key, old in function_nodes.items() if new_of[old] != old}, self.source)

    def apply(self, graph: Graph) -> DeviceMapPlan:
        """Rewrite ``graph``'s device fields in place (all or nothing) and return the plan applied.

        Raises InvalidArgumentError listing every problem, leaving the graph untouched.
        """
        plan = self.plan(graph)
        plan.raise_if_invalid()
        for name, device in plan.graph_devices.items():
            graph.get_operation_by_name(name).device = device
        for fname in {fname for fname, _ in plan.function_devices}:
            # FunctionDefs may be shared with other graphs' libraries: rewrite a copy.
            fdef = type(graph.function_library[fname])()
            fdef.CopyFrom(graph.function_library[fname])
            for (owner, index), device in plan.function_devices.items():
                if owner == fname:
                    fdef.node_def[index].device = device
            graph.function_library[fname] = fdef
        if plan.graph_devices or plan.function_devices:
            graph.version += 1   # compiled schedules keyed on the version see the new placement
        return plan

    # ---------------------------------------------------------------- helpers
    def _unused_rule_problems(self, used: set[int], devices: list[str]) -> list[str]:
        problems = []
        shown = ", ".join(sorted(devices)) or "(none: every node is unplaced)"
        for rule in self.rules:
            if rule.index in used:
                continue
            shadowing = sorted({earlier.index for device in devices
                                for earlier in [self.match(device)]
                                if earlier is not None and earlier.index < rule.index
                                and rule.matches(DeviceSpec.from_string(device))})
            if shadowing:
                why = (f"every device it matches is taken by earlier rule(s) "
                       f"{', '.join(map(str, shadowing))}")
            else:
                why = f"it matches no device of the graph (devices: {shown})"
            problems.append(f"{rule.describe()} rewrites no node: {why} (allow_unused_device_rules: true accepts it)")
        return problems


def _parse_rule(index: int, raw: Any, where: str) -> DeviceRule:
    if not isinstance(raw, Mapping):
        raise InvalidArgumentError(f"{where}device_map rule {index} must be a mapping {{from: ..., to: ...}}; "
                                   f"found {type(raw).__name__} {raw!r}")
    unknown = [key for key in raw if key not in _RULE_KEYS]
    missing = [key for key in _RULE_KEYS if key not in raw]
    if unknown or missing:
        detail = "; ".join(filter(None, [unknown and f"unknown key(s) {', '.join(map(repr, unknown))}",
                                         missing and f"missing key(s) {', '.join(map(repr, missing))}"]))
        raise InvalidArgumentError(f"{where}device_map rule {index} {dict(raw)!r}: {detail}; a rule has exactly "
                                   f"the keys 'from' and 'to'")
    texts = {}
    for key in _RULE_KEYS:
        value = raw[key]
        if not isinstance(value, str):
            raise InvalidArgumentError(f"{where}device_map rule {index}: {key!r} must be a device string "
                                       f"(\"\" for {'any placed device' if key == 'from' else 'no device'}); "
                                       f"found {type(value).__name__} {value!r}")
        texts[key] = value
    specs = {}
    for key, text in texts.items():
        try:
            specs[key] = DeviceSpec.from_string(text)
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(f"{where}device_map rule {index} {key!r}: {exc}") from None
    return DeviceRule(index, texts["from"], texts["to"], specs["from"], specs["to"])


def _canonical(device: str, where: str, problems: list[str]) -> str | None:
    """``device`` in canonical form, ``""`` for unplaced; None (and a problem noted) if it does not parse."""
    if not device:
        return ""
    try:
        return DeviceSpec.from_string(device).to_string()
    except InvalidArgumentError as exc:
        problems.append(f"{where}: {exc}")
        return None


def _names_no_task(device: str) -> bool:
    spec = DeviceSpec.from_string(device)
    return spec.job is None and spec.replica is None and spec.task is None


def _compatible(devices: Iterable[str]) -> bool:
    """Can these specs be merged into one device (no field set to two different values)?"""
    specs = [DeviceSpec.from_string(d) for d in devices if d]
    return all(len({getattr(s, field) for s in specs} - {None}) <= 1 for field in _SPEC_FIELDS)


def _colocation_problems(graph: Graph, old_devices: Mapping[str, str], new_of: Mapping[str, str]) -> list[str]:
    """Groups whose members' rewritten devices conflict (checked only where devices change)."""
    problems = []
    for group, members in colocation_groups(graph).items():
        before = {m: old_devices[m] for m in members if m in old_devices}
        after = {m: new_of[d] for m, d in before.items()}
        if after == before or _compatible(after.values()):
            continue
        by_device: dict[str, list[str]] = {}
        for member, device in after.items():
            by_device.setdefault(device or "(none)", []).append(member)
        listed = "; ".join(f"{device} ({', '.join(repr(m) for m in names[:3])}"
                           f"{f' +{len(names) - 3} more' if len(names) > 3 else ''})"
                           for device, names in sorted(by_device.items()))
        already = "" if _compatible(before.values()) else " (they already conflicted before the rewrite)"
        problems.append(f"colocation group 'loc:@{group}' would be split across devices: {listed}{already}")
    return problems


__all__ = ["DeviceMap", "DeviceMapPlan", "DeviceMapping", "DeviceRule", "UNMAPPED_POLICIES"]
