"""Node and tensor names: parsing, scope prefixes, validation and TF's `_1` renaming.

TF names are plain strings with conventions layered on top: ``"op:1"`` names output
1 of ``op``, ``"^op"`` is a control input, ``"loc:@op"`` in a ``_class`` attr names a
colocation group. Importing under a scope (or a second time into the same graph)
rewrites every one of those forms consistently; the helpers here are the only place
that knows the conventions.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from orchestrator.errors import InvalidArgumentError

# Node names TF accepts: its Python name_scope pattern also lets a backslash through, but
# the C++ graph (node_def_util) rejects one, so neither do we.
_OP_NAME_RE = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_./>-]*$")

COLOCATION_PREFIX = b"loc:@"
# export_meta_graph(export_scope=...) renames an input from outside the scope "x" to this + "x".
UNBOUND_INPUT_PREFIX = "$unbound_inputs_"


def is_valid_op_name(name: str) -> bool:
    return bool(_OP_NAME_RE.match(name))


def validate_scope(scope: str, what: str = "import_scope") -> str:
    """Check a root-level scope as TF's name_scope does; return it without a trailing '/'.

    >>> validate_scope("tower_0/")
    'tower_0'
    """
    if not isinstance(scope, str):
        raise InvalidArgumentError(f"{what} must be a string, found {type(scope).__name__} {scope!r}")
    stripped = scope[:-1] if scope.endswith("/") else scope
    if not _OP_NAME_RE.match(stripped):
        raise InvalidArgumentError(
            f"{what} {scope!r} is not a valid scope name: a root scope must start with a letter, "
            f"digit or '.', and contain only letters, digits and '_./>-' "
            f"(pattern {_OP_NAME_RE.pattern})")
    return stripped


def parse_tensor_name(name: str) -> tuple[str, int]:
    """Split ``"op:1"`` into ``("op", 1)``; a bare ``"op"`` means output 0."""
    op_name, sep, index = name.rpartition(":")
    if not sep:
        return name, 0
    if not index.isdigit():
        raise InvalidArgumentError(f"tensor name {name!r}: expected 'op_name:index' with a numeric index")
    return op_name, int(index)


def parse_input(name: str) -> tuple[str, int, bool]:
    """Split a NodeDef input string into (op name, output index, is_control)."""
    if name.startswith("^"):
        return name[1:], -1, True
    op_name, index = parse_tensor_name(name)
    return op_name, index, False


def format_input(op_name: str, index: int) -> str:
    """NodeDef spelling of a data input: output 0 is written without ':0'."""
    if index < 0:
        return "^" + op_name
    return op_name if index == 0 else f"{op_name}:{index}"


def prepend_scope(name: str, scope: str | None) -> str:
    """Prefix a node, tensor (``x:0``) or control (``^x``) name with ``scope/``."""
    if not scope:
        return name
    if name.startswith("^"):
        return "^" + scope + "/" + name[1:]
    return scope + "/" + name


def strip_scope(name: str, scope: str | None) -> str:
    """Remove a leading ``scope/`` from a node, tensor or control name (no-op otherwise)."""
    if not scope:
        return name
    control = name.startswith("^")
    bare = name[1:] if control else name
    prefix = scope.rstrip("/") + "/"
    if bare.startswith(prefix):
        bare = bare[len(prefix):]
    return ("^" if control else "") + bare


_NAME_MARKERS = ("^", "loc:@")


def scope_string_item(text: str, scope: str) -> str:
    """How TF's import prefixes a plain string of a collection: after a ``^``/``loc:@`` marker.

    >>> scope_string_item("loc:@w", "s")
    'loc:@s/w'
    """
    for marker in _NAME_MARKERS:
        if text.startswith(marker):
            return marker + scope + "/" + text[len(marker):]
    return scope + "/" + text


def unscope_string_item(text: str, scope: str) -> str | None:
    """The inverse for export: ``text`` without ``scope/`` (after any marker), or None if outside it."""
    marker = next((m for m in _NAME_MARKERS if text.startswith(m)), "")
    bare = text[len(marker):]
    if not bare.startswith(scope + "/"):
        return None
    return marker + bare[len(scope) + 1:]


def rename_tensor(name: str, rename_op: Callable[[str], str]) -> str:
    """Apply an op-name mapping to a tensor or control name, keeping ``:i`` / ``^``."""
    if name.startswith("^"):
        return "^" + rename_op(name[1:])
    op_name, sep, index = name.rpartition(":")
    if sep and index.isdigit():
        return rename_op(op_name) + ":" + index
    return rename_op(name)


def rename_colocation(values: Iterable[bytes], rename_op: Callable[[str], str]) -> list[bytes]:
    """Rewrite ``loc:@name`` entries of a ``_class`` attr; other entries are kept as they are."""
    out = []
    for value in values:
        if value.startswith(COLOCATION_PREFIX):
            target = value[len(COLOCATION_PREFIX):].decode("utf-8", "replace")
            value = COLOCATION_PREFIX + rename_op(target).encode()
        out.append(value)
    return out


def name_prefixes(name: str) -> list[str]:
    """``"a/b/c"`` → ``["a", "a/b"]``: the scopes a node name occupies."""
    parts = name.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


class ImportRenamer:
    """TF's graph-import renaming: a node whose name is taken gets ``_1``, ``_2``, ...

    A name is taken when an op of the graph has it or it is the scope of one (``w`` is
    taken by ``w/Assign``). Generated candidates also avoid every name and scope of the
    graph being imported, so a renamed node never collides with a later one.
    """

    def __init__(self, existing: Iterable[str], incoming: Iterable[str]):
        self._taken: set[str] = set()
        for name in existing:
            self._take(name)
        self._incoming: set[str] = set()
        for name in incoming:
            self._incoming.add(name)
            self._incoming.update(name_prefixes(name))

    def _take(self, name: str) -> None:
        self._taken.add(name)
        self._taken.update(name_prefixes(name))

    def assign(self, name: str) -> str:
        """The name a node called ``name`` gets; it is then taken."""
        candidate, count = name, 0
        while candidate in self._taken or (count > 0 and candidate in self._incoming):
            count += 1
            candidate = f"{name}_{count}"
        self._taken.add(candidate)   # its scopes are only taken for later imports
        return candidate


class UniqueNames:
    """Python TF's ``Graph.unique_name``: case-insensitive use counts per name."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}

    def mark(self, name: str) -> None:
        key = name.lower()
        self._counts[key] = max(self._counts.get(key, 0), 1)
        for prefix in name_prefixes(name):
            self._counts.setdefault(prefix.lower(), 1)

    def unique(self, name: str, mark_as_used: bool = True) -> str:
        key = name.lower()
        count = self._counts.get(key, 0)
        if mark_as_used:
            self._counts[key] = count + 1
        if count == 0:
            return name
        base = name
        while True:
            candidate = f"{base}_{count}"
            if candidate.lower() not in self._counts:
                if mark_as_used:
                    self._counts[candidate.lower()] = 1
                return candidate
            count += 1
