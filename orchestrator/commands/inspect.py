"""``orchestrator inspect PATH [--json]``: what is in a meta graph or a checkpoint.

For a meta graph (``.meta``, ``.pbtxt``, any fsspec URL): op counts by type, devices
with node counts, collections and their sizes, variables, the saver_def, and the op
types orchestrator has no kernel for (with the nodes that use them) — the first thing
to look at before resuming a run (function-library bodies included). Devices are
canonical (``/job:ps/task:0/device:CPU:0``; ``(none)`` for unplaced nodes). For a
checkpoint prefix: its variables. With ``--device-map RULES.yaml`` a meta graph's report adds what
that device map would do (``commands/inspect_devices.py``); the exit status is 1 when the map
has problems.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from typing import Any

from orchestrator import storage
from orchestrator.errors import InvalidArgumentError, NotFoundError, OrchestratorError

META_SUFFIXES = (".meta", ".pbtxt", ".meta.txt", ".pb")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("inspect", help="show what a meta graph file or checkpoint prefix holds",
                                   description=__doc__.splitlines()[0])
    parser.add_argument("path", help="meta graph file (.meta/.pbtxt) or checkpoint prefix; local path or URL")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    parser.add_argument("--device-map", metavar="RULES.yaml", default=None,
                        help="show what these device rules (a job's model.device_map) would do to the meta graph")
    parser.add_argument("--partitions", action="store_true",
                        help="show how cluster.partition_by_device would split a training step over task actors "
                             "(after --device-map, if given)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    device_map = getattr(args, "device_map", None)
    partitions = getattr(args, "partitions", False)
    report = inspect_path(args.path, device_map=device_map, partitions=partitions)
    print(json.dumps(report, indent=1, sort_keys=True) if args.json else render(report))
    ok = report.get("device_map", {}).get("ok", True) and report.get("partitions", {}).get("ok", True)
    return 0 if ok else 1


def inspect_path(path: str, device_map: str | None = None, partitions: bool = False) -> dict[str, Any]:
    if path.endswith(META_SUFFIXES):
        return inspect_meta_graph(path, device_map, partitions)
    if storage.exists(path + ".index"):
        if device_map or partitions:
            flag = "--device-map" if device_map else "--partitions"
            raise InvalidArgumentError(f"{path}: {flag} applies to a meta graph, but this is a checkpoint prefix")
        return inspect_checkpoint(path)
    if storage.exists(path):
        return inspect_meta_graph(path, device_map, partitions)
    raise NotFoundError(f"{path}: no such meta graph file, and no checkpoint prefix either "
                        f"({path}.index does not exist)")


def inspect_meta_graph(path: str, device_map: str | None = None, partitions: bool = False) -> dict[str, Any]:
    from orchestrator.graph.load import import_meta_graph
    from orchestrator.graph.model import Graph

    graph = Graph()
    with graph.as_default():
        saver = import_meta_graph(path)
    ops = graph.get_operations()
    saver_def = getattr(saver, "saver_def", saver)
    report = {
        "kind": "meta_graph",
        "path": path,
        "num_ops": len(ops),
        "op_counts": dict(Counter(op.type for op in ops).most_common()),
        "devices": _devices(graph),
        "collections": {key: len(graph.get_collection(key)) for key in sorted(graph.get_all_collection_keys())},
        "variables": [_variable_row(v) for v in graph.get_collection("variables")],
        "saver_def": _saver_def_dict(saver_def),
        "functions": sorted(graph.function_library),
        "function_op_counts": _function_op_counts(graph),
        "unsupported_ops": _unsupported(graph),
    }
    if device_map:
        from orchestrator.commands.inspect_devices import device_map_section
        report["device_map"] = device_map_section(graph, device_map)
    if partitions:
        from orchestrator.commands.inspect_partitions import partitions_section
        if device_map and report["device_map"]["ok"]:
            from orchestrator.commands.inspect_devices import load_device_map
            load_device_map(device_map).apply(graph)       # partitions of the remapped graph
        report["partitions"] = partitions_section(graph)
    return report


def _devices(graph: Any) -> dict[str, int]:
    from orchestrator.graph.devices import devices_used
    return devices_used(graph)


def _function_op_counts(graph: Any) -> dict[str, int]:
    counts = Counter(node.op for fn in graph.function_library.values() for node in fn.node_def)
    return dict(counts.most_common())


def _variable_row(var: Any) -> dict[str, Any]:
    shape = var.shape
    return {"name": var.name, "dtype": var.dtype.tf_name, "shape": None if shape is None else list(shape),
            "device": var.device, "initializer": var.variable_def.initializer_name,
            "kind": "resource" if var.is_resource else "ref", "trainable": var.trainable}


def _saver_def_dict(saver_def: Any) -> dict[str, Any] | None:
    if saver_def is None:
        return None
    return {"filename_tensor_name": saver_def.filename_tensor_name,
            "save_tensor_name": saver_def.save_tensor_name,
            "restore_op_name": saver_def.restore_op_name,
            "max_to_keep": saver_def.max_to_keep, "sharded": saver_def.sharded,
            "keep_checkpoint_every_n_hours": saver_def.keep_checkpoint_every_n_hours,
            "version": "V2" if saver_def.version == 2 else "V1"}


def _unsupported(graph: Any) -> dict[str, Any]:
    """Op types the executor cannot run → ``{"count": n, "nodes": [...]}``, graph and function bodies.

    Function-body nodes (of the functions the graph calls, transitively) are named
    ``<function>/<node>``. The answer is the executor's own
    check (kernels registered in ``orchestrator.ops`` plus what the executor runs itself).
    """
    from orchestrator.exec.functions import missing_kernels

    missing = missing_kernels(graph.get_operations(), graph.function_library)
    return {op_type: {"count": len(nodes), "nodes": nodes} for op_type, nodes in sorted(missing.items())}


def inspect_checkpoint(prefix: str) -> dict[str, Any]:
    try:
        from orchestrator.checkpoint.reader import list_variables, load_checkpoint
    except ImportError as exc:
        raise OrchestratorError(f"{prefix}: is a checkpoint prefix, but checkpoint reading is not "
                                f"available in this build ({exc})") from None
    dtypes = load_checkpoint(prefix).get_variable_to_dtype_map()
    rows = [{"name": name, "shape": list(shape), "dtype": getattr(dtypes.get(name), "tf_name", str(dtypes.get(name)))}
            for name, shape in list_variables(prefix)]
    return {"kind": "checkpoint", "path": prefix, "variables": rows}


# ------------------------------------------------------------------------ text output

def render(report: dict[str, Any]) -> str:
    out: list[str] = []
    if report["kind"] == "checkpoint":
        out.append(f"checkpoint {report['path']}: {len(report['variables'])} variables")
        out.append(_table(["name", "dtype", "shape"],
                          [[v["name"], v["dtype"], _shape(v["shape"])] for v in report["variables"]]))
        return "\n".join(out)
    out.append(f"meta graph {report['path']}: {report['num_ops']} ops")
    out += ["", "op types:", _table(["op type", "count"], [[k, v] for k, v in report["op_counts"].items()])]
    out += ["", "devices:", _table(["device", "nodes"], [[k or "(none)", v] for k, v in report["devices"].items()])]
    out += ["", "collections:", _table(["collection", "items"], [[k, v] for k, v in report["collections"].items()])]
    out += ["", "variables:", _table(
        ["name", "dtype", "shape", "kind", "device", "initializer"],
        [[v["name"], v["dtype"], _shape(v["shape"]), v["kind"], v["device"] or "(none)", v["initializer"]]
         for v in report["variables"]])]
    saver = report["saver_def"]
    out += ["", "saver_def:", _table(["field", "value"], [[k, v] for k, v in saver.items()]) if saver else "  (none)"]
    if report["functions"]:
        out += ["", f"functions: {', '.join(report['functions'])}"]
        ops_in_functions = sum(report["function_op_counts"].values())
        out.append(f"  {ops_in_functions} nodes in function bodies, "
                   f"{len(report['function_op_counts'])} op types")
    unsupported = report["unsupported_ops"]
    out.append("")
    if unsupported:
        total = sum(v["count"] for v in unsupported.values())
        out += [f"op types orchestrator cannot run ({len(unsupported)} types, {total} nodes):", _table(
            ["op type", "nodes", "for example"], [[k, v["count"], _names(v["nodes"])] for k, v in unsupported.items()])]
    else:
        out.append("op types orchestrator cannot run: none")
    if "device_map" in report:
        from orchestrator.commands.inspect_devices import render_device_map
        out += render_device_map(report["device_map"], _table)
    if "partitions" in report:
        from orchestrator.commands.inspect_partitions import render_partitions
        out += render_partitions(report["partitions"], _table)
    return "\n".join(out)


def _shape(shape: list | None) -> str:
    return "<unknown>" if shape is None else "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"


def _names(names: list[str], limit: int = 3) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" (+{len(names) - limit} more)" if len(names) > limit else "")


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    if not rows:
        return "  (none)"
    cells = [headers] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  " + "  ".join("-" * w for w in widths))
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run(argparse.Namespace(path=sys.argv[1], json="--json" in sys.argv, device_map=None,
                                    partitions="--partitions" in sys.argv)))
