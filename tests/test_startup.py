"""Start-up: the command line loads the engine, pandas and matplotlib only for commands that need them."""

from __future__ import annotations

import subprocess
import sys

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
