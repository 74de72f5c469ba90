"""What a sweep varies: ``--vary PATH=VALUES`` parsed, expanded to points, applied to a scenario.

A *path* walks the scenario as written in YAML: dotted keys, a list item by its ``name``
(``links.WAN.bandwidth``) or by index (``databases[0].mailboxes``), every item with ``[*]``
(``databases[*].mailboxes``). ``databases[*].copies=2..4`` is a copy *count*: every
database gets that many copies, placed as :func:`dagsim.sizing.copies.with_copies` does.

*Values* are a comma-separated list read as YAML scalars (``100Mbps,200Mbps``; ``2,3``;
``true,false``) or an inclusive integer range ``a..b``. Points are the grid of all values
(in the order the ``--vary`` options were given, the last varying fastest), or a Latin
hypercube of ``samples`` points drawn with the sweep's seed. Each point's scenario is
validated (schema and rules) before anything runs, and every problem is reported at once.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import yaml

from dagsim.config.schema import Scenario

__all__ = ["MAX_POINTS", "SweepError", "Variation", "apply_point", "grid", "latin_hypercube", "parse_vary"]

MAX_POINTS = 10_000
"""A sweep has at most this many points (bounded run time and memory)."""
MAX_VALUES = 1_000
_TOKEN = re.compile(r"^(?P<key>[A-Za-z_][A-Za-z0-9_-]*)?(?:\[(?P<index>\*|\d+)\])?$")


class SweepError(ValueError):
    """A sweep specification or one of its points is not valid; ``problems`` lists them all."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(problems))


@dataclass(frozen=True, slots=True)
class Variation:
    """One ``--vary``: a path and its values."""

    path: str
    values: tuple[object, ...]

    @property
    def column(self) -> str:
        return self.path


def _values(text: str) -> tuple[object, ...]:
    text = text.strip()
    match = re.fullmatch(r"(-?\d+)\s*\.\.\s*(-?\d+)", text)
    if match:
        low, high = int(match.group(1)), int(match.group(2))
        if high < low:
            raise ValueError(f"the range {text!r} is empty")
        if high - low + 1 > MAX_VALUES:
            raise ValueError(f"the range {text!r} has more than {MAX_VALUES:,} values")
        return tuple(range(low, high + 1))
    values = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            raise ValueError(f"an empty value in {text!r}")
        value = yaml.safe_load(part)
        if isinstance(value, (dict, list)) or value is None:
            raise ValueError(f"{part!r} is not a single value")
        values.append(value)
    if len(values) > MAX_VALUES:
        raise ValueError(f"more than {MAX_VALUES:,} values")
    return tuple(values)


def parse_vary(items: list[str]) -> tuple[Variation, ...]:
    """``PATH=VALUES`` strings as variations; raises :class:`SweepError` with every problem."""
    problems = []
    found = []
    for item in items:
        path, sep, values = item.partition("=")
        path = path.strip()
        if not sep or not path:
            problems.append(f"--vary {item!r}: write PATH=VALUES, e.g. links.WAN.bandwidth=100Mbps,200Mbps")
            continue
        try:
            _tokens(path)
            found.append(Variation(path, _values(values)))
        except ValueError as error:
            problems.append(f"--vary {item!r}: {error}")
    paths = [v.path for v in found]
    for path in {p for p in paths if paths.count(p) > 1}:
        problems.append(f"--vary {path!r} is given twice")
    if not items:
        problems.append("give at least one --vary PATH=VALUES")
    if problems:
        raise SweepError(problems)
    return tuple(found)


def _tokens(path: str) -> list[tuple[str | None, str | None]]:
    tokens = []
    for part in path.split("."):
        match = _TOKEN.match(part)
        if match is None or (match.group("key") is None and match.group("index") is None):
            raise ValueError(f"{part!r} in {path!r} is not a key, key[index] or key[*]")
        tokens.append((match.group("key"), match.group("index")))
    return tokens


