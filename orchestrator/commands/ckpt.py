"""``orchestrator ckpt ls|verify|diff``: look into TF checkpoints without TensorFlow.

``PREFIX`` is a checkpoint prefix (``run/model.ckpt-1000``), its ``.index`` file, or a
directory holding a ``checkpoint`` state file (its latest checkpoint is used); local path
or any URL.

* ``ls PREFIX [--json]``: every tensor with dtype, shape, stored bytes and shard(s).
* ``verify PREFIX``: index structure and every tensor's crc32c; exit 1 listing the
  broken tensors (exit 2 when the index itself is unreadable).
* ``diff A B [--json] [--atol X]``: tensors only in A / only in B, dtype and shape
  changes, and for the others the max absolute and relative difference; exit 1 when
  anything differs (like ``diff``), 0 when identical.
"""
from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from orchestrator.checkpoint import bundle_io
from orchestrator.checkpoint.reader import resolve_prefix
from orchestrator.dtypes import DType
from orchestrator.errors import UnimplementedError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("ckpt", help="list, verify or compare TF checkpoints",
                                   description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="ckpt_command", required=True)
    ls = sub.add_parser("ls", help="list tensors: name, dtype, shape, bytes, shard")
    ls.add_argument("prefix", help="checkpoint prefix or directory with a state file")
    ls.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ls.set_defaults(func=run_ls)
    verify = sub.add_parser("verify", help="check the index structure and every tensor's crc32c")
    verify.add_argument("prefix")
    verify.set_defaults(func=run_verify)
    diff = sub.add_parser("diff", help="which tensors differ between two checkpoints, and by how much")
    diff.add_argument("a")
    diff.add_argument("b")
    diff.add_argument("--json", action="store_true")
    diff.add_argument("--atol", type=float, default=0.0, help="differences up to this are reported as equal")
    diff.set_defaults(func=run_diff)


def v2_prefix(path: str) -> str:
    """The V2 checkpoint prefix ``path`` stands for: a prefix, ``PREFIX.index``, or a directory
    (its latest checkpoint), resolved by the reader's :func:`resolve_prefix` and its errors."""
    prefix, fmt = resolve_prefix(path)
    if fmt != "v2":
        raise UnimplementedError(f"{path} is not a V2 checkpoint (no {prefix}.index); it could only be a V1 "
                                 f"checkpoint file, and ckpt ls/verify/diff read V2 bundles (PREFIX.index "
                                 f"plus PREFIX.data-*)")
    return prefix


def _dtype_name(enum: int) -> str:
    try:
        return DType(enum).tf_name
    except ValueError:
        return f"<DataType {enum}>"


def list_tensors(prefix: str) -> list[dict[str, Any]]:
    index = bundle_io.read_index(prefix)
    rows = []
    for name in index.names():
        entry = index.entry(name)
        pieces = bundle_io.entry_ranges(index, name)
        rows.append({"name": name, "dtype": _dtype_name(entry.dtype), "shape": [d.size for d in entry.shape.dim],
                     "bytes": sum(p[1].size for p in pieces),
                     "shards": sorted({p[1].shard_id for p in pieces}),
                     "slices": len(entry.slices)})
    return rows


def run_ls(args: argparse.Namespace) -> int:
    prefix = v2_prefix(args.prefix)
    rows = list_tensors(prefix)
    if args.json:
        print(json.dumps({"prefix": prefix, "tensors": rows}, indent=1))
        return 0
    print(f"checkpoint {prefix}: {len(rows)} tensors, {sum(r['bytes'] for r in rows)} bytes")
    table = [("name", "dtype", "shape", "bytes", "shard")]
    for r in rows:
        shard = ",".join(str(s) for s in r["shards"]) + (f" ({r['slices']} slices)" if r["slices"] else "")
        table.append((r["name"], r["dtype"], str(r["shape"]), str(r["bytes"]), shard))
    _print_table(table)
    return 0


