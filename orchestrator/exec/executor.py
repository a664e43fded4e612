"""The flat executor: a compiled, straight-line schedule of kernel calls.

A ``FlatSchedule`` is what ``compile.build_schedule`` makes from a pruned, acyclic
subgraph (or a function body). Running it is one loop over precomputed steps::

    vals = template.copy()          # constants already in their slots
    vals[feed_slot] = fed value     # for each feed / function argument
    for step in steps:              # kernel, input slots, attrs, output slot(s), slots to free
        vals[out] = kernel(*(vals[i] for i in ins), **attrs)
        vals[freed] = None          # values die right after their last use

No graph walking, no name lookups and no per-step dict building happen at run time:
everything a step needs was resolved when the schedule was compiled. From its second run
on, a schedule runs as generated straight-line Python (one line per kernel call, slots
and attrs baked in): that removes the loop's per-step unpacking and branching, about half
of the executor's own cost per kernel call, which is what small RNN steps pay most.
"""
from __future__ import annotations

import keyword
import operator
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from orchestrator.errors import InvalidArgumentError, OrchestratorError
from orchestrator.exec.state import Ref


class Step(NamedTuple):
    """One kernel call. ``nout`` is -1 for a single output, else the number of outputs.

    ``arity``/``arg`` say how to gather the inputs without a per-call loop: one input is
    ``vals[arg]``; two or more are ``arg(vals)`` (an ``operator.itemgetter``).
    """

    fn: Callable
    arity: int
    arg: Any
    deref: tuple[int, ...]       # argument positions holding a Ref the kernel wants as a value
    kwargs: dict
    out: int
    nout: int
    free: tuple[int, ...]        # slots whose last use is this step
    node: Any                    # the Operation (or function-body node), for error messages
    ins: tuple[int, ...] = ()    # the input slots (for inspection)


def make_step(fn: Callable, ins: tuple[int, ...], deref_positions: tuple[int, ...], kwargs: dict, out: int,
              nout: int, free: tuple[int, ...], node: Any) -> Step:
    arity = len(ins)
    arg = ins[0] if arity == 1 else operator.itemgetter(*ins) if arity > 1 else None
    return Step(fn, arity, arg, deref_positions, kwargs, out, nout, free, node, ins)


def deref(value: Any) -> Any:
    """The array behind a ref-variable output (raises naming the variable when uninitialized)."""
    return value.get() if isinstance(value, Ref) else value


class FlatSchedule:
    """A compiled straight-line program. ``run(inputs)`` returns the values of ``output_slots``."""

    __slots__ = ("steps", "template", "input_slots", "output_slots", "copy_outputs", "num_ops", "finalize",
                 "_program", "_program_steps", "_runs", "_inputs_in_front")

    def __init__(self, steps: Sequence[Step], template: list, input_slots: Sequence[int],
                 output_slots: Sequence[int], copy_outputs: Sequence[bool], finalize: bool = True):
        self.steps = tuple(steps)
        self.template = template
        self.input_slots = tuple(input_slots)
        self.output_slots = tuple(output_slots)
        self.copy_outputs = tuple(copy_outputs)
        self.num_ops = len(self.steps)
        self.finalize = finalize
        self._program: Callable | None = None
        self._program_steps: tuple | None = None
        self._runs = 0
        # Inputs in slots 0..k-1 (the usual case) are placed with one slice assignment.
        self._inputs_in_front = self.input_slots == tuple(range(len(self.input_slots)))

    def run(self, inputs: Sequence[Any]) -> list[Any]:
        vals = self.template.copy()
        if self._inputs_in_front and len(inputs) == len(self.input_slots):
            vals[:len(inputs)] = inputs
        else:
            for slot, value in zip(self.input_slots, inputs):
                vals[slot] = value
        steps = self.steps
        if self._program_steps is steps:
            try:
                outputs = self._program(vals)
            except Exception as exc:  # noqa: BLE001 - re-raised with the node named
                _raise_from_program(exc, steps)
            return outputs if outputs is not None else self._outputs(vals)
        if self._program is None and self._runs:
            # The second run: the schedule is in use, generate its program once. An inner
            # schedule's program also returns its outputs.
            self._program = generate_program(steps, None if self.finalize else self.output_slots)
            self._program_steps = steps
            outputs = _run_program(self._program, steps, vals)
            return outputs if outputs is not None else self._outputs(vals)
        else:
            # The first run, or steps swapped by a caller (the profiler wraps kernels).
            self._runs += 1
            self._interpret(vals)
        return self._outputs(vals)

    def _interpret(self, vals: list) -> None:
        node = None
        try:
            for fn, arity, arg, refs, kwargs, out, nout, free, node, _ in self.steps:
                if refs:
                    args = [vals[arg]] if arity == 1 else list(arg(vals))
                    for position in refs:
                        value = args[position]
                        if isinstance(value, Ref):
                            args[position] = value.get()
                    result = fn(*args, **kwargs)
                elif arity == 1:
                    result = fn(vals[arg], **kwargs)
                elif arity:
                    result = fn(*arg(vals), **kwargs)
                else:
                    result = fn(**kwargs)
                if nout < 0:
                    vals[out] = result
                elif nout:
                    if len(result) != nout:
                        raise InvalidArgumentError(f"kernel returned {len(result)} outputs, the op has {nout}")
                    vals[out:out + nout] = result
                for slot in free:
                    vals[slot] = None
        except Exception as exc:  # noqa: BLE001 - re-raised with the node named
            error = node_error(node, exc)
            if error is exc:
                raise
            raise error from exc

    def _outputs(self, vals: list) -> list[Any]:
        if not self.finalize:
            return [vals[slot] for slot in self.output_slots]
        outputs = []
        for slot, copy in zip(self.output_slots, self.copy_outputs):
            value = vals[slot]
            if isinstance(value, Ref):
                value = value.get().copy()
            elif isinstance(value, np.ndarray) and (copy or not value.flags.writeable):
                value = value.copy()
            outputs.append(value)
        return outputs


