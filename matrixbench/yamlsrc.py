"""Safe, bounded YAML loading that remembers where every key came from.

Suites are data, never code: only PyYAML's safe constructor is used, so a tag such as
``!!python/object`` is rejected before anything is constructed. Besides the data, the
loader returns a map from key paths (``("methods", 2, "mtp")``) to line numbers, so that
validation errors can name the file and the line.

Suites may come from anyone (a pull request, a bug report), so loading is bounded before
any Python data exists: the file's size, its encoding (UTF-8 only), the nesting depth,
and the number of nodes the document stands for once aliases are expanded (a 600-byte
"billion laughs" file stands for billions). The bounds are checked while the node graph
is composed, where an alias is still one shared node, and only a document within them is
constructed; every refusal is a :class:`SuiteError` with the file and the line.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent, MappingStartEvent, SequenceStartEvent
from yaml.resolver import Resolver

try:  # libyaml parses events in C: reaching the node limit then takes well under a second
    from yaml.cyaml import CParser as _FastParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _FastParser = None

KeyPath = tuple[Any, ...]

#: Largest suite file read, in bytes; the shipped suites are under 10 KB.
MAX_FILE_BYTES = 1 << 20
#: Most nodes (scalars, lists, mappings) a document may stand for, aliases expanded.
MAX_NODES = 100_000
#: Deepest nesting of lists and mappings; suites need about 6.
MAX_DEPTH = 64
#: Longest integer literal; Python refuses to convert more than 4300 digits anyway.
MAX_INT_DIGITS = 1000

_STR_TAG = "tag:yaml.org,2002:str"
_INT_TAG = "tag:yaml.org,2002:int"
_MERGE_TAG = "tag:yaml.org,2002:merge"

# What YAML 1.1 accepts in a stream (PyYAML's Reader.NON_PRINTABLE, inverted).
_NON_PRINTABLE = re.compile("[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]")
_UTF16_32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


@dataclass
class SuiteError(Exception):
    """A problem in a suite: where it is, what was found, what was expected."""

    file: str
    line: int | None
    path: KeyPath
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        key = format_path(self.path)
        return f"{where}: {key + ': ' if key else ''}{self.message}"


def format_path(path: KeyPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass
class Source:
    """A loaded YAML document with its line map."""

    file: str
    data: Any
    lines: dict[KeyPath, int]
    #: SHA-256 of the bytes that were parsed (a suite's identity in run files).
    sha256: str = ""

    def line(self, path: KeyPath) -> int | None:
        """Line of ``path``, or of its closest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)

    def error(self, path: KeyPath, message: str) -> SuiteError:
        return SuiteError(self.file, self.line(path), tuple(path), message)


class _Limit(Exception):
    """A bound crossed while composing; carries the line (1-based) and the message."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


class _BoundedComposer(Composer):
    """PyYAML's composer, counting nodes and depth as it goes.

    An alias composes to the very node its anchor made, so the node graph stays as small
    as the file; the expanded size of each node is memoised by identity and added up as
    the document grows, which finds an alias bomb after a few dozen events, before any
    Python object is built. The lines of aliases are kept so that the line map can point
    at the alias itself rather than at its anchor.
    """

    def _init_bounds(self, max_nodes: int, max_depth: int) -> None:
        self.max_nodes = max_nodes
        self.max_depth = max_depth
        self.expanded = 0  # nodes the document stands for so far
        self.open_sizes: list[int] = []  # expanded sizes of the open collections
        self.sizes: dict[int, int] = {}  # id(node) -> expanded size, for finished nodes
        self.alias_lines: dict[tuple[int, int], int] = {}  # (id(list node), index) -> line

    def _count(self, size: int, line: int) -> None:
        self.expanded += size
        if self.open_sizes:
            self.open_sizes[-1] += size
        if self.expanded > self.max_nodes:
            what = "stands for" if self.alias_lines or self.anchors else "has"
            raise _Limit(line, f"the document {what} more than {self.max_nodes:,} nodes"
                               + (" once its aliases are expanded (an alias bomb?)" if what == "stands for" else "")
                               + "; a suite needs far fewer")

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, AliasEvent):
            return self._compose_alias(parent, index, line, event.anchor)
        if not isinstance(event, (SequenceStartEvent, MappingStartEvent)):
            node = super().compose_node(parent, index)
            self.sizes[id(node)] = 1
            self._count(1, line)
            return node
        if len(self.open_sizes) >= self.max_depth:
            raise _Limit(line, f"lists and mappings are nested more than {self.max_depth} deep")
        self.open_sizes.append(0)
        self._count(1, line)  # the collection itself, in its own size
        node = super().compose_node(parent, index)
        size = self.open_sizes.pop()
        self.sizes[id(node)] = size
        if self.open_sizes:
            self.open_sizes[-1] += size  # already in self.expanded, node by node
        return node

    def _compose_alias(self, parent: yaml.Node | None, index: Any, line: int, anchor: str) -> yaml.Node:
        node = super().compose_node(parent, index)
        size = self.sizes.get(id(node))
        if size is None:  # the anchor's collection is still open: the alias is inside it
            raise _Limit(line, f"alias *{anchor} refers to a collection that "
                               "contains it (a recursive structure)")
        if isinstance(index, int):  # a list item; a mapping value has its key's line
            self.alias_lines[(id(parent), index)] = line
        self._count(size, line)
        return node


def _loader_class() -> type:
    """A safe loader with the bounded composer, on libyaml's event parser when present."""
    if _FastParser is not None:
        class FastLoader(_BoundedComposer, _FastParser, SafeConstructor, Resolver):
            def __init__(self, text: str):
                _FastParser.__init__(self, text)
                Composer.__init__(self)
                SafeConstructor.__init__(self)
                Resolver.__init__(self)

        return FastLoader

    class PureLoader(_BoundedComposer, yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser,
                     SafeConstructor, Resolver):
        def __init__(self, text: str):
            yaml.reader.Reader.__init__(self, text)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

    return PureLoader


