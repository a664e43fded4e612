"""Error types raised by orchestrator.

Every error a user can trigger with bad input derives from :class:`OrchestratorError`
and says which file, key, op or variable is at fault, what was expected and what was
found. Callers (the CLI in particular) catch ``OrchestratorError`` and print the
message without a traceback.

The TF1-shaped names (``NotFoundError``, ``InvalidArgumentError``, ...) mirror the
``tf.errors`` classes users already catch in their resume scripts.
"""
from __future__ import annotations

import difflib
from collections.abc import Iterable


class OrchestratorError(Exception):
    """Base class of every error orchestrator raises on purpose."""


class NotFoundError(OrchestratorError, KeyError):
    """A file, checkpoint key, op, tensor or collection does not exist."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class InvalidArgumentError(OrchestratorError, ValueError):
    """An argument or a value in a file has the wrong type, shape or content."""


class FailedPreconditionError(OrchestratorError):
    """The operation needs state that is not there yet (e.g. an uninitialized variable)."""


class UnimplementedError(OrchestratorError, NotImplementedError):
    """The input uses a feature orchestrator does not implement (e.g. an op without a kernel)."""


class DataLossError(OrchestratorError):
    """Stored bytes are corrupt: crc mismatch, truncated file, bad magic."""


class OutOfRangeError(OrchestratorError):
    """A read past the end of a file or an input queue."""


def suggest(name: str, candidates: Iterable[str], n: int = 3) -> str:
    """Return a ' Did you mean ...?' suffix naming the closest candidates, or ''."""
    close = difflib.get_close_matches(name, list(candidates), n=n, cutoff=0.6)
    if not close:
        return ""
    return " Did you mean " + " or ".join(repr(c) for c in close) + "?"
