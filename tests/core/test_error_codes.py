"""Every domain error raised in vault/ has a code of its own, and docs/error-codes.md lists every
code with its HTTP status, no more and no fewer.

The walk reads the source (ast) of every module but the migrations, so it sees each raise, also
on paths no test reaches. A call of DomainError or a subclass is specific when it passes `code=`
a non-empty string literal or a module constant other than the base classes' generic codes
("invalid", "not_found", "conflict"), or when the class it calls defines a specific `code`.

Run as a script to print the table for the codes found, with the meanings already written in
docs/error-codes.md (a new code gets an empty meaning, to write): python tests/core/test_error_codes.py
"""

from __future__ import annotations

import ast
import importlib
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "error-codes.md"
BASE = "vault.core.errors.DomainError"
GENERIC = frozenset({"invalid", "not_found", "conflict"})
HEADER = "| code | HTTP status | meaning | raised by |"


@dataclass(frozen=True)
class Site:
    module: str
    line: int
    where: str  # the enclosing class and function names, "" at module level
    error: str  # the class called, qualified
    code: str | None
    problem: str  # why the code is not specific; "" when it is


class _Module:
    def __init__(self, name: str, source: str, *, package: bool = False):
        self.name = name
        self.tree = ast.parse(source)
        self.package = name if package else name.rpartition(".")[0]
        self.imports: dict[str, str] = {}
        self.local: set[str] = set()
        self.constants: dict[str, object] = {}
        self.classes: dict[str, ast.ClassDef] = {}
        for node in self.tree.body:
            if isinstance(node, ast.ClassDef):
                self.classes[node.name] = node
                self.local.add(node.name)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self.local.add(node.name)
            elif isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Constant):
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    if isinstance(target, ast.Name):
                        self.constants[target.id] = node.value.value
                        self.local.add(target.id)
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ImportFrom):
                source_module = node.module or ""
                if node.level:
                    parts = self.package.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1])
                    source_module = f"{base}.{source_module}" if node.module else base
                for alias in node.names:
                    self.imports[alias.asname or alias.name] = f"{source_module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.imports[alias.asname] = alias.name
                    else:
                        top = alias.name.partition(".")[0]
                        self.imports[top] = top

    def qualify(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Name):
            if node.id in self.local:
                return f"{self.name}.{node.id}"
            return self.imports.get(node.id)
        if isinstance(node, ast.Attribute):
            owner = self.qualify(node.value)
            return f"{owner}.{node.attr}" if owner else None
        return None


