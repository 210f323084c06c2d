"""The shape of the code itself: no import cycles in ``app``, and hand-kept lists that match."""

from __future__ import annotations

import ast
from itertools import pairwise
from pathlib import Path

from app.checkin.services import _INSERTED
from app.models import CheckIn

ROOT = Path(__file__).resolve().parent.parent

#: Check-in columns the check-in INSERT leaves empty on purpose. They are nullable:
#: an undo fills the annulled ones later, and only online attendance (joins and
#: imported meeting reports, written elsewhere) has the others.
FILLED_LATER = {"annulled_at", "annulled_by_id", "last_seen_at", "online_minutes"}


# --- the import graph ------------------------------------------------------------

#: module -> {imported module: "path:line" of the first import statement}
Graph = dict[str, dict[str, str]]


def module_names(root: Path, package: str) -> dict[str, Path]:
    """Every module of ``package`` (a folder below ``root``) by its dotted name."""
    modules = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST):
    """The import statements that can run, at any depth (functions included).

    Imports under ``if TYPE_CHECKING:`` never run, so they cannot close a cycle;
    their ``else:`` branch does run.
    """
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The module that ``name`` loads: itself, or the nearest enclosing module."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(root: Path, package: str) -> Graph:
    """Which module of ``package`` imports which, read from the source with ``ast``.

    ``import a.b`` and ``from a.b import c`` import ``a.b``, or ``a.b.c`` when
    that is a submodule; relative imports are resolved against the importing
    module's package. Only modules of ``package`` itself are kept.
    """
    modules = module_names(root, package)
    graph: Graph = {name: {} for name in modules}
    for name, path in modules.items():
        # Relative imports count from a package: the module itself if it is one, else its parent.
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in sorted(_runtime_imports(tree), key=lambda n: (n.lineno, n.col_offset)):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                if node.level:
                    base_parts = here.split(".")
                    base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                    base = ".".join(filter(None, [*base_parts, node.module or ""]))
                else:
                    base = node.module or ""
                for alias in node.names:
                    submodule = f"{base}.{alias.name}"
                    targets.append(submodule if submodule in modules else base)
            for target in targets:
                resolved = _resolve(target, modules)
                if resolved and resolved != name:
                    where = f"{path.relative_to(root)}:{node.lineno}"
                    graph[name].setdefault(resolved, where)
    return graph


