"""Functions of the graph's library (``FunctionDef``), compiled to flat schedules and called.

Functional control flow (``While``, ``If``, ``PartitionedCall`` ...) calls bodies through
``KernelContext.call_function(name, inputs, attrs)``, which is ``FunctionRuntime.call``.
A body is compiled once per (name, call attrs) into the same ``FlatSchedule`` the graph
path uses, so a 100-iteration ``While`` dispatches 100 precompiled schedules.

Body nodes name their inputs ``"arg_name"`` (a function argument), ``"node:out_arg:i"``
(the i-th tensor of ``node``'s output arg ``out_arg``; the OpDef says how many tensors
each output arg holds) or ``"^node"`` (control). ``ret`` maps each output arg to such a
name; ``control_ret`` names nodes that must run. Attr values may be placeholders
(``$T``) filled from the call's attrs.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from orchestrator.errors import InvalidArgumentError, NotFoundError, UnimplementedError, suggest
from orchestrator.exec.compile import EXECUTOR_OPS, NodeCall, build_schedule
from orchestrator.exec.executor import FlatSchedule
from orchestrator.graph import attrs as attr_codec
from orchestrator.graph import op_defs as opdefs
from orchestrator.ops.registry import get_kernel, has_kernel
from orchestrator.protos import attr_value_pb2


class FunctionNode:
    """A node of a function body, as kernels (``ctx.node``) and error messages see it.

    ``name`` is qualified by the function (``body_fn/add``) so per-op state such as a
    random op's counter is not shared with a same-named node of another function.
    """

    __slots__ = ("name", "type", "attrs", "device")

    def __init__(self, name: str, op_type: str, attrs: dict, device: str = ""):
        self.name = name
        self.type = op_type
        self.attrs = attrs
        self.device = device

    def get_attr(self, name: str) -> Any:
        try:
            return self.attrs[name]
        except KeyError:
            raise NotFoundError(f"function node {self.name!r} ({self.type}) has no attr {name!r}") from None

    def __repr__(self) -> str:
        return f"<FunctionNode {self.name!r} type={self.type}>"


def called_functions(attrs: Mapping[str, Any]) -> list[str]:
    """Names of the functions a node's decoded attrs refer to (``f``, ``body``, ``branches`` ...)."""
    names = []
    for value in attrs.values():
        items = value if isinstance(value, list) else [value]
        names.extend(item.name for item in items if isinstance(item, attr_value_pb2.NameAttrList))
    return names


def missing_kernels(ops: Iterable[Any], library: Mapping[str, Any]) -> dict[str, list[str]]:
    """Op type → nodes using it, for every op without a kernel in ``ops`` and the functions they call."""
    missing: dict[str, list[str]] = {}
    seen: set[str] = set()
    pending: list[str] = []
    for op in ops:
        if op.type in library:
            pending.append(op.type)
        elif op.type not in EXECUTOR_OPS and not has_kernel(op.type):
            missing.setdefault(op.type, []).append(op.name)
        pending.extend(called_functions(op.attrs))
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        fdef = library.get(name)
        if fdef is None:
            missing.setdefault(f"function {name}", []).append("(not in the graph's function library)")
            continue
        for node in fdef.node_def:
            if node.op in library:
                pending.append(node.op)
            elif not has_kernel(node.op):
                missing.setdefault(node.op, []).append(f"{name}/{node.name}")
            for value in node.attr.values():
                if value.HasField("func"):
                    pending.append(value.func.name)
                elif value.HasField("list"):
                    pending.extend(f.name for f in value.list.func)
    return missing


def attrs_key(attrs: Any) -> tuple:
    """A hashable key of a call's attrs (a protobuf map or dict of AttrValue)."""
    if not attrs:
        return ()
    return tuple(sorted((k, v.SerializeToString(deterministic=True)) for k, v in attrs.items()))


