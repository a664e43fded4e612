"""``orchestrator inspect META --device-map RULES.yaml``: what a device map would do to a meta graph.

RULES.yaml holds the same keys as a job config's ``model`` section, in one of three shapes:

* a list of rules: ``[{from: /job:ps, to: /job:localhost/replica:0/task:0/device:CPU:0}, ...]``;
* a mapping with ``device_map`` (the rules), ``unmapped_devices``, ``allow_unused_device_rules``;
* a whole job config: its ``model`` section's device-map keys are used (the rest is ignored).

Nothing runs and nothing is written: the report lists each device's mapping (old → new, node
count, rule) and every problem the job would refuse to start with.
"""
from __future__ import annotations

from typing import Any

import yaml

from orchestrator import storage
from orchestrator.errors import InvalidArgumentError, suggest
from orchestrator.graph.device_map import DeviceMap

_KEYS = ("device_map", "unmapped_devices", "allow_unused_device_rules")


def load_device_map(path: str) -> DeviceMap:
    """Parse RULES.yaml (see the module docstring); InvalidArgumentError naming the file otherwise."""
    try:
        raw = yaml.safe_load(storage.read_bytes(path))
    except yaml.YAMLError as exc:
        raise InvalidArgumentError(f"{path}: not valid YAML: {exc}") from None
    if isinstance(raw, list):
        raw = {"device_map": raw}
    elif isinstance(raw, dict) and isinstance(raw.get("model"), dict):
        raw = {key: value for key, value in raw["model"].items() if key in _KEYS}
    if not isinstance(raw, dict):
        raise InvalidArgumentError(f"{path}: expected a list of {{from: ..., to: ...}} rules or a mapping with "
                                   f"{', '.join(_KEYS)}; found {type(raw).__name__}")
    for key in raw:
        if key not in _KEYS:
            raise InvalidArgumentError(f"{path}: unknown key {key!r}.{suggest(str(key), _KEYS)} "
                                       f"Allowed here: {', '.join(_KEYS)}")
    if not raw.get("device_map"):
        raise InvalidArgumentError(f"{path}: no device_map rules found")
    return DeviceMap.from_rules(raw["device_map"], unmapped=raw.get("unmapped_devices", "error"),
                                allow_unused_rules=raw.get("allow_unused_device_rules", False), source=path)


def device_map_section(graph: Any, rules_path: str) -> dict[str, Any]:
    """The report's ``device_map`` entry: the plan for ``graph`` (not applied)."""
    plan = load_device_map(rules_path).plan(graph)
    return {"rules": rules_path, "ok": plan.ok, **plan.as_dict()}


def render_device_map(section: dict[str, Any], table: Any) -> list[str]:
    """Text lines for the section; ``table(headers, rows)`` is inspect's table renderer."""
    rows = [[m["old"], m["new"] or "(none)", m["nodes"], "no rule" if m["rule"] is None else m["rule"], m["example"]]
            for m in section["mappings"]]
    out = ["", f"device map {section['rules']}:",
           table(["device", "becomes", "nodes", "rule", "for example"], rows)]
    if section["unplaced_nodes"]:
        out.append(f"  {section['unplaced_nodes']} unplaced node(s) stay unplaced")
    if section["problems"]:
        out.append(f"device map problems ({len(section['problems'])}; a job with this map would not start):")
        out += [f"  - {problem}" for problem in section["problems"]]
    else:
        out.append("device map problems: none")
    return out


__all__ = ["load_device_map", "device_map_section", "render_device_map"]