_Loader = _loader_class()


def _line_of_byte(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def _read_bytes(file: str, max_bytes: int) -> bytes:
    """The file's bytes, refusing one larger than ``max_bytes`` without reading it all."""
    try:
        with open(file, "rb") as fh:
            raw = fh.read(max_bytes + 1)
    except OSError as exc:
        raise SuiteError(file, None, (), f"cannot read the file: {exc.strerror or exc}") from None
    if len(raw) > max_bytes:
        raise SuiteError(file, None, (), f"the file is larger than {max_bytes:,} bytes; a suite is a few KB")
    return raw


def decode_utf8(raw: bytes) -> tuple[str, tuple[int, str] | None]:
    """Decode ``raw`` as UTF-8 (a leading UTF-8 BOM is dropped).

    Returns the text and ``None``, or ``""`` and ``(byte offset, why)`` for the first
    place where ``raw`` is not UTF-8 text: a UTF-16/32 byte-order mark, an invalid
    sequence, or a NUL byte (UTF-16 without a BOM, and binary files, are valid UTF-8
    up to their first NUL). Shared with :func:`matrixbench.store.read_run` so that
    suites and run files say the same thing.
    """
    for bom in _UTF16_32_BOMS:
        if raw.startswith(bom):
            return "", (0, "it starts with a UTF-16 or UTF-32 byte-order mark; save it as UTF-8")
    start = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    nul = raw.find(b"\x00")
    end = nul if nul >= 0 else len(raw)
    try:
        text = raw[start:end].decode("utf-8")
    except UnicodeDecodeError as exc:
        return "", (start + exc.start, "invalid UTF-8 byte sequence; save it as UTF-8")
    if nul >= 0:
        return "", (nul, "a NUL byte (UTF-16, or a binary file?)")
    return text, None


def _decode(file: str, raw: bytes) -> str:
    """The text of a suite, or a :class:`SuiteError` saying where it stops being text."""
    text, bad = decode_utf8(raw)
    if bad is not None:
        offset, why = bad
        raise SuiteError(file, _line_of_byte(raw, offset), (), f"not UTF-8 text (at byte {offset}): {why}")
    match = _NON_PRINTABLE.search(text)
    if match:
        offset = len(text[: match.start()].encode("utf-8")) + (3 if raw.startswith(codecs.BOM_UTF8) else 0)
        raise SuiteError(file, _line_of_byte(raw, offset), (),
                         f"control character U+{ord(match.group()):04X} at byte {offset} is not allowed in YAML")
    return text


def _yaml_error(file: str, exc: yaml.YAMLError) -> SuiteError:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        if isinstance(exc, yaml.constructor.ConstructorError):
            problem += " (suites are data: tags that construct objects are not allowed)"
        return SuiteError(file, line, (), f"YAML error: {problem}")
    return SuiteError(file, None, (), f"YAML error: {' '.join(str(exc).split())}")


def _load_bounded(file: str, text: str, sha256: str, max_nodes: int, max_depth: int) -> Source:
    """Compose within the bounds, map the lines, then construct.

    No Python data exists before the bounds are checked, and the line walk sees the
    document as written (the constructor flattens ``<<`` merge keys in place).
    """
    loader = _Loader(text)
    loader._init_bounds(max_nodes, max_depth)
    lines: dict[KeyPath, int] = {}
    try:
        node = loader.get_single_node()
        if node is None:
            return Source(file, None, lines, sha256)
        _walk(node, (), lines, file, loader.alias_lines, set())
        data = loader.construct_document(node)
    except _Limit as exc:
        raise SuiteError(file, exc.line, (), exc.message) from None
    except yaml.YAMLError as exc:
        if "maximum nesting depth" in str(getattr(exc, "problem", "")):  # libyaml's own bound, met first
            mark = exc.problem_mark
            raise SuiteError(file, mark.line + 1 if mark else None, (),
                             f"lists and mappings are nested more than {max_depth} deep") from None
        raise _yaml_error(file, exc) from None
    except ValueError as exc:  # a scalar the safe constructor cannot convert
        raise SuiteError(file, None, (), f"YAML error: {exc}") from None
    finally:
        loader.dispose()
    return Source(file, data, lines, sha256)


def load_yaml(
    path: str | Path,
    *,
    max_bytes: int = MAX_FILE_BYTES,
    max_nodes: int = MAX_NODES,
    max_depth: int = MAX_DEPTH,
) -> Source:
    """Load ``path`` safely; raise :class:`SuiteError` with the line on any YAML problem.

    The bounds (file size, expanded node count, nesting depth) are far above what a suite
    needs and far below what exhausts memory or the stack.
    """
    file = str(path)
    raw = _read_bytes(file, max_bytes)
    text = _decode(file, raw)
    return _load_bounded(file, text, hashlib.sha256(raw).hexdigest(), max_nodes, max_depth)


def _walk(
    node: yaml.Node,
    path: KeyPath,
    lines: dict[KeyPath, int],
    file: str,
    alias_lines: dict[tuple[int, int], int],
    seen_nodes: set[int],
) -> None:
    """Record the line of every key path, walking each node once.

    A node reached again through an alias is not walked again: its paths fall back to the
    line of the alias (see :meth:`Source.line`), and walking every expansion is what made
    an alias bomb cost gigabytes.
    """
    lines.setdefault(path, node.start_mark.line + 1)
    if id(node) in seen_nodes:
        return
    seen_nodes.add(id(node))
    if isinstance(node, yaml.ScalarNode) and node.tag == _INT_TAG and len(node.value) > MAX_INT_DIGITS:
        raise SuiteError(file, node.start_mark.line + 1, path,
                         f"an integer of {len(node.value):,} digits; no parameter needs more than {MAX_INT_DIGITS}")
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = _key_text(key_node, path, file)
            if key in seen:
                raise SuiteError(file, key_node.start_mark.line + 1, path + (key,), "duplicate key")
            seen.add(key)
            lines[path + (key,)] = key_node.start_mark.line + 1
            _walk(value_node, path + (key,), lines, file, alias_lines, seen_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[path + (i,)] = alias_lines.get((id(node), i), item.start_mark.line + 1)
            _walk(item, path + (i,), lines, file, alias_lines, seen_nodes)


def _key_text(key_node: yaml.Node, path: KeyPath, file: str) -> str:
    """A mapping key as text; other keys (``1:``, ``on:``, ``[a]:``) are refused.

    Every key of a suite is a name, and a key that YAML reads as a number, a boolean or a
    list would reach the schema checks and ``difflib`` as something they cannot handle.
    """
    if isinstance(key_node, yaml.ScalarNode) and key_node.tag in (_STR_TAG, _MERGE_TAG):
        return key_node.value
    if not isinstance(key_node, yaml.ScalarNode):
        what = "a list" if isinstance(key_node, yaml.SequenceNode) else "a mapping"
        raise SuiteError(file, key_node.start_mark.line + 1, path, f"{what} as a key; keys are names")
    kind = key_node.tag.rsplit(":", 1)[-1]
    raise SuiteError(file, key_node.start_mark.line + 1, path,
                     f"key {key_node.value!r} is not text (YAML reads it as {kind}); keys are names: quote it")
