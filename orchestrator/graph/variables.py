"""TF1's variable-collection helpers over an imported graph.

``global_variables()`` and friends read the graph's variable collections (``VariableInfo``
entries made from the meta graph's ``VariableDef``s); the ``*_initializer`` functions add
a ``NoOp`` whose control inputs are the variables' own initializer ops, as TF1 does, so
``sess.run(tf.global_variables_initializer())`` starts a run from scratch instead of
restoring one.
"""
from __future__ import annotations

from collections.abc import Sequence

from orchestrator.graph.collections import GraphKeys, VariableInfo
from orchestrator.graph.model import Graph, Operation, get_default_graph


def global_variables(scope: str | None = None, graph: Graph | None = None) -> list[VariableInfo]:
    return (graph or get_default_graph()).get_collection(GraphKeys.GLOBAL_VARIABLES, scope)


def local_variables(scope: str | None = None, graph: Graph | None = None) -> list[VariableInfo]:
    return (graph or get_default_graph()).get_collection(GraphKeys.LOCAL_VARIABLES, scope)


def trainable_variables(scope: str | None = None, graph: Graph | None = None) -> list[VariableInfo]:
    return (graph or get_default_graph()).get_collection(GraphKeys.TRAINABLE_VARIABLES, scope)


def variables_initializer(var_list: Sequence[VariableInfo], name: str = "init",
                          graph: Graph | None = None) -> Operation:
    """One op that runs every variable's initializer (a plain NoOp when the list is empty)."""
    graph = graph or get_default_graph()
    return graph.create_op("NoOp", [], name=name, control_inputs=[v.initializer for v in var_list])


def global_variables_initializer(graph: Graph | None = None) -> Operation:
    return variables_initializer(global_variables(graph=graph), name="init", graph=graph)


def local_variables_initializer(graph: Graph | None = None) -> Operation:
    return variables_initializer(local_variables(graph=graph), name="init", graph=graph)