def run_verify(args: argparse.Namespace) -> int:
    prefix = v2_prefix(args.prefix)
    problems = bundle_io.verify_checkpoint(prefix)
    if problems:
        print(f"checkpoint {prefix}: {len(problems)} problem(s)")
        for problem in problems:
            print(f"  {problem}")
        return 1
    print(f"checkpoint {prefix}: OK ({len(bundle_io.read_index(prefix).names())} tensors, all crc32c match)")
    return 0


def compare(a: str, b: str, atol: float = 0.0) -> dict[str, Any]:
    ia, ib = bundle_io.read_index(a), bundle_io.read_index(b)
    names_a, names_b = set(ia.names()), set(ib.names())
    common = sorted(names_a & names_b)
    report: dict[str, Any] = {"a": a, "b": b, "only_in_a": sorted(names_a - names_b),
                              "only_in_b": sorted(names_b - names_a), "changed": [], "equal": []}
    comparable = []
    for name in common:
        ea, eb = ia.entry(name), ib.entry(name)
        sa, sb = [d.size for d in ea.shape.dim], [d.size for d in eb.shape.dim]
        if ea.dtype != eb.dtype or sa != sb:
            report["changed"].append({"name": name, "dtype": [_dtype_name(ea.dtype), _dtype_name(eb.dtype)],
                                      "shape": [sa, sb]})
        else:
            comparable.append(name)
    va = bundle_io.read_tensors(a, [(n, "") for n in comparable])
    vb = bundle_io.read_tensors(b, [(n, "") for n in comparable])
    for name, x, y in zip(comparable, va, vb):
        stats = _difference(x, y)
        if stats["max_abs"] > atol or stats.get("num_different", 0) and x.dtype.kind in "OSUb":
            report["changed"].append({"name": name, **stats})
        else:
            report["equal"].append(name)
    return report


def _difference(x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    if x.dtype.kind in "OSUb":
        different = int(np.count_nonzero(x != y)) if x.size else 0
        return {"num_different": different, "max_abs": float(different > 0), "max_rel": float(different > 0)}
    xf, yf = x.astype(np.complex128 if x.dtype.kind == "c" else np.float64), \
        y.astype(np.complex128 if y.dtype.kind == "c" else np.float64)
    if not x.size:
        return {"num_different": 0, "max_abs": 0.0, "max_rel": 0.0}
    diff = np.abs(xf - yf)
    same_nan = np.isnan(xf) & np.isnan(yf) if x.dtype.kind in "fc" else np.zeros(x.shape, bool)
    diff = np.where(same_nan, 0.0, diff)
    scale = np.maximum(np.abs(xf), np.abs(yf))
    rel = np.where(diff == 0, 0.0, diff / np.where(scale == 0, 1.0, scale))
    return {"num_different": int(np.count_nonzero(diff)), "max_abs": float(np.nanmax(np.where(np.isnan(diff),
                                                                                              np.inf, diff))),
            "max_rel": float(np.max(rel))}


def run_diff(args: argparse.Namespace) -> int:
    report = compare(v2_prefix(args.a), v2_prefix(args.b), args.atol)
    differs = bool(report["only_in_a"] or report["only_in_b"] or report["changed"])
    if args.json:
        print(json.dumps(report, indent=1))
        return int(differs)
    print(f"A = {report['a']}\nB = {report['b']}")
    for name in report["only_in_a"]:
        print(f"only in A: {name}")
    for name in report["only_in_b"]:
        print(f"only in B: {name}")
    table = [("name", "change", "max abs diff", "max rel diff", "elements differing")]
    for row in report["changed"]:
        if "dtype" in row:
            change = f"dtype {row['dtype'][0]} -> {row['dtype'][1]}" if row["dtype"][0] != row["dtype"][1] \
                else f"shape {row['shape'][0]} -> {row['shape'][1]}"
            table.append((row["name"], change, "-", "-", "-"))
        else:
            table.append((row["name"], "values", f"{row['max_abs']:.6g}", f"{row['max_rel']:.6g}",
                          str(row["num_different"])))
    if len(table) > 1:
        _print_table(table)
    print(f"{len(report['equal'])} equal, {len(report['changed'])} changed, {len(report['only_in_a'])} only in A, "
          f"{len(report['only_in_b'])} only in B")
    return int(differs)


def _print_table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
