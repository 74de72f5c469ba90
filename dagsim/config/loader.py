"""Read a scenario file into a validated, frozen :class:`Scenario`, or report every problem.

YAML is composed with the safe loader into a node tree and the plain data is built here,
so that the start of every key and value is known by path: every YAML, schema or rule
problem then points at its line and column.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ValidationError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from dagsim.config.errors import DOCUMENT, Loc, Problem, ScenarioError, format_path
from dagsim.config.rules import check_scenario
from dagsim.config.schema import Scenario

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_VALUES",
    "Marks",
    "Position",
    "load_scenario",
    "load_scenario_data",
    "load_scenario_text",
    "load_scenario_with_marks",
]

_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"
# Limits that keep reading any file cheap (docs/scenario-reference.md, "Limits"). Aliases can
# expand a small file into an enormous tree ("billion laughs"); a real scenario with a hundred
# databases of sixteen copies has about 20,000 values.
MAX_FILE_BYTES = 5 * 1024**2
MAX_VALUES = 200_000
MAX_DEPTH = 20
_MAX_NODES = MAX_VALUES


@dataclass(frozen=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based


_START = Position(1, 1)


@dataclass
class Marks:
    """Where each value and each mapping key starts in the file, by path."""

    values: dict[Loc, Position] = field(default_factory=dict)
    keys: dict[Loc, Position] = field(default_factory=dict)
    # Source text of unquoted scalars that YAML typed as other than a string (`no` is
    # false, `2013` a number), for a hint when a name was expected.
    typed_text: dict[Loc, str] = field(default_factory=dict)

    def value(self, loc: Loc) -> Position:
        """The start of the value at `loc`, or of its nearest ancestor that is in the file."""
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.values:
                return self.values[loc[:end]]
        return _START

    def key(self, loc: Loc) -> Position:
        """The start of the key of `loc`, falling back to its value."""
        return self.keys.get(loc) or self.value(loc)


@dataclass(frozen=True)
class _Found:
    """A problem before it is given a file name."""

    position: Position
    loc: Loc
    message: str

    def in_file(self, file: str) -> Problem:
        line, column = self.position.line, self.position.column
        return Problem(file, line, column, format_path(self.loc), self.message)


@dataclass
class _Parsed:
    data: dict[str, Any] | None
    marks: Marks = field(default_factory=Marks)
    found: list[_Found] = field(default_factory=list)
    # Values that could not be read (and were replaced by None): schema errors under
    # them would only repeat the problem already reported.
    unreadable: set[Loc] = field(default_factory=set)


class _TooLarge(Exception):
    pass


def _position(mark: yaml.Mark) -> Position:
    return Position(mark.line + 1, mark.column + 1)


class _Builder:
    """Plain Python data from a YAML node tree, recording marks and YAML-level problems."""

    def __init__(self) -> None:
        self.parsed = _Parsed(data=None)
        self._constructor = SafeConstructor()
        self._open: set[int] = set()  # nodes being built: an alias to one is a cycle
        self._budget = _MAX_NODES

    def build(self, node: Node, loc: Loc) -> Any:
        self._spend()
        self.parsed.marks.values.setdefault(loc, _position(node.start_mark))
        if id(node) in self._open:
            return self._unreadable(node, loc, "an alias refers to a value that contains it")
        self._open.add(id(node))
        try:
            if isinstance(node, MappingNode):
                if node.tag != _MAP_TAG:
                    return self._unreadable(node, loc, f"unsupported YAML tag {node.tag!r}")
                return self._mapping(node, loc)
            if isinstance(node, SequenceNode):
                if node.tag != _SEQ_TAG:
                    return self._unreadable(node, loc, f"unsupported YAML tag {node.tag!r}")
                return [self.build(item, (*loc, i)) for i, item in enumerate(node.value)]
            return self._scalar(node, loc)
        finally:
            self._open.discard(id(node))

    def _spend(self) -> None:
        self._budget -= 1
        if self._budget < 0:
            raise _TooLarge

    def _problem(self, node: Node, loc: Loc, message: str) -> None:
        self.parsed.found.append(_Found(_position(node.start_mark), loc, message))

    def _unreadable(self, node: Node, loc: Loc, message: str) -> None:
        self._problem(node, loc, message)
        self.parsed.unreadable.add(loc)

    def _scalar(self, node: ScalarNode, loc: Loc) -> Any:
        try:
            value = self._constructor.construct_object(node, deep=True)
        except ConstructorError as error:
            return self._unreadable(node, loc, error.problem or "cannot read this value")
        except (ValueError, OverflowError):
            # Python refuses to convert integers of thousands of digits.
            return self._unreadable(node, loc, f"a number of {len(node.value):,} characters is out of range")
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        if is_number and ":" in node.value:
            # YAML 1.1 reads 1:30 as the base-60 number 90: 90 seconds, or was 1h30m meant?
            message = f"YAML reads {node.value} as the number {value}; write a unit, e.g. '1h30m'"
            return self._unreadable(node, loc, message)
        if isinstance(value, bool | int | float) and node.style is None:
            self.parsed.marks.typed_text[loc] = node.value
        return value

    def _mapping(self, node: MappingNode, loc: Loc) -> dict[str, Any]:
        data: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node, explicit in self._pairs(node, loc):
            if not isinstance(key_node, ScalarNode):
                self._problem(key_node, loc, "a key must be a plain name, not a list or mapping")
                continue
            # The key's source text, not its YAML 1.1 type: `on:` or `1:` stay strings.
            key = key_node.value
            here = _position(key_node.start_mark)
            if key in data:
                if explicit:
                    message = f"duplicate key {key!r} (first at line {first_line[key]})"
                    self._problem(key_node, (*loc, key), message)
                continue  # keys merged in with `<<` never override explicit ones
            first_line[key] = here.line
            self.parsed.marks.keys[(*loc, key)] = here
            data[key] = self.build(value_node, (*loc, key))
        return data

    def _pairs(self, node: MappingNode, loc: Loc) -> Iterator[tuple[Node, Node, bool]]:
        """Explicit key/value pairs, then those merged in with ``<<`` (flagged False)."""
        sources: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                is_list = isinstance(value_node, SequenceNode)
                sources.extend(value_node.value if is_list else [value_node])
            else:
                yield key_node, value_node, True
        for source in sources:
            self._spend()
            if isinstance(source, MappingNode):
                for key_node, value_node, _ in self._pairs(source, loc):
                    yield key_node, value_node, False
            else:
                self._problem(source, loc, "a merge key (<<) must refer to a mapping")


def _whole_file(message: str, position: Position = _START) -> _Parsed:
    return _Parsed(data=None, found=[_Found(position, (), message)])


def _syntax_error(error: yaml.YAMLError, text: str) -> _Parsed:
    unclosed = isinstance(error, yaml.scanner.ScannerError) or "flow" in (getattr(error, "context", None) or "")
    if isinstance(error, yaml.MarkedYAMLError) and unclosed and error.context_mark is not None:
        # An unclosed quote or bracket is noticed where the text ends; the defect is where
        # the scanner started reading the token.
        position = _position(error.context_mark)
        message = f"{error.context}: {error.problem or 'invalid YAML'}"
        if error.problem_mark is not None:
            message += f" (at line {error.problem_mark.line + 1})"
    elif isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        position = _position(error.problem_mark)
        message = error.problem or "invalid YAML"
        if error.context and error.context_mark is not None:
            message += f" ({error.context} at line {error.context_mark.line + 1})"
        elif error.context:
            message += f" ({error.context})"
    elif isinstance(error, yaml.reader.ReaderError):
        before = text[: error.position]
        position = Position(before.count("\n") + 1, len(before) - before.rfind("\n"))
        message = f"character {error.character!r} is not allowed in YAML"
    else:
        position, message = _START, str(error)
    return _whole_file(f"YAML syntax error: {message}", position)


def _prescan(text: str) -> _Parsed | None:
    """Refuse deep nesting and alias bombs from the event stream, before any tree is built.

    The event parser does not recurse, so this is safe on any input; it finds where the
    nesting gets too deep and which alias expands the file too far.
    """
    depth = 0
    counts: list[int] = [0]  # values within each open collection, aliases expanded
    anchors: list[str | None] = [None]
    sizes: dict[str, int] = {}
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    message = f"the YAML is nested more than {MAX_DEPTH} levels deep"
                    return _whole_file(message, _position(event.start_mark))
                counts.append(0)
                anchors.append(event.anchor)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
                inner = counts.pop() + 1
                anchor = anchors.pop()
                if anchor is not None:
                    sizes[anchor] = inner
                counts[-1] += inner
            elif isinstance(event, yaml.ScalarEvent):
                counts[-1] += 1
                if event.anchor is not None:
                    sizes[event.anchor] = 1
            elif isinstance(event, yaml.AliasEvent):
                counts[-1] += sizes.get(event.anchor, 1)
            else:
                continue
            if sum(counts) > MAX_VALUES:
                message = f"the YAML holds too many values: more than {MAX_VALUES:,} (aliases expanded)"
                return _whole_file(message, _position(event.start_mark))
    except yaml.YAMLError:
        return None  # composing reports syntax errors with their context
    return None


def _parse(text: str) -> _Parsed:
    refused = _prescan(text)
    if refused is not None:
        return refused
    builder = _Builder()
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        if root is None:
            return _whole_file("the file is empty; expected a scenario mapping")
        if not isinstance(root, MappingNode):
            message = "a scenario must be a mapping of keys (sites, servers, databases, ...)"
            return _whole_file(message, _position(root.start_mark))
        builder.parsed.data = builder.build(root, ())
    except yaml.YAMLError as error:
        return _syntax_error(error, text)
    except RecursionError:
        return _whole_file("the YAML is nested too deeply")
    except _TooLarge:
        return _whole_file("the YAML expands to too many values (aliases within aliases?)")
    return builder.parsed


# -- pydantic errors -> located problems --


def _unwrap(annotation: Any) -> Any:
    """Strip ``Annotated[...]`` and ``| None`` to reach the type that holds children."""
    while True:
        if typing.get_origin(annotation) is Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if typing.get_origin(annotation) in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) == 1:
                annotation = members[0]
                continue
        return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _tagged_members(annotation: Any) -> dict[str, type[BaseModel]]:
    """For a union of models told apart by a literal field (timeline actions): tag -> model."""
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType):
        return {}
    tags = {}
    for member in filter(_is_model, typing.get_args(annotation)):
        for info in member.model_fields.values():
            literal = typing.get_args(info.annotation)
            if typing.get_origin(info.annotation) is Literal and len(literal) == 1:
                tags[literal[0]] = member
    return tags


def _child(annotation: Any, part: str | int) -> Any:
    if isinstance(part, int) and typing.get_origin(annotation) is tuple:
        args = typing.get_args(annotation)
        if len(args) == 2 and args[1] is Ellipsis:
            return args[0]
        return args[part] if part < len(args) else None
    if isinstance(part, str) and _is_model(annotation) and part in annotation.model_fields:
        return annotation.model_fields[part].annotation
    return None


def _resolve(raw_loc: tuple[str | int, ...]) -> tuple[Loc, type[BaseModel] | None]:
    """Pydantic's loc without union tags, and the model that owns its last key."""
    clean: list[str | int] = []
    annotation: Any = Scenario
    owner = None
    for part in raw_loc:
        annotation = _unwrap(annotation)
        tagged = _tagged_members(annotation)
        if part in tagged:
            annotation = tagged[part]
            continue
        clean.append(part)
        owner = annotation if _is_model(annotation) else None
        annotation = _child(annotation, part)
    return tuple(clean), owner