def strongly_connected_components(graph: Graph) -> list[list[str]]:
    """Tarjan's algorithm, without recursion; each component's modules are sorted."""
    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = lowlink[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = lowlink[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph[successor]))))
                    break
                if successor in on_stack:
                    lowlink[node] = min(lowlink[node], index[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    lowlink[parent] = min(lowlink[parent], lowlink[node])
                if lowlink[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(sorted(component))
    return components


def a_cycle(graph: Graph, component: list[str]) -> list[str]:
    """One shortest cycle through the first module of a component, as a closed path."""
    members = set(component)
    start = component[0]
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for successor in sorted(graph[node]):
                if successor not in members or successor in came_from:
                    continue
                came_from[successor] = node
                if successor == start:
                    path = [start]
                    while path[-1] != start or len(path) == 1:
                        path.append(came_from[path[-1]])
                    return path[::-1]
                following.append(successor)
        frontier = following
    raise AssertionError(f"no cycle through {start}")  # a component always has one


def describe_cycles(graph: Graph, components: list[list[str]]) -> str:
    lines = []
    for component in components:
        cycle = a_cycle(graph, component)
        lines.append(f"{len(component)} modules import each other: {', '.join(component)}")
        lines.append("  for example " + " -> ".join(cycle))
        lines.extend(f"    {a} imports {b} at {graph[a][b]}" for a, b in pairwise(cycle))
    return "\n".join(lines)


def test_the_app_package_has_no_import_cycle():
    graph = import_graph(ROOT, "app")
    # The source was really read: the modules are found, and they import one another.
    assert {"app", "app.models", "app.checkin.services"} <= graph.keys()
    assert sum(len(imported) for imported in graph.values()) > len(graph)

    cycles = [c for c in strongly_connected_components(graph) if len(c) > 1]
    assert not cycles, "import cycles in app/:\n" + describe_cycles(graph, cycles)


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_cycle_finder_sees_a_package_and_its_submodule_importing_each_other(tmp_path):
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "from pkg import views\nTHING = 1\n",
            "pkg/views.py": "def later():\n    from . import THING\n",
            "pkg/models.py": "import pkg.deep.leaf\n",
            "pkg/deep/__init__.py": "",
            "pkg/deep/leaf.py": "from ..models import Model\n",
            "pkg/typed.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from pkg.alone import X\n"
                "else:\n    from pkg import deep\n"
            ),
            "pkg/alone.py": "from pkg.typed import Y\n",
        },
    )
    graph = import_graph(tmp_path, "pkg")

    assert graph["pkg"] == {"pkg.views": "pkg/__init__.py:1"}
    assert graph["pkg.views"] == {"pkg": "pkg/views.py:2"}  # inside a function
    assert graph["pkg.models"] == {"pkg.deep.leaf": "pkg/models.py:1"}
    assert graph["pkg.deep.leaf"] == {"pkg.models": "pkg/deep/leaf.py:1"}  # relative, two up
    assert graph["pkg.typed"] == {"pkg.deep": "pkg/typed.py:5"}  # TYPE_CHECKING skipped
    assert graph["pkg.alone"] == {"pkg.typed": "pkg/alone.py:1"}
    cycles = [c for c in strongly_connected_components(graph) if len(c) > 1]
    assert sorted(cycles) == [["pkg", "pkg.views"], ["pkg.deep.leaf", "pkg.models"]]
    message = describe_cycles(graph, cycles)
    assert "pkg -> pkg.views -> pkg" in message
    assert "pkg.views imports pkg at pkg/views.py:2" in message


# --- the check-in INSERT ---------------------------------------------------------


def insert_problems(table, inserted, filled_later=FILLED_LATER) -> list[str]:
    """What is wrong with ``inserted`` as the column list of an INSERT into ``table``."""
    problems = []
    unknown = [name for name in inserted if name not in table.c]
    if unknown:
        problems.append(f"_INSERTED names columns that {table.name} does not have: {unknown}")
    not_nullable = [
        name for name in sorted(filled_later) if name not in table.c or not table.c[name].nullable
    ]
    if not_nullable:
        problems.append(
            f"columns counted as filled later must be nullable columns of {table.name}: "
            f"{not_nullable}"
        )
    forgotten = [
        column.name
        for column in table.columns
        if column.name not in inserted
        and column.name not in filled_later
        and not column.primary_key
        and column.default is None
        and column.server_default is None
    ]
    if forgotten:
        problems.append(
            f"_INSERTED in app/checkin/services.py leaves out {forgotten}, which have no "
            "default: a new check-in would lack them. Add them to _INSERTED (and to the row "
            "admit_checkin writes), or give them a default"
        )
    return problems


def test_the_checkin_insert_names_every_column_that_needs_a_value():
    """``_INSERTED`` in app/checkin/services.py is the column list of a hand-written INSERT.

    A column left out of it must do without a value when the row is written: it
    has a default, is the primary key, or is nullable and filled in later.
    """
    problems = insert_problems(CheckIn.__table__, _INSERTED)
    assert not problems, "\n".join(problems)


def test_a_forgotten_or_unknown_column_is_named():
    table = CheckIn.__table__
    without_method = tuple(name for name in _INSERTED if name != "method")
    assert insert_problems(table, without_method) == [
        "_INSERTED in app/checkin/services.py leaves out ['method'], which have no default: "
        "a new check-in would lack them. Add them to _INSERTED (and to the row admit_checkin "
        "writes), or give them a default"
    ]
    [problem] = insert_problems(table, (*_INSERTED, "scanned_by"))
    assert "['scanned_by']" in problem
    [problem] = insert_problems(table, _INSERTED, {*FILLED_LATER, "method"})
    assert "['method']" in problem
