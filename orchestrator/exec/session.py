"""``Session``: TF1's ``tf.Session`` over orchestrator's numpy kernels.

    >>> sess = Session()                                   # before the graph has nodes is fine
    >>> saver = import_meta_graph("model.ckpt-1000.meta")
    >>> saver.restore(sess, "model.ckpt-1000")
    >>> train_op = get_collection("train_op")[0]
    >>> _, loss = sess.run([train_op, "loss:0"], feed_dict={"x:0": batch})

Each distinct (graph version, fetches, feeds) signature is compiled once: pruned to what
the fetches need, checked (kernels, placeholders) before anything runs, and turned into
a flat schedule — or, when v1 control flow is present, a dynamic frame executor. Later
runs with the same signature only convert the feeds and run the schedule.

``state`` (a ``SessionState``) holds variables and resources between runs; ``Saver``
reads and writes it.
"""
from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

from orchestrator.errors import FailedPreconditionError, InvalidArgumentError, UnimplementedError
from orchestrator.exec import compile as compiler
from orchestrator.exec import loops
from orchestrator.exec.feeds import convert_feed, flatten_fetches, resolve_feeds
from orchestrator.exec.frames import DynamicSchedule
from orchestrator.exec.functions import FunctionRuntime, missing_kernels
from orchestrator.exec.state import KernelContext, SessionState
from orchestrator.graph.model import Graph, Operation, Tensor, get_default_graph

_LOCAL_TARGETS = ("", "local")


class RunPlan:
    """A compiled signature: feeds in, one value (or None for operations) per fetch element out."""

    def __init__(self, schedule: Any, element_outputs: Sequence[int | None], control_flow: str):
        self.schedule = schedule
        self.element_outputs = tuple(element_outputs)
        self.control_flow = control_flow   # "none" (flat), "v1-lifted" (loops compiled) or "v1" (frames)

    @property
    def num_ops(self) -> int:
        return self.schedule.num_ops

    def run(self, feed_values: Sequence[Any]) -> list[Any]:
        values = self.schedule.run(feed_values)
        return [None if i is None else _as_result(values[i]) for i in self.element_outputs]


def _as_result(value: Any) -> Any:
    # TF returns numpy scalars (np.float32, bytes) for 0-d tensors, arrays otherwise.
    if getattr(value, "ndim", None) == 0 and hasattr(value, "dtype"):
        return value[()]
    return value


