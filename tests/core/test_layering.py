"""The apps depend on each other one way (docs/architecture.md): `core` imports no other app,
and the graph of imports between apps, imports inside functions included, has no cycle."""

import ast
from collections import defaultdict
from pathlib import Path

VAULT = Path(__file__).resolve().parents[2] / "vault"


def _imports() -> dict[str, dict[str, set[str]]]:
    """{app: {imported app: {file, ...}}} from every import statement of every module."""
    graph: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for path in VAULT.rglob("*.py"):
        app = path.relative_to(VAULT).parts[0]
        if app.endswith(".py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            for module in modules:
                parts = module.split(".")
                if parts[0] == "vault" and len(parts) > 1 and parts[1] != app:
                    graph[app][parts[1]].add(str(path.relative_to(VAULT)))
    return graph


def test_core_imports_no_other_app():
    assert dict(_imports().get("core", {})) == {}


def test_the_apps_import_each_other_without_a_cycle():
    graph = _imports()
    done: set[str] = set()

    def visit(app: str, path: list[str]) -> None:
        if app in path:
            cycle = path[path.index(app) :] + [app]
            pytest_fail = " -> ".join(cycle)
            where = {f"{a} -> {b}": sorted(graph[a][b]) for a, b in zip(cycle, cycle[1:], strict=False)}
            raise AssertionError(f"import cycle {pytest_fail}: {where}")
        if app in done:
            return
        for imported in graph.get(app, {}):
            visit(imported, [*path, app])
        done.add(app)

    for app in list(graph):
        visit(app, [])
    assert {"accounts", "ledger", "inventory", "financing", "drawdowns", "coverage", "integrity"} <= set(graph)


def test_integrity_names_no_app_that_registers_checks():
    """The apps register their checks with integrity (their `invariants` modules, discovered),
    never the other way."""
    assert set(_imports().get("integrity", {})) <= {"accounts", "core"}
