"""Run-time overrides of a scenario's ``run`` section, checked by the same rules as the file.

The command line and :class:`~dagsim.model.simulation.Simulation` may override the seed,
the duration and the mode of a loaded scenario. Some rules depend on those settings (per_log
mode plays only link and suspend actions, and has no Active Manager to check), so the
overridden scenario is checked again here, before any model is built.
"""

from __future__ import annotations

from pydantic import ValidationError

from dagsim.config.errors import Loc, Problem, ScenarioError, format_path
from dagsim.config.loader import Marks, _message
from dagsim.config.rules import check_scenario
from dagsim.config.schema import RunSpec, Scenario
from dagsim.config.units import format_duration

__all__ = ["MODES", "resolve_run"]

MODES = ("fluid", "per_log")

# A shortened run is a window on the scenario: actions and expectations after its end are
# simply not reached, as before overrides were checked, so those findings are not problems.
_WINDOW_FIELDS = frozenset({"at"})


def resolve_run(
    scenario: Scenario,
    seed: int | None = None,
    duration: float | None = None,
    mode: str | None = None,
    *,
    marks: Marks | None = None,
    filename: str = "<scenario>",
) -> Scenario:
    """`scenario` with the given run settings applied, checked again by the scenario rules.

    Raises :class:`ScenarioError` listing every rule the overridden settings break, each
    located in the file through `marks` when given (otherwise at its dotted path only).
    """
    if mode is not None and mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; use fluid or per_log")
    update: dict[str, object] = {}
    if seed is not None and seed != scenario.run.seed:
        update["seed"] = seed
    if duration is not None and duration != scenario.run.duration:
        update["duration"] = float(duration)
    if mode is not None and mode != scenario.run.mode:
        update["mode"] = mode
    if not update:
        return scenario

    def located(loc: Loc, message: str) -> Problem:
        where = marks.value(loc) if marks is not None else None
        line, column = (where.line, where.column) if where is not None else (1, 1)
        return Problem(filename, line, column, format_path(loc), f"{message} (run settings: {_said(update)})")

    # The overrides meet the same bounds as the file's own run section (a run of centuries
    # would not fit in memory), so they are validated by the same model.
    try:
        run = RunSpec.model_validate({**scenario.run.model_dump(), **update})
    except ValidationError as error:
        raise ScenarioError(
            [
                located(("run", *_fields(d["loc"])), _message(dict(d), ("run", *_fields(d["loc"])), RunSpec))
                for d in error.errors(include_url=False)
            ]
        ) from None
    resolved = scenario.model_copy(update={"run": run})
    if update.keys() == {"seed"}:
        return resolved  # no rule depends on the seed
    problems = [
        located(loc, message)
        for loc, message in check_scenario(resolved)
        if not ("duration" in update and loc[-1] in _WINDOW_FIELDS)
    ]
    if problems:
        raise ScenarioError(sorted(dict.fromkeys(problems), key=lambda p: (p.line, p.column)))
    return resolved


def _fields(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    return tuple(part for part in loc if isinstance(part, str | int))


def _said(update: dict[str, object]) -> str:
    shown = {k: format_duration(v) if k == "duration" and isinstance(v, float) else v for k, v in update.items()}
    return ", ".join(f"{key}={value}" for key, value in shown.items())
