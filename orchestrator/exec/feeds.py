"""``Session.run`` argument handling: fetch structures and feed values, as TF1 defines them.

Fetches may be an Operation, a Tensor, a name (``"train_op"``, ``"loss:0"``) or any
nesting of lists, tuples, namedtuples and dicts of those; the result has the same
structure, with ``None`` for operations. Feed values are converted to the fed tensor's
dtype and checked against its (known) shape before anything runs.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from orchestrator.dtypes import DType
from orchestrator.errors import InvalidArgumentError
from orchestrator.graph.model import Graph, Operation, Tensor


Lookup = Callable[[Any], Any]   # name/Tensor/Operation -> graph element (Graph.as_graph_element)


def flatten_fetches(fetches: Any, graph: Graph, lookup: Lookup | None = None
                    ) -> tuple[list[Tensor | Operation], Callable[[list], Any]]:
    """The graph elements in ``fetches`` (depth first) and a function rebuilding the structure."""
    elements: list[Tensor | Operation] = []
    lookup = lookup or graph.as_graph_element

    def walk(item: Any) -> Callable[[list], Any]:
        if isinstance(item, Mapping):
            keys = list(item.keys())
            builders = [walk(item[k]) for k in keys]
            kind = type(item)

            def rebuild_mapping(values: list) -> Any:
                built = [(k, b(values)) for k, b in zip(keys, builders)]
                try:
                    return kind(built)
                except TypeError:   # e.g. defaultdict: its first argument is the factory
                    return dict(built)
            return rebuild_mapping
        if isinstance(item, (list, tuple)):
            builders = [walk(x) for x in item]
            if isinstance(item, tuple) and hasattr(item, "_fields"):   # namedtuple
                return lambda values: type(item)(*(b(values) for b in builders))
            kind = type(item) if type(item) in (list, tuple) else (list if isinstance(item, list) else tuple)
            return lambda values: kind(b(values) for b in builders)
        if item is None:
            raise InvalidArgumentError("Fetch argument None has invalid type <class 'NoneType'>: "
                                       "fetch an Operation, a Tensor or a name")
        try:
            element = lookup(item)
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(f"Fetch argument {item!r} cannot be interpreted as a Tensor or "
                                       f"Operation: {exc}") from None
        index = len(elements)
        elements.append(element)
        return lambda values: values[index]

    return elements, walk(fetches)


def resolve_feeds(feed_dict: Mapping | None, graph: Graph, lookup: Lookup | None = None
                  ) -> tuple[list[Tensor], list[Any]]:
    """Fed tensors (sorted by name, so equal feed sets share a compiled plan) and converted values."""
    if not feed_dict:
        return [], []
    lookup = lookup or graph.as_graph_element
    resolved: dict[str, tuple[Tensor, Any]] = {}
    for key, value in feed_dict.items():
        try:
            tensor = lookup(key)
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(f"Cannot interpret feed_dict key {key!r} as a Tensor: {exc}") from None
        if not isinstance(tensor, Tensor):
            raise InvalidArgumentError(f"Cannot interpret feed_dict key {key!r} as a Tensor: it names operation "
                                       f"{tensor.name!r}; feed one of its outputs, e.g. '{tensor.name}:0'")
        if tensor.name in resolved:
            raise InvalidArgumentError(f"tensor {tensor.name!r} is fed twice in feed_dict")
        resolved[tensor.name] = (tensor, convert_feed(tensor, value))
    names = sorted(resolved)
    return [resolved[n][0] for n in names], [resolved[n][1] for n in names]


def convert_feed(tensor: Tensor, value: Any) -> Any:
    """``value`` as an array of ``tensor``'s dtype; InvalidArgumentError on a dtype or shape mismatch.

    Like TF, Python scalars and lists take the tensor's dtype, and arrays are converted
    within a kind (float64 → float32, int64 → int32, int → float); a conversion that would
    lose meaning (float → int, anything → bool but bool, numbers ↔ strings) is refused.
    """
    if value.__class__ is np.ndarray and value.dtype == tensor.dtype.numpy:   # the common case
        _check_shape(tensor, value.shape)
        return value
    if isinstance(value, (Tensor, Operation)):
        raise InvalidArgumentError(f"The value of a feed cannot be a graph element ({value!r}); feed "
                                   f"{tensor.name!r} with a numpy array, list or scalar")
    target = _numpy_dtype(tensor)
    if target is None:      # resource/variant feeds pass through as they are
        return value
    source = np.asarray(value) if not isinstance(value, np.ndarray) else value
    if target == object:
        if source.dtype.kind not in "OSU":
            raise _dtype_error(tensor, source.dtype)
        array = np.empty(source.shape, dtype=object)
        flat = array.reshape(-1)
        for i, item in enumerate(source.reshape(-1)):
            flat[i] = item.encode() if isinstance(item, str) else bytes(item)
    else:
        if not _castable(source, target, from_python=not isinstance(value, (np.ndarray, np.generic))):
            raise _dtype_error(tensor, source.dtype)
        array = source if source.dtype == target else source.astype(target)
    _check_shape(tensor, array.shape)
    return array


def _numpy_dtype(tensor: Tensor) -> np.dtype | None:
    if tensor.dtype in (DType.RESOURCE, DType.VARIANT):
        return None
    return tensor.dtype.numpy


def _kind(dtype: np.dtype) -> str:
    return "f" if dtype.kind == "V" and dtype.itemsize == 2 else dtype.kind   # bfloat16


_ALLOWED = {"b": "b", "i": "biu", "u": "biu", "f": "biuf", "c": "biufc"}


def _castable(source: np.ndarray, target: np.dtype, from_python: bool) -> bool:
    src, dst = _kind(source.dtype), _kind(target)
    if dst not in _ALLOWED or src not in _ALLOWED[dst]:
        return False
    if dst in "iu" and src in "iu" and from_python and source.size:
        # Python ints take the tensor's dtype when they fit (TF: "not compatible" otherwise).
        info = np.iinfo(target)
        return bool(source.min() >= info.min and source.max() <= info.max)
    return True


def _dtype_error(tensor: Tensor, found: np.dtype) -> InvalidArgumentError:
    return InvalidArgumentError(f"Cannot feed a value of dtype {found} to tensor {tensor.name!r}, which has "
                                f"dtype {tensor.dtype.tf_name}")


def _check_shape(tensor: Tensor, shape: tuple) -> None:
    expected = tensor.shape
    if expected is None or expected == shape:
        return
    if len(expected) != len(shape) or any(e is not None and e != s for e, s in zip(expected, shape)):
        text = "(" + ", ".join("?" if d is None else str(d) for d in expected) + ")"
        raise InvalidArgumentError(f"Cannot feed value of shape {tuple(shape)} for tensor {tensor.name!r}, "
                                   f"which has shape {text}")