class Walk:
    """The domain error classes and the sites that call them, over `modules` (name -> source)."""

    def __init__(self, modules: dict[str, tuple[str, bool]]):
        self.modules = {name: _Module(name, source, package=package) for name, (source, package) in modules.items()}
        self.classes: dict[str, ast.ClassDef] = {
            f"{m.name}.{name}": node for m in self.modules.values() for name, node in m.classes.items()
        }
        self.parent: dict[str, str] = {}  # domain class -> its domain base
        changed = True
        while changed:
            changed = False
            for qualname, node in self.classes.items():
                if qualname in self.parent or qualname == BASE:
                    continue
                module = self.modules[qualname.rpartition(".")[0]]
                for base in node.bases:
                    resolved = self._canonical(module.qualify(base))
                    if resolved == BASE or resolved in self.parent:
                        self.parent[qualname] = resolved
                        changed = True
                        break
        self.sites = [site for module in self.modules.values() for site in self._sites(module)]

    @property
    def domain_classes(self) -> set[str]:
        return {BASE, *self.parent}

    def _canonical(self, qualname: str | None) -> str | None:
        """Follow re-exports (`from a import X` in b makes b.X a.X) to the defining module."""
        for _ in range(10):
            if qualname is None:
                return None
            module_name, _, name = qualname.rpartition(".")
            module = self.modules.get(module_name)
            if module is None or name in module.local or name not in module.imports:
                return qualname
            qualname = module.imports[name]
        return qualname

    def _attribute(self, qualname: str, attribute: str):
        """The value of a class attribute, looked up along the domain bases."""
        while qualname:
            for statement in self.classes[qualname].body:
                if (
                    isinstance(statement, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == attribute for t in statement.targets)
                    and isinstance(statement.value, ast.Constant)
                ):
                    return statement.value.value
            qualname = self.parent.get(qualname, "")
        return None

    def class_code(self, qualname: str) -> str | None:
        return self._attribute(qualname, "code")

    def status(self, qualname: str) -> int | None:
        return self._attribute(qualname, "status_code")

    def _constant(self, module: _Module, node: ast.AST):
        if isinstance(node, ast.Constant):
            return node.value
        qualname = self._canonical(module.qualify(node))
        if qualname is None:
            return None
        owner, _, name = qualname.rpartition(".")
        return self.modules[owner].constants.get(name) if owner in self.modules else None

    def _site(self, module: _Module, node: ast.AST, error: str, where: str) -> Site:
        keywords = node.keywords if isinstance(node, ast.Call) else []
        given = [k for k in keywords if k.arg == "code"]
        if given:
            code = self._constant(module, given[0].value)
            if not isinstance(code, str) or not code:
                return Site(module.name, node.lineno, where, error, None, "code= is not a string literal or constant")
        else:
            code = self.class_code(error)
        if code in GENERIC:
            why = f"generic code {code!r}" if given else f"no code= (the class's code is {code!r})"
            return Site(module.name, node.lineno, where, error, None, why)
        return Site(module.name, node.lineno, where, error, code, "")

    def _sites(self, module: _Module) -> list[Site]:
        found: list[Site] = []
        walk = self

        class Visitor(ast.NodeVisitor):
            def __init__(self):
                self.scope: list[str] = []

            def _enter(self, node):
                self.scope.append(node.name)
                self.generic_visit(node)
                self.scope.pop()

            visit_ClassDef = visit_FunctionDef = visit_AsyncFunctionDef = _enter

            def visit_Call(self, node: ast.Call):
                error = walk._canonical(module.qualify(node.func))
                if error in walk.domain_classes:
                    found.append(walk._site(module, node, error, ".".join(self.scope)))
                self.generic_visit(node)

            def visit_Raise(self, node: ast.Raise):
                error = walk._canonical(module.qualify(node.exc)) if node.exc is not None else None
                if error in walk.domain_classes:  # the class itself, not called
                    found.append(walk._site(module, node, error, ".".join(self.scope)))
                self.generic_visit(node)

        Visitor().visit(module.tree)
        return found

    def codes(self) -> dict[str, set[int | None]]:
        """Each specific code, raised or defined by a class, with the statuses it is sent with."""
        statuses: dict[str, set[int | None]] = defaultdict(set)
        for site in self.sites:
            if site.code:
                statuses[site.code].add(self.status(site.error))
        for qualname in self.domain_classes:
            code = self.class_code(qualname)
            if code not in GENERIC:
                statuses[code].add(self.status(qualname))
        return dict(statuses)


def vault_sources() -> dict[str, tuple[str, bool]]:
    modules = {}
    for path in sorted((ROOT / "vault").rglob("*.py")):
        relative = path.relative_to(ROOT)
        if "migrations" in relative.parts:
            continue
        package = path.name == "__init__.py"
        name = ".".join(relative.parent.parts if package else relative.with_suffix("").parts)
        modules[name] = (path.read_text(), package)
    return modules


def documented() -> dict[str, tuple[str, str, str]]:
    """code -> (status, meaning, raised by), from the table of docs/error-codes.md."""
    lines = DOC.read_text().splitlines()
    start = lines.index(HEADER) + 2  # the header and its |---| line
    rows: dict[str, tuple[str, str, str]] = {}
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        code, status, meaning, raised_by = (cell.strip() for cell in line.strip("|").split("|"))
        code = code.strip("`")
        assert code not in rows, f"{code} has two rows"
        rows[code] = (status, meaning, raised_by)
    return rows


_WALK: Walk | None = None


def vault_walk() -> Walk:
    global _WALK
    if _WALK is None:
        _WALK = Walk(vault_sources())
    return _WALK


# --- the walk ----------------------------------------------------------------------------------


def test_the_walk_finds_every_domain_error_class_and_the_raises():
    from vault.core.errors import DomainError

    for module in ("vault.accounts.errors", "vault.coverage.errors", "vault.drawdowns.errors"):
        importlib.import_module(module)
    importlib.import_module("vault.financing.services")

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    loaded = {f"{c.__module__}.{c.__qualname__}" for c in subclasses(DomainError) if c.__module__.startswith("vault.")}
    walk = vault_walk()
    assert loaded <= walk.domain_classes
    assert {"vault.core.errors.InsufficientStock", "vault.financing.errors.CommitmentExceeded"} <= loaded
    assert len(walk.sites) > 140  # every raise, not a sample


