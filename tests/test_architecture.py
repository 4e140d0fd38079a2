"""The arrows between the apps point one way, and no import hides inside a function to dodge a cycle.

Read from the source (not by importing it), so an import that only runs in one branch or one
function counts as much as one at the top of a module.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("stories", "capture", "search", "questions", "home", "operations", "storybank")

# What storybank's settings are built from: below every app, so any app may import it, and it
# imports none of them. The rest of storybank (urls, wsgi, asgi) wires every app together.
SETTINGS_MODULES = {"storybank.settings", "storybank.env", "storybank.redaction"}
SETTINGS = "storybank settings"

ALLOWED = {
    "stories": {SETTINGS},
    "capture": {"stories", SETTINGS},
    "search": {"stories", SETTINGS},
    "home": {"stories", SETTINGS},
    "operations": {"stories", "capture", "search", "home", SETTINGS},
    "questions": {"stories", "search", "capture", SETTINGS},
    "storybank": {"stories", "capture", "search", "questions", "home", "operations", SETTINGS},
    SETTINGS: set(),
}

# Function-local imports of project modules that are there for a reason other than a cycle.
# Imports in an AppConfig's ready() need no entry: Django loads every app's models before it,
# so a module that imports models can only be imported there.
LOCAL_IMPORTS_WITH_A_REASON: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the project module it imports
    line: int
    function: str  # "" at module level, else the enclosing function's name


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    modules = {}
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.relative_to(ROOT).parts:
                modules[module_name(path)] = path
    return modules


def imported_names(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The modules (or module attributes) an import statement names, as absolute dotted names."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, base] if base else package)
    return [f"{base}.{alias.name}" for alias in node.names]


def imports_in(module: str, path: Path, known: set[str]) -> list[Import]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, child.name)
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                for name in imported_names(child, module, path.name == "__init__.py"):
                    if name.split(".")[0] not in APPS:
                        continue
                    target = name if name in known else name.rsplit(".", 1)[0]
                    found.append(Import(module, target, child.lineno, function))
            visit(child, function)

    visit(tree, "")
    return found


def all_imports() -> list[Import]:
    modules = project_modules()
    known = set(modules)
    return [found for module, path in modules.items() for found in imports_in(module, path, known)]


def layer(module: str) -> str:
    if module in SETTINGS_MODULES:
        return SETTINGS
    return module.split(".")[0]


def app_edges() -> dict[tuple[str, str], list[Import]]:
    edges: dict[tuple[str, str], list[Import]] = {}
    for found in all_imports():
        edge = (layer(found.module), layer(found.target))
        if edge[0] != edge[1]:
            edges.setdefault(edge, []).append(found)
    return edges


def where(found: Import) -> str:
    inside = f" (in {found.function}())" if found.function else ""
    return f"{found.module}:{found.line} imports {found.target}{inside}"


def test_the_scan_sees_the_imports_we_know_of():
    """Guards the scan itself: a module-level, a relative and a function-level import are all found."""
    imports = all_imports()
    assert any(
        found.module == "stories.listing" and found.target == "stories.models" and not found.function
        for found in imports
    )
    assert any(found.module == "storybank.urls" and layer(found.target) == "operations" for found in imports)
    assert any(found.module == "stories.apps" and found.function == "ready" for found in imports)
    assert imported_names(ast.parse("from . import signals").body[0], "search.apps", False) == [
        "search.signals"
    ]
    assert imported_names(ast.parse("from ..models import Clip").body[0], "capture.views.voice", False) == [
        "capture.models.Clip"
    ]


def test_no_app_imports_an_app_it_may_not_depend_on():
    forbidden = [
        where(found)
        for (source, target), imports in sorted(app_edges().items())
        if target not in ALLOWED[source]
        for found in imports
    ]
    assert forbidden == []


def test_the_apps_import_each_other_without_a_cycle():
    graph: dict[str, set[str]] = {}
    for source, target in app_edges():
        graph.setdefault(source, set()).add(target)
    cycles = set()

    def walk(node: str, trail: list[str]) -> None:
        for target in sorted(graph.get(node, ())):
            if target in trail:
                cycle = trail[trail.index(target) :]
                first = cycle.index(min(cycle))
                cycle = cycle[first:] + cycle[:first]
                cycles.add(" -> ".join([*cycle, cycle[0]]))
            else:
                walk(target, [*trail, target])

    for start in sorted(graph):
        walk(start, [start])
    assert sorted(cycles) == []


def test_no_function_imports_a_project_module_to_dodge_a_cycle():
    hidden = [
        where(found)
        for found in all_imports()
        if found.function
        and not (found.function == "ready" and found.module.endswith(".apps"))
        and (found.module, found.target) not in LOCAL_IMPORTS_WITH_A_REASON
    ]
    assert hidden == []


def test_what_wagtail_loads_with_its_models_imports_no_models():
    """Wagtail imports stories.review (WAGTAIL_FINISH_WORKFLOW_ACTION) while its own models load."""
    imported = {(found.module, found.target) for found in all_imports()}
    assert {target for module, target in imported if module == "stories.review"} == {"stories.visibility"}
    assert {target for module, target in imported if module == "stories.visibility"} == set()