class Session:
    """Runs fetches of ``graph`` (default: the default graph when the Session is made).

    ``Session(graph)`` and TF's ``Session(target, graph, config)`` both work; ``target``
    must be local ("" or "local") and ``config`` is accepted and ignored.
    """

    def __init__(self, target: Any = "", graph: Graph | None = None, config: Any = None):
        if isinstance(target, Graph):                 # Session(graph) as a positional argument
            target, graph = "", target
        if target not in _LOCAL_TARGETS:
            raise UnimplementedError(f"Session target {target!r}: only local sessions ('' or 'local') run "
                                     f"in-process; run a cluster through `orchestrator run`")
        self.graph: Graph = graph if graph is not None else get_default_graph()
        self.target = target
        self.config = config
        self.state = SessionState()
        self.storage_options: dict = {}
        # v1 while loops run as compiled loop nodes when their frames have the plain loop
        # shape (exec/loops.py); False forces the general frame executor (exec/frames.py).
        self.lift_loops = True
        self._closed = False
        self._plans: dict[tuple, RunPlan] = {}
        self._plans_version = self.graph.version
        self._elements: dict[Any, Tensor | Operation] = {}
        self._elements_version = self.graph.version
        self._functions = FunctionRuntime(self.graph, self._function_ctx)
        self._unsupported: dict[str, list[str]] | None = None
        self._unsupported_version = -1
        self._default_graph_ctx: Any = None
        self.unsupported_ops()

    # ------------------------------------------------------------------ TF1 API
    @property
    def graph_def(self) -> Any:
        return self.graph.as_graph_def()

    @property
    def sess_str(self) -> str:
        return self.target

    def unsupported_ops(self) -> dict[str, list[str]]:
        """Op type → names of the nodes using it, for every op type of the graph (and of the
        functions it calls) that has no kernel. Empty when everything can run."""
        if self._unsupported is None or self._unsupported_version != self.graph.version:
            self._unsupported = missing_kernels(self.graph.get_operations(), self.graph.function_library)
            self._unsupported_version = self.graph.version
        return {k: list(v) for k, v in self._unsupported.items()}

    def run(self, fetches: Any, feed_dict: Mapping | None = None, options: Any = None,
            run_metadata: Any = None) -> Any:
        """Evaluate ``fetches`` (same nesting back; None for operations), feeding ``feed_dict``."""
        if self._closed:
            raise FailedPreconditionError("Attempted to use a closed Session.")
        elements, rebuild = flatten_fetches(fetches, self.graph, self._element)
        feed_tensors, feed_values = resolve_feeds(feed_dict, self.graph, self._element)
        plan = self.plan(elements, feed_tensors)
        return rebuild(plan.run(feed_values))

    def run_partition(self, fetches: Sequence[str], feed_dict: Mapping[str, Any], ops: Sequence[str]) -> list[Any]:
        """Run exactly the operations ``ops`` (one block of a device partition plan,
        exec/partition.py): ``fetches`` names their tensors and sink operations; every input
        from outside ``ops`` is in ``feed_dict``, and control inputs from outside ran before."""
        if self._closed:
            raise FailedPreconditionError("Attempted to use a closed Session.")
        elements = [self._element(name) for name in fetches]
        feed_tensors, feed_values = resolve_feeds(feed_dict, self.graph, self._element)
        within = frozenset(self._element(name) for name in ops)
        plan = self.plan(elements, feed_tensors, within)
        return plan.run(feed_values)

    def make_callable(self, fetches: Any, feed_list: Sequence[Any] | None = None,
                      accept_options: bool = False) -> Any:
        """TF1's ``Session.make_callable``: a function of the ``feed_list`` values returning
        ``fetches``' values, with names resolved and the plan compiled once up front."""
        elements, rebuild = flatten_fetches(fetches, self.graph, self._element)
        feeds = [self._element(key) for key in feed_list or []]
        if any(not isinstance(t, Tensor) for t in feeds):
            raise InvalidArgumentError(f"feed_list must name tensors, found {feed_list!r}")
        if len({t.name for t in feeds}) != len(feeds):
            raise InvalidArgumentError(f"feed_list names a tensor twice: {[t.name for t in feeds]}")
        order = sorted(range(len(feeds)), key=lambda i: feeds[i].name)
        plan = self.plan(elements, [feeds[i] for i in order])

        def run_callable(*values: Any, **options: Any) -> Any:
            if self._closed:
                raise FailedPreconditionError("Attempted to use a closed Session.")
            if len(values) != len(feeds):
                raise InvalidArgumentError(f"this callable takes {len(feeds)} feed value(s) "
                                           f"({[t.name for t in feeds]}), got {len(values)}")
            converted = [convert_feed(feeds[i], values[i]) for i in order]
            return rebuild(plan.run(converted))
        return run_callable

    def _element(self, key: Any) -> Tensor | Operation:
        """``graph.as_graph_element(key)``, remembered per graph version (names are parsed once)."""
        if self._elements_version != self.graph.version:
            self._elements.clear()
            self._elements_version = self.graph.version
        try:
            return self._elements[key]
        except KeyError:
            element = self._elements[key] = self.graph.as_graph_element(key)
            return element
        except TypeError:     # an unhashable key
            return self.graph.as_graph_element(key)

    def plan(self, elements: Sequence[Tensor | Operation], feed_tensors: Sequence[Tensor],
             within: frozenset | None = None) -> RunPlan:
        """The compiled RunPlan of a signature (cached per graph version)."""
        if self._plans_version != self.graph.version:
            self._plans.clear()
            self._plans_version = self.graph.version
        key = (tuple(elements), tuple(feed_tensors), within)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._compile(elements, feed_tensors, within)
        return plan

    def close(self) -> None:
        self._closed = True
        self._plans.clear()

    def __enter__(self) -> Session:
        if self._closed:
            raise FailedPreconditionError("Attempted to use a closed Session.")
        # As in TF, the session's graph is the default graph inside the block.
        self._default_graph_ctx = self.graph.as_default()
        self._default_graph_ctx.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        ctx, self._default_graph_ctx = self._default_graph_ctx, None
        if ctx is not None:
            with contextlib.suppress(Exception):
                ctx.__exit__(*exc_info)
        self.close()

    def __repr__(self) -> str:
        return f"<Session graph={self.graph!r}{' closed' if self._closed else ''}>"

    # ------------------------------------------------------------------ compiling
    def _kernel_ctx(self, node: Any) -> KernelContext:
        return KernelContext(node=node, state=self.state, session=self, call_function=self._functions.call)

    def _function_ctx(self, node: Any, call_function: Any) -> KernelContext:
        return KernelContext(node=node, state=self.state, session=self, call_function=call_function)

    def _compile(self, elements: Sequence[Tensor | Operation], feed_tensors: Sequence[Tensor],
                 within: frozenset | None = None) -> RunPlan:
        fed = set(feed_tensors)
        fetch_tensors: list[Tensor] = []
        position: dict[Tensor, int] = {}
        targets: list[Operation] = []
        element_outputs: list[int | None] = []
        for element in elements:
            if isinstance(element, Operation):
                if element not in targets:
                    targets.append(element)
                element_outputs.append(None)
                continue
            if element not in position:
                position[element] = len(fetch_tensors)
                fetch_tensors.append(element)
            element_outputs.append(position[element])
        ops = compiler.prune(fetch_tensors, targets, fed, within)
        compiler.check_runnable(ops, fed, self.graph.function_library)
        calls_by_op = {op: compiler.graph_node_call(op, fed, self._kernel_ctx)
                       for op in ops if op.type not in compiler.EXECUTOR_OPS}
        output_keys = [("feed", t) if t in fed else t for t in fetch_tensors]
        if any(op.type in compiler.V1_CONTROL_FLOW for op in ops):
            alias = compiler.aliasing_tensors(ops)
            lifted = loops.lift(ops, fed, fetch_tensors, targets, self._kernel_ctx) if self.lift_loops else None
            if lifted is not None:
                schedule = compiler.build_schedule(lifted, [("feed", t) for t in feed_tensors], output_keys,
                                                   [t in alias for t in fetch_tensors])
                return RunPlan(schedule, element_outputs, "v1-lifted")
            runnable = [op for op in ops if op in calls_by_op]
            schedule: Any = DynamicSchedule(runnable, [calls_by_op[op] for op in runnable], fetch_tensors,
                                            targets, feed_tensors, [t in alias for t in fetch_tensors])
            return RunPlan(schedule, element_outputs, "v1")
        order = [op for op in compiler.toposort(ops, fed) if op in calls_by_op]
        alias = compiler.aliasing_tensors(order)
        schedule = compiler.build_schedule([calls_by_op[op] for op in order], [("feed", t) for t in feed_tensors],
                                           output_keys, [t in alias for t in fetch_tensors])
        return RunPlan(schedule, element_outputs, "none")


__all__ = ["Session", "RunPlan"]
