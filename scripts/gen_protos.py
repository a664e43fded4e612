#!/usr/bin/env python3
"""Regenerate orchestrator/protos/*_pb2.py from protos/orchestrator/protos/*.proto.

The generator is the protoc bundled with the pinned grpcio-tools (the `dev` extra), so the
committed modules do not depend on whatever protoc a machine happens to have.

    .venv/bin/python scripts/gen_protos.py          # rewrite the generated modules
    .venv/bin/python scripts/gen_protos.py --check  # exit 1 if they are stale

The .proto sources import each other as "orchestrator/protos/x.proto", so with
`-I protos` the generated modules import each other as `orchestrator.protos.x_pb2`.
"""
from __future__ import annotations

import argparse
import difflib
import pathlib
import sys
import tempfile

REPO = pathlib.Path(__file__).resolve().parents[1]
PROTO_ROOT = REPO / "protos"
SOURCES = PROTO_ROOT / "orchestrator" / "protos"
PACKAGE_DIR = REPO / "orchestrator" / "protos"


def generate(out_dir: pathlib.Path) -> list[pathlib.Path]:
    """Run protoc over every source into ``out_dir``; returns the generated files."""
    try:
        import grpc_tools
        from grpc_tools import protoc
    except ImportError:
        sys.exit("gen_protos: grpcio-tools is missing; install the dev extra (pip install -e .[dev])")
    well_known = pathlib.Path(grpc_tools.__file__).parent / "_proto"
    sources = sorted(str(p.relative_to(PROTO_ROOT)) for p in SOURCES.glob("*.proto"))
    if not sources:
        sys.exit(f"gen_protos: no .proto files under {SOURCES}")
    args = ["protoc", f"-I{PROTO_ROOT}", f"-I{well_known}", f"--python_out={out_dir}", *sources]
    if protoc.main(args) != 0:
        sys.exit("gen_protos: protoc failed (see the messages above)")
    return sorted((out_dir / "orchestrator" / "protos").glob("*_pb2.py"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the committed modules instead of writing them")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        fresh = {p.name: p.read_text() for p in generate(pathlib.Path(tmp))}
    committed = {p.name: p.read_text() for p in PACKAGE_DIR.glob("*_pb2.py")}
    if args.check:
        stale = sorted(n for n in fresh.keys() | committed.keys() if fresh.get(n) != committed.get(n))
        for name in stale:
            diff = difflib.unified_diff((committed.get(name) or "").splitlines(),
                                        (fresh.get(name) or "").splitlines(),
                                        f"committed/{name}", f"generated/{name}", lineterm="", n=1)
            print("\n".join(list(diff)[:20]))
        if stale:
            print(f"stale generated modules: {', '.join(stale)}; run scripts/gen_protos.py", file=sys.stderr)
            return 1
        print(f"{len(fresh)} generated modules up to date")
        return 0
    for name in committed.keys() - fresh.keys():
        (PACKAGE_DIR / name).unlink()
    for name, text in fresh.items():
        (PACKAGE_DIR / name).write_text(text)
    print(f"wrote {len(fresh)} modules to {PACKAGE_DIR.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
