"""``PrintV2`` (what ``tf.print`` builds) and ``Abort``.

``PrintV2`` writes one string scalar followed by ``end`` to ``output_stream``: ``stderr``
(the default), ``stdout``, ``log(info)``/``log(warning)``/``log(error)`` (here the Python
logger ``orchestrator.print``), or ``file://<path>`` (appended to that local file). The
string is usually made in the graph by ``StringFormat``.

``Abort`` ends TF's whole process: with ``exit_without_error`` it exits with status 0,
otherwise it aborts (a fatal log line, SIGABRT). A library must not end its caller's
process, so here the kernel raises :class:`AbortOpError`, which names the node and the
``error_msg`` and carries ``exit_without_error`` so a caller can stop the way TF would
have (the exit status it would have had is ``exit_status``).
"""
from __future__ import annotations

import logging
import sys
from typing import Any

import numpy as np

from orchestrator.errors import InvalidArgumentError, OrchestratorError, UnimplementedError
from orchestrator.exec.state import KernelContext
from orchestrator.ops.array_util import shape_str
from orchestrator.ops.registry import kernel

_VALID_STREAMS = ("stdout", "stderr", "log(info)", "log(warning)", "log(error)")
_FILE_PREFIX = "file://"
_LOG_LEVELS = {"log(info)": logging.INFO, "log(warning)": logging.WARNING, "log(error)": logging.ERROR}

logger = logging.getLogger("orchestrator.print")


def _node(ctx: KernelContext | None) -> str:
    name = getattr(getattr(ctx, "node", None), "name", None)
    return f" (node {name})" if name else ""


@kernel("PrintV2", needs_ctx=True, stateful=True)
def print_v2(message_tensor: Any, *, ctx: KernelContext | None = None, output_stream: bytes = b"stderr",
             end: bytes = b"\n") -> None:
    stream = output_stream.decode(errors="replace")
    if not stream.startswith(_FILE_PREFIX) and stream not in _VALID_STREAMS:
        raise InvalidArgumentError(f"PrintV2{_node(ctx)}: Unknown output stream: {stream}, Valid streams "
                                   f"are: {' '.join(_VALID_STREAMS)}")
    value = np.asarray(message_tensor)
    if value.ndim != 0:
        raise InvalidArgumentError(f"PrintV2{_node(ctx)}: Input is expected to be scalar, but got "
                                   f"{shape_str(value.shape)}")
    message = value[()]
    if not isinstance(message, bytes):
        raise InvalidArgumentError(f"PrintV2{_node(ctx)}: input must be a string scalar, found "
                                   f"{type(message).__name__}")
    text = (message + end).decode(errors="replace")
    if stream == "stderr":
        sys.stderr.write(text)
        sys.stderr.flush()
    elif stream == "stdout":
        sys.stdout.write(text)
        sys.stdout.flush()
    elif stream in _LOG_LEVELS:
        logger.log(_LOG_LEVELS[stream], "%s", text)
    else:
        _append_to_file(stream[len(_FILE_PREFIX):], message + end, ctx)
    return None


def _append_to_file(path: str, data: bytes, ctx: KernelContext | None) -> None:
    if "://" in path:
        raise UnimplementedError(f"PrintV2{_node(ctx)}: output_stream file://{path} names a remote file; "
                                 f"only local files can be appended to")
    try:
        with open(path, "ab") as f:
            f.write(data)
    except OSError as exc:
        raise InvalidArgumentError(f"PrintV2{_node(ctx)}: cannot append to {path}: {exc.strerror}") from None


class AbortOpError(OrchestratorError):
    """An ``Abort`` op ran: TF would have ended the process here."""

    def __init__(self, message: str, node: str, error_msg: str, exit_without_error: bool):
        super().__init__(message)
        self.node = node
        self.error_msg = error_msg
        self.exit_without_error = exit_without_error

    @property
    def exit_status(self) -> int:
        """What TF's process would have exited with: 0, or 134 (killed by SIGABRT)."""
        return 0 if self.exit_without_error else 134


@kernel("Abort", needs_ctx=True, stateful=True)
def abort(*, ctx: KernelContext | None = None, error_msg: bytes = b"", exit_without_error: bool = False) -> None:
    node = getattr(getattr(ctx, "node", None), "name", "") or ""
    msg = error_msg.decode(errors="replace")
    if exit_without_error:
        text = f"Abort{_node(ctx)}: Exiting the process: {msg} (TF exits with status 0 here)"
    else:
        text = f"Abort{_node(ctx)}: Abort_op intentional failure; {msg}"
    raise AbortOpError(text, node, msg, exit_without_error)
