"""A hardened YAML loader for model-card front matter and policy files.

The text is checked against a size cap, then read as a stream of parser events (libyaml when available) and
built into plain Python values by a small iterative builder, so every bound is enforced *before* anything is
constructed: no anchors or aliases (no alias bombs), no tags beyond the core scalar/collection ones, bounded
nesting depth and node count, one document only, no duplicate keys. Values are what `yaml.safe_load` gives,
except that timestamps stay strings (evidence must serialise to JSON) and merge keys (`<<`) are refused.

Errors are `MalformedFileError` / `LimitExceededError` whose target is `name:line:col`, with `line_offset`
added so that front matter errors point at the README line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml import events
from yaml.constructor import SafeConstructor
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from provenance.errors import LimitExceededError, MalformedFileError

MAX_BYTES = 256 * 1024
MAX_DEPTH = 64
MAX_NODES = 200_000

KeyPath = tuple[str | int, ...]
"""Where a value sits: mapping keys as strings, sequence indices as ints, e.g. ("model-index", 0, "name")."""

_EventParser: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_CORE}{t}" for t in ("str", "int", "float", "bool", "null")}
_STRING_TAGS = {f"{_CORE}timestamp", f"{_CORE}value"}
_COLLECTION_TAGS = {events.SequenceStartEvent: f"{_CORE}seq", events.MappingStartEvent: f"{_CORE}map"}
_NO_KEY = object()


def load(
    text: str,
    name: str,
    *,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
    max_nodes: int = MAX_NODES,
    line_offset: int = 0,
) -> Any:
    """Parse one YAML document under the bounds above; an empty document is None."""
    value, _ = load_with_lines(
        text, name, max_bytes=max_bytes, max_depth=max_depth, max_nodes=max_nodes, line_offset=line_offset
    )
    return value


def load_with_lines(
    text: str,
    name: str,
    *,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
    max_nodes: int = MAX_NODES,
    line_offset: int = 0,
) -> tuple[Any, dict[KeyPath, int]]:
    """Like `load`, plus the 1-based line (offset included) of every mapping key and sequence item."""
    _check_size(text, name, max_bytes)
    builder = _Builder(name, max_depth, max_nodes, line_offset)
    try:
        for event in _events(text):
            builder.feed(event)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, name, line_offset) from None
    except yaml.reader.ReaderError as exc:
        line, col = _line_col(text, exc.position)
        raise MalformedFileError(
            f"{name}:{line + line_offset}:{col}", f"invalid YAML: {exc.reason}"
        ) from None
    return builder.root, builder.lines


def _check_size(text: str, name: str, max_bytes: int) -> None:
    size = len(text)
    if size <= max_bytes:
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError as exc:
            raise MalformedFileError(name, f"YAML text is not encodable as UTF-8: {exc.reason}") from None
    if size > max_bytes:
        raise LimitExceededError(name, f"YAML is over the size cap ({size} > {max_bytes} bytes); not parsed")


def _events(text: str) -> Iterator[events.Event]:
    parser = _EventParser(text)
    try:
        while parser.check_event():
            yield parser.get_event()
    finally:
        parser.dispose()


def _syntax_error(exc: yaml.MarkedYAMLError, name: str, line_offset: int) -> MalformedFileError:
    mark = exc.problem_mark or exc.context_mark
    where = f"{name}:{mark.line + 1 + line_offset}:{mark.column + 1}" if mark else name
    if "maximum nesting depth" in str(exc.problem):  # libyaml's own bound, met while scanning ahead
        return LimitExceededError(where, "nesting too deep")
    context = f" ({exc.context})" if exc.context else ""
    return MalformedFileError(where, f"invalid YAML: {exc.problem}{context}")


def _line_col(text: str, position: int) -> tuple[int, int]:
    before = text[:position]
    return before.count("\n") + 1, position - (before.rfind("\n") + 1) + 1


def _shorthand(tag: str) -> str:
    return "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag


@dataclass
class _Frame:
    container: dict[Any, Any] | list[Any]
    path: KeyPath
    key: Any = _NO_KEY
    key_lines: dict[Any, int] = field(default_factory=dict)


class _Builder:
    """Turns parser events into values, one event at a time, refusing anything outside the safe subset."""

    def __init__(self, name: str, max_depth: int, max_nodes: int, line_offset: int) -> None:
        self.name, self.max_depth, self.max_nodes, self.line_offset = name, max_depth, max_nodes, line_offset
        self.root: Any = None
        self.lines: dict[KeyPath, int] = {}
        self.stack: list[_Frame] = []
        self.documents = 0
        self.nodes = 0
        self.resolver: Any = Resolver()  # PyYAML's stubs leave these untyped
        self.constructor: Any = SafeConstructor()

    def feed(self, event: events.Event) -> None:
        if isinstance(event, events.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise self._error(event, "a second YAML document is not allowed (only one `---` block)")
        elif isinstance(event, events.AliasEvent):
            raise self._error(event, f"YAML aliases are not allowed (*{event.anchor})")
        elif isinstance(event, events.NodeEvent):
            self._node(event)
        elif isinstance(event, events.CollectionEndEvent):
            frame = self.stack.pop()
            self._add(frame.container, event)

    def _node(self, event: events.NodeEvent) -> None:
        if event.anchor is not None:
            raise self._error(event, f"YAML anchors are not allowed (&{event.anchor})")
        self.nodes += 1
        if self.nodes > self.max_nodes:
            raise self._error(event, f"more than {self.max_nodes} YAML nodes", LimitExceededError)
        if isinstance(event, events.ScalarEvent):
            self._add(self._scalar(event), event)
        elif isinstance(event, events.SequenceStartEvent | events.MappingStartEvent):
            self._open(event)

    def _open(self, event: events.CollectionStartEvent) -> None:
        default_tag = _COLLECTION_TAGS[type(event)]
        if event.tag not in (None, "!", default_tag):
            raise self._error(event, f"YAML tag {_shorthand(event.tag)} is not allowed")
        if len(self.stack) >= self.max_depth:
            raise self._error(event, f"nesting too deep (over {self.max_depth} levels)", LimitExceededError)
        path = self._child_path(event)
        container: dict[Any, Any] | list[Any] = [] if isinstance(event, events.SequenceStartEvent) else {}
        self.stack.append(_Frame(container, path))

    def _child_path(self, event: events.NodeEvent) -> KeyPath:
        if not self.stack:
            return ()
        top = self.stack[-1]
        if isinstance(top.container, list):
            path = (*top.path, len(top.container))
            self.lines[path] = self._line(event)
            return path
        if top.key is _NO_KEY:
            raise self._error(event, "mapping keys must be scalars, not lists or mappings")
        return (*top.path, str(top.key))

    def _add(self, value: Any, event: events.Event) -> None:
        if not self.stack:
            self.root = value
            return
        top = self.stack[-1]
        if isinstance(top.container, list):
            if not isinstance(event, events.CollectionEndEvent):
                self.lines[(*top.path, len(top.container))] = self._line(event)
            top.container.append(value)
        elif top.key is _NO_KEY:
            self._set_key(top, value, event)
        else:
            top.container[top.key] = value
            top.key = _NO_KEY

    def _set_key(self, frame: _Frame, key: Any, event: events.Event) -> None:
        line = self._line(event)
        if key in frame.key_lines:
            raise self._error(event, f"duplicate key {key!r} (first at line {frame.key_lines[key]})")
        frame.key_lines[key] = line
        frame.key = key
        self.lines[(*frame.path, str(key))] = line

    def _scalar(self, event: events.ScalarEvent) -> Any:
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.resolver.resolve(ScalarNode, event.value, event.implicit)
        if tag in _STRING_TAGS or tag == f"{_CORE}str":
            return event.value
        if tag == f"{_CORE}merge":
            raise self._error(event, "YAML merge keys (<<) are not allowed")
        if tag not in _SCALAR_TAGS:
            raise self._error(event, f"YAML tag {_shorthand(tag)} is not allowed")
        node = ScalarNode(tag, event.value)
        try:
            return getattr(self.constructor, f"construct_yaml_{tag[len(_CORE) :]}")(node)
        except (ValueError, KeyError) as exc:
            raise self._error(event, f"invalid {_shorthand(tag)} value {event.value[:40]!r}: {exc}") from None

    def _line(self, event: events.Event) -> int:
        mark = event.start_mark
        return (mark.line if mark else 0) + 1 + self.line_offset

    def _error(
        self, event: events.Event, problem: str, cls: type[MalformedFileError] = MalformedFileError
    ) -> MalformedFileError:
        column = event.start_mark.column if event.start_mark else 0
        return cls(f"{self.name}:{self._line(event)}:{column + 1}", problem)
