"""The scenario reference documents every key the schema accepts."""

from __future__ import annotations

import typing
from pathlib import Path

from pydantic import BaseModel

from dagsim.config.schema import Scenario

REFERENCE = (Path(__file__).resolve().parent.parent / "docs" / "scenario-reference.md").read_text()


def _models(annotation, seen: set) -> None:
    for arg in typing.get_args(annotation) or (annotation,):
        if isinstance(arg, type) and issubclass(arg, BaseModel) and arg not in seen:
            seen.add(arg)
            for field in arg.model_fields.values():
                _models(field.annotation, seen)
        elif typing.get_args(arg):
            _models(arg, seen)


def test_every_schema_key_is_in_the_reference():
    """Each key of every scenario model (actions and expectations included) appears in docs/scenario-reference.md."""
    models: set = set()
    _models(Scenario, models)
    missing = sorted(
        f"{model.__name__}.{name}"
        for model in models
        for name in model.model_fields
        if f"`{name}`" not in REFERENCE
    )
    assert missing == []


def test_every_action_is_in_the_reference():
    """Each timeline action kind has its own entry in the reference."""
    models: set = set()
    _models(Scenario.model_fields["timeline"].annotation, models)
    actions = {typing.get_args(m.model_fields["action"].annotation)[0] for m in models if "action" in m.model_fields}
    assert len(actions) > 20
    missing = sorted(a for a in actions if f"`{a}`" not in REFERENCE)
    assert missing == []
