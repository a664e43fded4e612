"""orchestrator: resume TF1-era training runs without TensorFlow.

The public API mirrors TF1's (see ``orchestrator.compat.v1`` for TF1's own names).
Names are resolved lazily so that ``import orchestrator`` stays cheap and each
part of the API can land independently.
"""
from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "Graph": "orchestrator.graph.model",
    "Operation": "orchestrator.graph.model",
    "Tensor": "orchestrator.graph.model",
    "get_default_graph": "orchestrator.graph.model",
    "reset_default_graph": "orchestrator.graph.model",
    "get_collection": "orchestrator.graph.model",
    "import_meta_graph": "orchestrator.graph.load",
    "export_meta_graph": "orchestrator.graph.export",
    "DeviceSpec": "orchestrator.graph.devices",
    "global_variables": "orchestrator.graph.variables",
    "trainable_variables": "orchestrator.graph.variables",
    "global_variables_initializer": "orchestrator.graph.variables",
    "Session": "orchestrator.exec.session",
    "Saver": "orchestrator.checkpoint.saver",
    "latest_checkpoint": "orchestrator.checkpoint.state_file",
    "get_checkpoint_state": "orchestrator.checkpoint.state_file",
    "load_checkpoint": "orchestrator.checkpoint.reader",
    "list_variables": "orchestrator.checkpoint.reader",
    "CheckpointReader": "orchestrator.checkpoint.reader",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'orchestrator' has no attribute {name!r}") from None
    return getattr(import_module(module), name)
