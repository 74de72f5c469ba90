"""Scenario configuration: the only layer that reads YAML or raw dictionaries."""

from dagsim.config.errors import Problem, ScenarioError
from dagsim.config.loader import load_scenario, load_scenario_text
from dagsim.config.run_settings import resolve_run
from dagsim.config.schema import Scenario

__all__ = ["Problem", "Scenario", "ScenarioError", "load_scenario", "load_scenario_text", "resolve_run"]