def grid(variations: tuple[Variation, ...]) -> list[tuple[object, ...]]:
    """Every combination of values, the last variation varying fastest."""
    count = 1
    for v in variations:
        count *= len(v.values)
    if count > MAX_POINTS:
        raise SweepError([f"the grid has {count:,} points; at most {MAX_POINTS:,} are allowed (use --lhs N)"])
    return list(itertools.product(*(v.values for v in variations)))


def latin_hypercube(variations: tuple[Variation, ...], samples: int, seed: int) -> list[tuple[object, ...]]:
    """``samples`` points, each variation's values covered in equal strata, from ``seed``."""
    import numpy as np

    if not 1 <= samples <= MAX_POINTS:
        raise SweepError([f"--lhs takes between 1 and {MAX_POINTS:,} samples"])
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(0x4C4853,))))
    columns = []
    for v in variations:
        strata = (rng.permutation(samples) + rng.random(samples)) / samples  # one draw per stratum
        columns.append([v.values[min(int(u * len(v.values)), len(v.values) - 1)] for u in strata])
    return [tuple(column[i] for column in columns) for i in range(samples)]


def _select(node, key: str | None, index: str | None, path: str) -> list:
    """The children of ``node`` that one path token names."""
    if key is not None:
        if isinstance(node, dict):
            if key not in node:
                raise KeyError(f"{path}: no key {key!r} here (keys: {', '.join(map(str, node)) or 'none'})")
            node = node[key]
        elif isinstance(node, list):
            named = [item for item in node if isinstance(item, dict) and item.get("name") == key]
            if not named:
                names = [str(item.get("name")) for item in node if isinstance(item, dict)]
                raise KeyError(f"{path}: no item named {key!r} (names: {', '.join(names) or 'none'})")
            node = named[0]
        else:
            raise KeyError(f"{path}: {key!r} is below a single value")
    if index is None:
        return [node]
    if not isinstance(node, list):
        raise KeyError(f"{path}: [{index}] needs a list")
    if index == "*":
        return list(node)
    if int(index) >= len(node):
        raise KeyError(f"{path}: index {index} is beyond the {len(node)} items")
    return [node[int(index)]]


def _set(data: dict, path: str, value: object) -> None:
    tokens = _tokens(path)
    *walk, (last_key, last_index) = tokens
    nodes = [data]
    for key, index in walk:
        nodes = [child for node in nodes for child in _select(node, key, index, path)]
    for node in nodes:
        if last_index is not None:
            for parent in _select(node, last_key, None, path):
                if not isinstance(parent, list):
                    raise KeyError(f"{path}: [{last_index}] needs a list")
                targets = range(len(parent)) if last_index == "*" else [int(last_index)]
                for i in targets:
                    if i >= len(parent):
                        raise KeyError(f"{path}: index {i} is beyond the {len(parent)} items")
                    parent[i] = value
        elif isinstance(node, dict):
            node[last_key] = value
        elif isinstance(node, list):
            named = [item for item in node if isinstance(item, dict) and item.get("name") == last_key]
            if not named:
                raise KeyError(f"{path}: no item named {last_key!r}")
            raise KeyError(f"{path}: cannot replace the whole item {last_key!r}; name one of its keys")
        else:
            raise KeyError(f"{path}: {last_key!r} is below a single value")


def apply_point(scenario: Scenario, variations: tuple[Variation, ...], values: tuple[object, ...]) -> Scenario:
    """``scenario`` with one point's values; raises ``ValueError`` with the reason."""
    from pydantic import ValidationError

    from dagsim.config.rules import check_scenario
    from dagsim.sizing.copies import with_copies

    data = scenario.model_dump(mode="json", exclude_none=True)
    copies = None
    for variation, value in zip(variations, values, strict=True):
        if variation.path in ("databases[*].copies", "databases.copies"):
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"{variation.path}={value!r}: a copy count is a whole number")
            copies = value
            continue
        try:
            _set(data, variation.path, value)
        except KeyError as error:
            raise ValueError(str(error.args[0])) from None
    try:
        point = Scenario.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"{where}: {first['msg']}") from None
    if copies is not None:
        point = with_copies(point, copies)
    findings = check_scenario(point)
    if findings:
        loc, message = findings[0]
        raise ValueError(f"{'.'.join(str(p) for p in loc)}: {message}")
    return point