def test_the_checker_tells_specific_codes_from_generic_ones():
    checked = (
        "from vault.core.errors import Conflict, InvalidInput, InsufficientStock\n"
        "from vault.fake_codes import SHARED\n"
        "from vault.core import errors\n"
        "RULE = 'a_rule'\n"
        "class Refused(InvalidInput):\n"
        "    code = 'refused'\n"
        "class Vague(InvalidInput):\n"
        "    pass\n"
        "def service(code):\n"
        "    InvalidInput('no code')\n"  # line 10
        "    InvalidInput('generic', code='invalid')\n"
        "    Conflict('generic', code='conflict')\n"
        "    InvalidInput('empty', code='')\n"
        "    InvalidInput('a variable', code=code)\n"
        "    errors.NotFound('through the module')\n"
        "    raise Vague\n"
        "    Vague('inherits invalid')\n"
        "    InvalidInput('literal', code='a_literal')\n"  # line 18: the rest are specific
        "    InvalidInput('constant', code=RULE)\n"
        "    Conflict('imported constant', code=SHARED)\n"
        "    InsufficientStock('its class has a code')\n"
        "    raise Refused\n"
        "    Refused('its own', code='other_rule')\n"
    )
    sources = {**vault_sources(), "vault.fake": (checked, False), "vault.fake_codes": ("SHARED = 'shared'\n", False)}
    sites = [site for site in Walk(sources).sites if site.module == "vault.fake"]
    assert [site.line for site in sites if site.problem] == list(range(10, 18))
    assert [site.code for site in sites if not site.problem] == [
        "a_literal",
        "a_rule",
        "shared",
        "insufficient_stock",
        "refused",
        "other_rule",
    ]


# --- vault/ ------------------------------------------------------------------------------------


def test_every_domain_error_raised_has_a_specific_code():
    sites = vault_walk().sites
    assert [f"{s.module}:{s.line} {s.error.rpartition('.')[2]}: {s.problem}" for s in sites if s.problem] == []


def test_a_code_is_always_sent_with_the_same_status():
    assert {code: statuses for code, statuses in vault_walk().codes().items() if len(statuses) != 1} == {}


def test_the_documentation_lists_every_code_with_its_status():
    in_code = {code: str(next(iter(statuses))) for code, statuses in vault_walk().codes().items()}
    rows = documented()
    assert sorted(set(in_code) - set(rows)) == [], "codes missing from docs/error-codes.md"
    assert sorted(set(rows) - set(in_code)) == [], "rows of docs/error-codes.md for codes no longer raised"
    assert {code: row[0] for code, row in rows.items()} == in_code
    assert [code for code, row in rows.items() if not row[1]] == [], "a row without its meaning"


# --- the table, for docs/error-codes.md ---------------------------------------------------------


def table(walk: Walk, meanings: dict[str, str]) -> list[str]:
    raisers: dict[str, list[str]] = defaultdict(list)
    for site in walk.sites:
        if site.code:
            where = f"{site.module.removeprefix('vault.')}.{site.where}".rstrip(".")
            if where not in raisers[site.code]:
                raisers[site.code].append(where)
    for qualname in sorted(walk.domain_classes):
        code = walk.class_code(qualname)
        if code not in GENERIC:
            raisers[code].insert(0, f"`{qualname.rpartition('.')[2]}`")
    rows = [HEADER, "| --- | --- | --- | --- |"]
    for code, statuses in sorted(walk.codes().items()):
        status = ", ".join(str(s) for s in sorted(statuses, key=str))
        rows.append(f"| `{code}` | {status} | {meanings.get(code, '')} | {', '.join(raisers[code])} |")
    return rows


if __name__ == "__main__":
    current = {code: meaning for code, (_, meaning, _) in documented().items()} if DOC.exists() else {}
    walk = Walk(vault_sources())
    sys.stdout.write("\n".join(table(walk, current)) + "\n")
    new = sorted(code for code in walk.codes() if not current.get(code))
    if new:
        sys.stderr.write(f"write the meaning of: {', '.join(new)}\n")