class FunctionRuntime:
    """Compiles and calls library functions; one per Session (compiled bodies are cached)."""

    def __init__(self, graph: Any, make_ctx: Callable[[Any, Callable], Any]):
        self.graph = graph
        self._make_ctx = make_ctx
        self._cache: dict[tuple, FlatSchedule] = {}

    def call(self, name: str, inputs: Sequence[Any], attrs: Any = None) -> list[Any]:
        # Loop bodies are called with no attrs (~20 calls a step): their key without a call.
        key = (name, attrs_key(attrs)) if attrs else (name, ())
        schedule = self._cache.get(key)
        if schedule is None:
            schedule = self._cache[key] = self.compile(name, attrs or {})
        if len(inputs) != len(schedule.input_slots):
            raise InvalidArgumentError(f"function {name!r} takes {len(schedule.input_slots)} argument(s), "
                                       f"called with {len(inputs)}")
        return schedule.run(inputs)

    def compile(self, name: str, call_attrs: Mapping[str, Any]) -> FlatSchedule:
        library = self.graph.function_library
        fdef = library.get(name)
        if fdef is None:
            raise NotFoundError(f"function {name!r} is not in the graph's function library."
                                f"{suggest(name, library)}")
        return _FunctionCompiler(self, fdef, call_attrs).schedule()


