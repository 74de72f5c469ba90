"""Located problems in scenario files, reported all at once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["DOCUMENT", "Loc", "Problem", "ScenarioError", "format_path"]

Loc = tuple[str | int, ...]

# Shown as the path of problems that belong to the file as a whole (syntax, empty file).
DOCUMENT = "<document>"


def format_path(loc: Loc) -> str:
    """``('databases', 2, 'copies', 0, 'server')`` -> ``'databases[2].copies[0].server'``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or DOCUMENT


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a scenario file, with a 1-based line and column."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column} {self.path}: {self.message}"


class ScenarioError(Exception):
    """A scenario file is invalid; `problems` holds every problem found, in file order."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        # Passing the problems to Exception keeps the error picklable (process pools).
        super().__init__(self.problems)

    def __str__(self) -> str:
        return "\n".join(map(str, self.problems))
