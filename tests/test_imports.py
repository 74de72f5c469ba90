"""The package's modules import each other without circles, counting every import."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parent.parent / "dagsim"


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _graph() -> nx.DiGraph:
    """Every import between dagsim modules: top level, inside functions and under TYPE_CHECKING."""
    modules = {_module(p): p for p in PACKAGE.rglob("*.py")}
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "dagsim":
                for alias in node.names:
                    child = f"{node.module}.{alias.name}"
                    graph.add_edge(name, child if child in modules else node.module)
            elif isinstance(node, ast.Import):
                graph.add_edges_from((name, a.name) for a in node.names if a.name.split(".")[0] == "dagsim")
    return graph


def test_no_import_circles_even_under_type_checking():
    """No module reaches itself through imports, whether at run time, in a function or for type checking."""
    assert list(nx.simple_cycles(_graph())) == []


def test_configuration_does_not_import_the_model():
    """config/ validates scenarios without knowing the engines: it imports nothing from model/ or the readers."""
    graph = _graph()
    config = [m for m in graph if m.startswith("dagsim.config")]
    reached = {target for m in config for target in graph.successors(m)}
    assert {t for t in reached if not t.startswith(("dagsim.config", "dagsim.domain"))} == set()
