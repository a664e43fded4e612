"""The one place that starts or joins Ray.

A job either names a running cluster (``cluster.address``: ``"auto"``, ``"ray://host:10001"``,
``"host:6379"``) or gets an embedded local Ray started for it and shut down after it.
Ray is imported here, lazily: commands that never distribute anything (``inspect``,
``ckpt``, a job without restore actors) neither pay its ~1 s import nor need it.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from orchestrator.errors import FailedPreconditionError


def ray_module() -> Any:
    try:
        import ray  # noqa: PLC0415 - lazy on purpose, see the module docstring
    except ImportError as exc:                     # pragma: no cover - ray is a core dependency
        raise FailedPreconditionError(f"Ray is not importable ({exc}); install the 'ray' package") from None
    return ray


@contextlib.contextmanager
def connected(address: str | None = None, num_cpus: int | None = None) -> Iterator[Any]:
    """Ray, initialised for the duration of the block.

    Already initialised in this process (a caller's own ``ray.init``): used as it is and
    left running. ``address`` given: joined, and disconnected afterwards (the cluster keeps
    running). Neither: an embedded local Ray with ``num_cpus`` CPUs (default: this
    machine's), shut down afterwards.
    """
    ray = ray_module()
    if ray.is_initialized():
        yield ray
        return
    # Quiet, dashboard-less workers: a job's log is its own lines, not Ray's banners.
    options: dict[str, Any] = {"log_to_driver": False, "configure_logging": False}
    try:
        if address:
            ray.init(address=address, **options)
        else:
            ray.init(num_cpus=num_cpus or os.cpu_count() or 1, include_dashboard=False, **options)
    except ConnectionError as exc:
        raise FailedPreconditionError(f"cannot connect to the Ray cluster at {address!r}: {exc}") from None
    try:
        yield ray
    finally:
        ray.shutdown()


def get(ray: Any, refs: Any, actor_role: str) -> Any:
    """``ray.get(refs)``, with an actor's own error (DataLossError naming a tensor, an
    InvalidArgumentError naming a node ...) re-raised as itself rather than wrapped in Ray's
    task error, and a dead actor reported as a FailedPreconditionError naming its role."""
    try:
        return ray.get(refs)
    except ray.exceptions.RayTaskError as exc:
        cause = getattr(exc, "cause", None)
        raise (cause if isinstance(cause, Exception) else exc) from None
    except ray.exceptions.RayActorError as exc:
        raise FailedPreconditionError(f"a {actor_role} actor died before answering (its node lost, or the "
                                      f"process killed): {str(exc).splitlines()[0]}") from None
