"""pytest plugin: the expectations of scenario files as test items.

Registered through the ``pytest11`` entry point, and inert unless asked for, with either

* the command-line option ``--dagsim-scenarios=PATH`` (a file or folder; repeatable), or
* the ini setting ``dagsim_scenarios = PATH ...`` (paths relative to the ini file).

Every ``*.yaml`` / ``*.yml`` file under those paths that has an ``expect:`` block becomes a
test file with one item per expectation, named ``expect[i]-CHECK``; the scenario runs once,
when its first item runs. A failing item shows the expectation's file and line, expected
and measured values, and the failover record behind it. An invalid scenario file gives
one failing ``validate`` item listing every located problem. Items carry the ``dagsim``
marker (``pytest -m dagsim``).

The option adds its paths to the run. The ini setting adds them when pytest chose what to
collect itself (no paths on the command line), and otherwise collects scenario files only
where the given paths lead, so ``pytest tests/test_one.py`` stays a run of that one file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

__all__ = ["ExpectationItem", "ScenarioFile"]

_SUFFIXES = (".yaml", ".yml")
_ROOTS = pytest.StashKey[list[Path]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dagsim", "dagsim scenario expectations")
    group.addoption(
        "--dagsim-scenarios",
        action="append",
        default=[],
        metavar="PATH",
        help="collect the expectations of dagsim scenario files in PATH (a file or folder) as tests",
    )
    parser.addini(
        "dagsim_scenarios",
        type="paths",
        default=[],
        help="dagsim scenario files or folders whose expectations are collected as tests",
    )


def pytest_configure(config: pytest.Config) -> None:
    invocation = Path(config.invocation_params.dir)
    from_option = [(invocation / p).resolve() for p in config.getoption("dagsim_scenarios") or []]
    from_ini = [Path(p).resolve() for p in config.getini("dagsim_scenarios") or []]
    roots = list(dict.fromkeys(from_option + from_ini))
    config.stash[_ROOTS] = roots
    if not roots:
        return
    config.addinivalue_line("markers", "dagsim: an expectation of a dagsim scenario file")
    explicit = config.args_source == pytest.Config.ArgsSource.ARGS
    given = [(invocation / arg.split("::")[0]).resolve() for arg in config.args]
    for root in roots:
        if explicit and root not in from_option:
            continue
        if not any(root == arg or arg in root.parents for arg in given):
            config.args.append(str(root))


def pytest_report_header(config: pytest.Config) -> str | None:
    roots = config.stash.get(_ROOTS, [])
    if not roots:
        return None
    return "dagsim scenarios: " + ", ".join(str(root) for root in roots)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    roots = parent.config.stash.get(_ROOTS, [])
    if not roots or file_path.suffix not in _SUFFIXES:
        return None
    resolved = file_path.resolve()
    if not any(resolved == root or root in resolved.parents for root in roots):
        return None
    if not _has_expectations(file_path):
        return None
    return ScenarioFile.from_parent(parent, path=file_path)


def _has_expectations(path: Path) -> bool:
    """Whether the file has an ``expect:`` block; True for a file YAML cannot read (it is reported)."""
    from dagsim.config import ScenarioError
    from dagsim.config.loader import load_scenario_data

    try:
        data, _ = load_scenario_data(path)
    except (ScenarioError, OSError):
        return True
    return isinstance(data, dict) and "expect" in data


class ExpectationFailed(AssertionError):
    """A scenario expectation did not hold; carries its verdict."""

    def __init__(self, verdict: Any) -> None:
        super().__init__(verdict.report())
        self.verdict = verdict


class ScenarioFile(pytest.File):
    """A scenario file with expectations: one item per expectation, one run for all of them."""

    def collect(self):
        from dagsim.config import ScenarioError
        from dagsim.config.loader import load_scenario_with_marks

        try:
            scenario, marks = load_scenario_with_marks(self.path)
        except (ScenarioError, OSError) as error:
            yield InvalidScenarioItem.from_parent(self, name="validate", error=error)
            return
        self._scenario, self._marks = scenario, marks
        for index, expectation in enumerate(scenario.expect):
            line = marks.value(("expect", index)).line
            yield ExpectationItem.from_parent(self, name=f"expect[{index}]-{expectation.check}", index=index, line=line)

    def verdicts(self):
        """Every verdict of this file, from one run of its scenario (kept for the other items)."""
        cached = getattr(self, "_verdicts", None)
        if cached is None:
            from dagsim.expectations import evaluate, run_for_checks

            try:
                result = run_for_checks(self._scenario)
                cached = evaluate(self._scenario, result, file=self._relative(), marks=self._marks)
            except Exception as error:  # a bug in dagsim: every item of the file reports it
                cached = error
            self._verdicts = cached
        if isinstance(cached, Exception):
            raise cached
        return cached

    def _relative(self) -> str:
        try:
            return str(self.path.relative_to(self.config.rootpath))
        except ValueError:
            return str(self.path)


class ExpectationItem(pytest.Item):
    """One expectation of a scenario file."""

    def __init__(self, *, index: int, line: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.index = index
        self.line = line
        self.add_marker("dagsim")

    def runtest(self) -> None:
        assert isinstance(self.parent, ScenarioFile)
        verdict = self.parent.verdicts()[self.index]
        if not verdict.passed:
            raise ExpectationFailed(verdict)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ExpectationFailed):
            return excinfo.value.verdict.report()
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.line - 1, f"{self.path.name}:{self.line} {self.name}"


class InvalidScenarioItem(pytest.Item):
    """A scenario file under the configured paths that does not load: fails with every problem."""

    def __init__(self, *, error: Exception, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error = error
        self.add_marker("dagsim")

    def runtest(self) -> None:
        raise self.error

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        from dagsim.config import ScenarioError

        if isinstance(self.error, ScenarioError):
            return "invalid scenario file:\n" + "\n".join(f"  {problem}" for problem in self.error.problems)
        return f"cannot read scenario file: {self.error}"

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"{self.path.name}: validate"