class _FunctionCompiler:
    """One FunctionDef → FlatSchedule."""

    def __init__(self, runtime: FunctionRuntime, fdef: Any, call_attrs: Mapping[str, Any]):
        self.runtime = runtime
        self.fdef = fdef
        self.fname = fdef.signature.name
        self.params = {a.name: a.default_value for a in fdef.signature.attr if a.HasField("default_value")}
        self.params.update(call_attrs)
        self.nodes = {node.name: node for node in fdef.node_def}
        self.arg_names = []
        for arg in fdef.signature.input_arg:
            if arg.number_attr or arg.type_list_attr:
                raise UnimplementedError(f"function {self.fname!r}: list-typed argument {arg.name!r} is not "
                                         f"supported")
            self.arg_names.append(arg.name)
        self.decoded: dict[str, dict] = {}
        self.out_ranges: dict[str, dict[str, int]] = {}

    def schedule(self) -> FlatSchedule:
        for node in self.fdef.node_def:
            self.decoded[node.name] = self._decode_attrs(node)
            self.out_ranges[node.name] = self._output_starts(node)
        ret_keys = []
        for arg in self.fdef.signature.output_arg:
            if arg.name not in self.fdef.ret:
                raise InvalidArgumentError(f"function {self.fname!r} has no ret entry for output {arg.name!r}")
            ret_keys.append(self._value_key(self.fdef.ret[arg.name], f"ret {arg.name!r}"))
        order = self._needed_in_order(ret_keys)
        calls = [self._node_call(self.nodes[n]) for n in order]
        return build_schedule(calls, [("arg", a) for a in self.arg_names], ret_keys, [False] * len(ret_keys),
                              finalize=False)

    # ------------------------------------------------------------------ attrs and outputs
    def _decode_attrs(self, node: Any) -> dict:
        decoded = {}
        for key, value in node.attr.items():
            if value.WhichOneof("value") == "placeholder":
                if value.placeholder not in self.params:
                    raise InvalidArgumentError(f"function {self.fname!r} node {node.name!r}: attr {key!r} refers "
                                               f"to ${value.placeholder}, which the call does not set")
                value = self.params[value.placeholder]
            decoded[key] = attr_codec.attr_to_python(value, f"function {self.fname!r} node {node.name!r} attr {key!r}")
        return decoded

    def _output_starts(self, node: Any) -> dict[str, int]:
        """Output arg name → index of its first tensor among the node's outputs."""
        library = self.runtime.graph.function_library
        if node.op in library:
            return {arg.name: i for i, arg in enumerate(library[node.op].signature.output_arg)}
        op_def = self.runtime.graph.op_def(node.op)
        attrs = self.decoded[node.name]
        starts, position = {}, 0
        for arg in op_def.output_arg:
            starts[arg.name] = position
            if arg.number_attr:
                position += int(attrs.get(arg.number_attr) or opdefs.default_attrs(op_def)[arg.number_attr].i)
            elif arg.type_list_attr:
                position += len(attrs.get(arg.type_list_attr) or [])
            else:
                position += 1
        starts[""] = position    # total number of outputs
        return starts

    def _num_outputs(self, node: Any) -> int:
        library = self.runtime.graph.function_library
        if node.op in library:
            return len(library[node.op].signature.output_arg)
        return self.out_ranges[node.name][""]

    def _value_key(self, ref: str, where: str) -> tuple:
        if ":" not in ref:
            if ref in self.arg_names:
                return ("arg", ref)
            raise InvalidArgumentError(f"function {self.fname!r} {where}: {ref!r} is neither an argument "
                                       f"nor 'node:output:index'")
        parts = ref.split(":")
        node_name, out_arg = parts[0], parts[1]
        index = int(parts[2]) if len(parts) > 2 else 0
        starts = self.out_ranges.get(node_name)
        if starts is None or out_arg not in starts:
            raise InvalidArgumentError(f"function {self.fname!r} {where}: {ref!r} names no output of a body node")
        return ("out", node_name, starts[out_arg] + index)

    # ------------------------------------------------------------------ order and calls
    def _inputs_of(self, node: Any) -> tuple[list[tuple], list[str]]:
        data, control = [], []
        for ref in node.input:
            if ref.startswith("^"):
                control.append(ref[1:])
            else:
                data.append(self._value_key(ref, f"node {node.name!r} input"))
        return data, control

    def _is_stateful(self, node: Any) -> bool:
        if node.op in self.runtime.graph.function_library:
            return True
        return has_kernel(node.op) and get_kernel(node.op).stateful

    def _needed_in_order(self, ret_keys: list[tuple]) -> list[str]:
        deps: dict[str, set[str]] = {}
        for name, node in self.nodes.items():
            data, control = self._inputs_of(node)
            deps[name] = {k[1] for k in data if k[0] == "out"} | set(control)
        roots = {k[1] for k in ret_keys if k[0] == "out"}
        roots.update(self.fdef.control_ret.values())
        roots.update(n for n, node in self.nodes.items() if self._is_stateful(node))
        needed: set[str] = set()
        stack = list(roots)
        while stack:
            name = stack.pop()
            if name in needed:
                continue
            if name not in self.nodes:
                raise InvalidArgumentError(f"function {self.fname!r}: node {name!r} is referenced but not defined")
            needed.add(name)
            stack.extend(deps[name])
        order, state = [], {}
        for name in (n for n in self.nodes if n in needed):   # iterative DFS post-order, body order ties
            if name in state:
                continue
            stack = [(name, iter(sorted(deps[name])))]
            state[name] = 1
            while stack:
                current, children = stack[-1]
                child = next(children, None)
                if child is None:
                    stack.pop()
                    state[current] = 2
                    order.append(current)
                elif state.get(child) == 1:
                    raise InvalidArgumentError(f"function {self.fname!r} has a cycle through {child!r}")
                elif child not in state:
                    state[child] = 1
                    stack.append((child, iter(sorted(deps[child]))))
        return order

    def _node_call(self, node: Any) -> NodeCall:
        data, _ = self._inputs_of(node)
        attrs = self.decoded[node.name]
        qualified = FunctionNode(f"{self.fname}/{node.name}", node.op, attrs, node.device)
        outputs = tuple(("out", node.name, i) for i in range(self._num_outputs(node)))
        runtime = self.runtime
        if node.op in runtime.graph.function_library:
            callee, call_attrs = node.op, dict(node.attr)

            def call(*args: Any) -> list:
                return runtime.call(callee, list(args), call_attrs)
            return NodeCall(qualified, call, {}, tuple(data), (), outputs, True, False)
        kdef = get_kernel(node.op)
        kwargs = dict(attrs) if kdef.accepts_all_attrs else {k: v for k, v in attrs.items() if k in kdef.attr_names}
        if kdef.needs_ctx:
            kwargs["ctx"] = runtime._make_ctx(qualified, runtime.call)
        return NodeCall(qualified, kdef.fn, kwargs, tuple(data), (), outputs, kdef.multi,
                        node.op == "Const", not kdef.stateful and not kdef.needs_ctx)
