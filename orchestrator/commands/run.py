"""``orchestrator run CONFIG``: resume a training run described by a YAML job file."""
from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="resume training from a YAML job config",
                                   description=__doc__)
    parser.add_argument("config", help="YAML job file (see README: config reference)")
    parser.add_argument("--steps", type=int, default=None, help="override train.steps")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    import dataclasses

    from orchestrator.config import load_config
    from orchestrator.job import run_job

    cfg = load_config(args.config)
    if args.steps is not None:
        cfg = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, steps=args.steps))
    result = run_job(cfg)
    print(f"done: {result.steps_run} steps (global step {result.first_step} -> {result.last_step}) "
          f"in {result.seconds:.2f}s; {len(result.saved)} checkpoint(s) saved")
    return 0