_PROGRAM_FILE = "<flat schedule>"


def generate_program(steps: Sequence[Step], output_slots: Sequence[int] | None = None) -> Callable[[list], Any]:
    """A function ``program(vals)`` doing what the interpreted loop does for ``steps``, as
    straight-line code: line 2 + i is step i's call (``_run_program`` maps a failing line
    back to its node), followed by the frees of slots whose last use it was. It returns
    the list of ``output_slots`` values if given, else None."""
    namespace: dict[str, Any] = {"_deref": deref, "_outputs": _checked_outputs}
    lines = ["def program(vals):"]
    for i, step in enumerate(steps):
        namespace[f"f{i}"] = step.fn
        args = [f"vals[{s}]" for s in step.ins]
        for position in step.deref:
            args[position] = f"_deref({args[position]})"
        if all(name.isidentifier() and not keyword.iskeyword(name) for name in step.kwargs):
            for j, (name, value) in enumerate(step.kwargs.items()):
                namespace[f"k{i}_{j}"] = value
                args.append(f"{name}=k{i}_{j}")
        elif step.kwargs:
            namespace[f"kw{i}"] = step.kwargs
            args.append(f"**kw{i}")
        call = f"f{i}({', '.join(args)})"
        if step.nout < 0:
            line = f"vals[{step.out}] = {call}"
        elif step.nout:
            line = f"vals[{step.out}:{step.out + step.nout}] = _outputs({call}, {step.nout})"
        else:
            line = call
        if step.free:
            line += "; " + " = ".join(f"vals[{s}]" for s in step.free) + " = None"
        lines.append("    " + line)
    if output_slots is None:
        lines.append("    return None")
    else:
        lines.append("    return [" + ", ".join(f"vals[{s}]" for s in output_slots) + "]")
    exec(compile("\n".join(lines), _PROGRAM_FILE, "exec"), namespace)  # noqa: S102 - our own generated code
    return namespace["program"]


def _checked_outputs(result: Any, nout: int) -> Any:
    if len(result) != nout:
        raise InvalidArgumentError(f"kernel returned {len(result)} outputs, the op has {nout}")
    return result


def _run_program(program: Callable[[list], Any], steps: Sequence[Step], vals: list) -> Any:
    try:
        return program(vals)
    except Exception as exc:  # noqa: BLE001 - re-raised with the node named
        _raise_from_program(exc, steps)


def _raise_from_program(exc: Exception, steps: Sequence[Step]) -> None:
    """Re-raise ``exc`` from a generated program naming the node of the failing line."""
    node = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _PROGRAM_FILE and tb.tb_lineno >= 2:
            node = steps[tb.tb_lineno - 2].node
            break
        tb = tb.tb_next
    error = node_error(node, exc)
    if error is exc:
        raise exc
    raise error from exc


def node_error(node: Any, exc: BaseException) -> BaseException:
    """``exc`` with the failing node's name and type in front of its message.

    Our own errors keep their class (a FailedPreconditionError stays one); numpy's
    ValueError/IndexError become InvalidArgumentError; anything else (a kernel bug) keeps
    its class and gets a note naming the node.
    """
    if node is None:
        return exc
    where = f"{node.type} node {node.name!r}"
    message = str(exc)
    if isinstance(exc, OrchestratorError):
        if node.name in message:
            return exc
        try:
            return type(exc)(f"{where}: {message}")
        except TypeError:
            return exc
    if isinstance(exc, (ValueError, IndexError, ArithmeticError)):
        return InvalidArgumentError(f"{where}: {type(exc).__name__}: {message}")
    exc.add_note(f"(while running {where})")
    return exc