def _tags_at(loc: Loc) -> list[str]:
    annotation: Any = Scenario
    for part in loc:
        annotation = _child(_unwrap(annotation), part)
    return list(_tagged_members(_unwrap(annotation)))


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _shown(value: object) -> str:
    """A value as a YAML author would recognise it."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return repr(value)


_REWORDED = {
    "model_type": "should be a mapping of keys to values",
    "model_attributes_type": "should be a mapping of keys to values",
    "dict_type": "should be a mapping of keys to values",
    "tuple_type": "should be a list",
    "string_pattern_mismatch": (
        "a name starts with a letter or digit and has only letters, digits, '_', '.' and '-'"
    ),
}


def _message(error: Mapping[str, Any], loc: Loc, owner: type[BaseModel] | None) -> str:
    kind, context = error["type"], error.get("ctx", {})
    if kind == "extra_forbidden":
        key = str(loc[-1])
        return f"unknown key {key!r}" + _did_you_mean(key, owner.model_fields if owner else ())
    if kind == "missing":
        if isinstance(loc[-1], int):
            return f"missing item {loc[-1] + 1} of the list"
        return f"missing required key {loc[-1]!r}"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        # `loc` ends with the tag's key (`action`), appended by the caller.
        valid = re.findall(r"'([^']*)'", context.get("expected_tags", "")) or _tags_at(loc[:-1])
        listing = f"(valid {loc[-1]}s: {', '.join(valid)})"
        if kind == "union_tag_not_found":
            return f"missing required key {loc[-1]!r} {listing}"
        tag = str(context.get("tag"))
        return f"unknown {loc[-1]} {tag!r}{_did_you_mean(tag, valid)} {listing}"
    message = _REWORDED.get(kind) or error["msg"]
    message = message.removeprefix("Value error, ").replace(" after validation", "")
    if message.startswith("Input should be a valid") and ", " in message:
        message = message.split(", ")[0]  # pydantic's parser detail; the value is shown instead
    message = re.sub(r"^(Input|Tuple|List|String|Dictionary) should", "should", message)
    if kind not in ("value_error", "too_short", "too_long") and "got" not in message:
        message += f", got {_shown(error.get('input'))}"
    return message


def _schema_problems(error: ValidationError, parsed: _Parsed) -> list[_Found]:
    marks = parsed.marks
    errors = [(details, *_resolve(details["loc"])) for details in error.errors(include_url=False)]
    failed_within = {loc[:end] for _, loc, _ in errors for end in range(len(loc))}
    found = []
    for details, loc, owner in errors:
        kind = details["type"]
        if any(loc[: len(bad)] == bad for bad in parsed.unreadable):
            continue
        if kind == "too_short" and loc in failed_within:
            continue  # pydantic counts only the items that validated: it repeats their errors
        if kind == "extra_forbidden":
            position = marks.key(loc)
        elif kind in ("union_tag_invalid", "union_tag_not_found"):
            loc = (*loc, details.get("ctx", {}).get("discriminator", "'action'").strip("'"))
            position = marks.value(loc if kind == "union_tag_invalid" else loc[:-1])
        else:
            position = marks.value(loc)
        message = _message(details, loc, owner)
        if kind == "string_type" and loc in marks.typed_text:
            text, value = marks.typed_text[loc], details["input"]
            read_as = _shown(value) if isinstance(value, bool) else "a number"
            message += f" (YAML reads {text} as {read_as}; write it in quotes: '{text}')"
        found.append(_Found(position, loc, message))
    return found


def _sorted(found: Iterable[_Found], file: str) -> list[Problem]:
    problems = dict.fromkeys(f.in_file(file) for f in found)  # drops exact repeats
    return sorted(problems, key=lambda p: (p.line, p.column))


def _too_large(size: int, file: str) -> ScenarioError:
    message = f"the file has {size:,} bytes; a scenario file can have at most {MAX_FILE_BYTES:,} (5 MB)"
    return ScenarioError([Problem(file, 1, 1, DOCUMENT, message)])


def _read(path: Path, file: str) -> str:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise _too_large(size, file)
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        before = raw[: error.start]
        line_start = before.rfind(b"\n") + 1
        line = before.count(b"\n") + 1
        column = len(before[line_start:].decode("utf-8", errors="replace")) + 1
        message = f"the file is not UTF-8 text (byte {raw[error.start]:#04x})"
        raise ScenarioError([Problem(file, line, column, DOCUMENT, message)]) from None


# -- public API --


def load_scenario(path: str | PathLike[str]) -> Scenario:
    """A validated, frozen scenario from a YAML file.

    Raises :class:`ScenarioError` listing every problem in the file, or :class:`OSError`
    (e.g. :class:`FileNotFoundError`) if it cannot be read.
    """
    file = str(path)
    return load_scenario_text(_read(Path(path), file), filename=file)


def load_scenario_text(text: str, filename: str = "<string>") -> Scenario:
    """A validated, frozen scenario from YAML text; `filename` is used in problems."""
    if len(text) > MAX_FILE_BYTES:
        raise _too_large(len(text), filename)
    return _load_text(text, filename)[0]


def load_scenario_with_marks(path: str | PathLike[str]) -> tuple[Scenario, Marks]:
    """A validated scenario from a YAML file and where each of its keys and values starts.

    The marks locate what the file says by path, e.g. ``marks.value(("expect", 2))`` is
    the line and column of the third expectation. Raises as :func:`load_scenario`.
    """
    file = str(path)
    return _load_text(_read(Path(path), file), file)


def _load_text(text: str, filename: str) -> tuple[Scenario, Marks]:
    parsed = _parse(text)
    if parsed.data is None:
        raise ScenarioError(_sorted(parsed.found, filename))
    try:
        scenario = Scenario.model_validate(parsed.data)
    except ValidationError as error:
        found = parsed.found + _schema_problems(error, parsed)
        raise ScenarioError(_sorted(found, filename)) from None
    if parsed.found:
        raise ScenarioError(_sorted(parsed.found, filename))
    # Rules need the whole structure valid, so they run only once the file reads cleanly.
    marks = parsed.marks
    found = [_Found(marks.value(loc), loc, message) for loc, message in check_scenario(scenario)]
    if found:
        raise ScenarioError(_sorted(found, filename))
    return scenario, marks


def load_scenario_data(path: str | PathLike[str]) -> tuple[dict[str, Any], Marks]:
    """The plain data of a scenario file and where each of its keys and values starts.

    Only YAML problems (syntax, duplicate keys, a top level that is not a mapping) raise
    :class:`ScenarioError` here; the data is not checked against the schema.
    """
    file = str(path)
    parsed = _parse(_read(Path(path), file))
    if parsed.data is None or parsed.found:
        raise ScenarioError(_sorted(parsed.found, file))
    return parsed.data, parsed.marks
