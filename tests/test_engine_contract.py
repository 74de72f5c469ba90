"""Both replication engines honour the contract the rest of the model holds them to."""

from __future__ import annotations

from pathlib import Path

import dagsim
from dagsim.model.engine import ControllableEngine, LogFlow
from dagsim.model.simulation import Simulation

QUICKSTART = Path(__file__).parent.parent / "scenarios" / "quickstart.yaml"


def test_the_fluid_engine_is_a_controllable_log_flow():
    """Active Manager can drive the fluid engine: it has every member of ControllableEngine."""
    sim = Simulation(dagsim.load_scenario(QUICKSTART))
    assert isinstance(sim.replication, LogFlow) and isinstance(sim.replication, ControllableEngine)


def test_the_per_log_engine_is_a_log_flow_but_not_controllable():
    """The per-log engine gives queues and statistics; it cannot be driven by Active Manager."""
    data = dagsim.load_scenario(QUICKSTART).model_dump(mode="json")
    data["timeline"] = [a for a in data["timeline"] if a["action"] in ("fail_link", "restore_link", "suspend_copy", "resume_copy")]
    data["expect"] = []
    data["run"].update(mode="per_log", duration="1h")
    sim = Simulation(dagsim.Scenario.model_validate(data))
    assert isinstance(sim.replication, LogFlow)
    assert not isinstance(sim.replication, ControllableEngine)
    assert sim.manager is None


def test_every_timeline_action_has_exactly_one_handler():
    """Each action type of the scenario schema has one case in model/actions.py's dispatch, and no case is orphaned."""
    import ast
    import inspect
    import typing

    from dagsim.config.schema import Action
    from dagsim.model import actions

    union = {cls.__name__ for cls in typing.get_args(typing.get_args(Action)[0])}
    tree = ast.parse(inspect.getsource(actions._dispatch))
    cases = [
        case.pattern.cls.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Match)
        for case in node.cases
        if isinstance(case.pattern, ast.MatchClass) and isinstance(case.pattern.cls, ast.Name)
    ]
    assert sorted(cases) == sorted(union)
