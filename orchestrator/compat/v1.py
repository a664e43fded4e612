"""TF1's names for orchestrator's API: ``import orchestrator.compat.v1 as tf``.

A user's resume script written against ``tf.compat.v1`` (or TF1 itself) runs with that
one import changed, e.g. the example in TF1's ``import_meta_graph`` documentation::

    with tf.Session() as sess:
        saver = tf.train.import_meta_graph("my-save-dir/my-model-10000.meta")
        saver.restore(sess, "my-save-dir/my-model-10000")
        train_op = tf.get_collection("train_op")[0]
        for step in range(1000000):
            sess.run(train_op)

Names resolve lazily to the modules that implement them, so this file is only a map.
"""
from __future__ import annotations

import types
from importlib import import_module
from typing import Any

from orchestrator import errors as _errors


class _LazyNamespace(types.ModuleType):
    """A module-like namespace whose attributes are imported on first access."""

    def __init__(self, name: str, exports: dict[str, str]):
        super().__init__(name)
        self._exports = exports

    def __getattr__(self, attr: str) -> Any:
        try:
            target = self._exports[attr]
        except KeyError:
            raise AttributeError(f"{self.__name__} has no attribute {attr!r} "
                                 f"(orchestrator provides: {', '.join(sorted(self._exports))})") from None
        module_name, _, symbol = target.partition(":")
        value = getattr(import_module(module_name), symbol or attr)
        setattr(self, attr, value)
        return value

    def __dir__(self) -> list[str]:
        return sorted(self._exports)


_GRAPH = "orchestrator.graph.model"
_CKPT_STATE = "orchestrator.checkpoint.state_file"
_CKPT_READER = "orchestrator.checkpoint.reader"
_VARIABLES = "orchestrator.graph.variables"

train = _LazyNamespace("orchestrator.compat.v1.train", {
    "import_meta_graph": "orchestrator.graph.load",
    "export_meta_graph": "orchestrator.graph.export",
    "Saver": "orchestrator.checkpoint.saver",
    "latest_checkpoint": _CKPT_STATE,
    "get_checkpoint_state": _CKPT_STATE,
    "update_checkpoint_state": _CKPT_STATE,
    "checkpoint_exists": _CKPT_STATE,
    "load_checkpoint": _CKPT_READER,
    "list_variables": _CKPT_READER,
    "NewCheckpointReader": f"{_CKPT_READER}:load_checkpoint",
})

_TOP_LEVEL = {
    "Graph": _GRAPH,
    "Operation": _GRAPH,
    "Tensor": _GRAPH,
    "GraphKeys": _GRAPH,
    "get_default_graph": _GRAPH,
    "reset_default_graph": _GRAPH,
    "get_collection": _GRAPH,
    "get_collection_ref": _GRAPH,
    "add_to_collection": _GRAPH,
    "Session": "orchestrator.exec.session",
    "global_variables": _VARIABLES,
    "local_variables": _VARIABLES,
    "trainable_variables": _VARIABLES,
    "variables_initializer": _VARIABLES,
    "global_variables_initializer": _VARIABLES,
    "local_variables_initializer": _VARIABLES,
    "DeviceSpec": "orchestrator.graph.devices",
    "DType": "orchestrator.dtypes",
    "as_dtype": "orchestrator.dtypes",
}

errors = types.SimpleNamespace(
    OpError=_errors.OrchestratorError,
    NotFoundError=_errors.NotFoundError,
    InvalidArgumentError=_errors.InvalidArgumentError,
    FailedPreconditionError=_errors.FailedPreconditionError,
    UnimplementedError=_errors.UnimplementedError,
    DataLossError=_errors.DataLossError,
    OutOfRangeError=_errors.OutOfRangeError,
)


def __getattr__(name: str) -> Any:
    try:
        module = _TOP_LEVEL[name]
    except KeyError:
        raise AttributeError(f"orchestrator.compat.v1 has no attribute {name!r}") from None
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*_TOP_LEVEL, "train", "errors"])
