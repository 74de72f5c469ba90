"""Start-up: the command line loads the engine, pandas and matplotlib only for commands that need them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("numpy", "pandas", "matplotlib", "scipy", "simpy", "dagsim.model.simulation")


def _imported_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint(' '.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


@pytest.mark.parametrize("statement", ["import dagsim.cli", "import dagsim"])
def test_importing_the_cli_or_the_package_loads_no_heavy_module(statement):
    """`import dagsim.cli` and `import dagsim` do not import numpy, pandas, matplotlib, scipy, simpy or the engine."""
    assert _imported_after(statement).isdisjoint(HEAVY)


def test_lazy_names_still_resolve():
    """Every name in dagsim.__all__ resolves on first use (the lazy imports are wired to real objects)."""
    loaded = _imported_after(
        "import dagsim\nfor name in dagsim.__all__: getattr(dagsim, name)\nassert callable(dagsim.availability)"
    )
    assert {"pandas", "dagsim.model.simulation"} <= loaded


def test_validating_a_two_site_scenario_loads_no_heavy_module():
    """`dagsim validate` on a two-site scenario checks it without networkx or the heavy modules (no detour is possible)."""
    scenario = Path(__file__).resolve().parent.parent / "scenarios" / "quickstart.yaml"
    statement = (
        "from typer.testing import CliRunner\nfrom dagsim.cli import app\n"
        f"result = CliRunner().invoke(app, ['validate', {str(scenario)!r}])\nassert result.exit_code == 0, result.output"
    )
    assert _imported_after(statement).isdisjoint({*HEAVY, "networkx"})
