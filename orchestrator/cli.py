"""Command line: ``orchestrator <command> ...``.

Each command lives in ``orchestrator/commands/<name>.py`` and exposes
``register(subparsers)``, which adds its parser and sets ``func(args) -> int``.
Errors derived from OrchestratorError print as one clear message and exit 2;
no protobuf or numpy traceback reaches the user.
"""
from __future__ import annotations

import argparse
import sys
from importlib import import_module

from orchestrator.errors import OrchestratorError

COMMANDS = ["inspect", "ckpt", "run"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="orchestrator", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        try:
            module = import_module(f"orchestrator.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"orchestrator.commands.{name}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except OrchestratorError as exc:
        print(f"orchestrator {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
