"""The package's shape (README, "Architecture"): three parts, imports that only go down, no cycle.

    momlab.bus      the mock MOM server; imports nothing of momlab outside itself but momlab.data
    momlab.*        the learner's library (top level, connector/); never imports momlab.course
    momlab.course   the course's tooling; may import both of the others

Every import counts, those inside functions too: a lazy import is still a dependency."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
ENTRY_POINTS = {"momlab", "momlab.__main__", "momlab.cli"}  # the package's face and the command line wire all three parts
SHARED_LEAVES = {"momlab.data"}  # locates the data folder; imports nothing of momlab


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the momlab modules it imports (a name imported from a package counts as its submodule when there is one)."""
    modules = {module_name(p): p for p in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                targets.update(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names)
        graph[name] = {t for t in targets if t in modules and t != name and not name.startswith(t + ".")}
    return graph


def part(module: str) -> str:
    if module.startswith("momlab.bus"):
        return "bus"
    if module.startswith("momlab.course"):
        return "course"
    return "library"


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_is_read():
    graph = import_graph()
    assert "momlab.bus.dispatch" in graph["momlab.bus.app"]  # a plain import
    assert "momlab.course.classroom.sandbox" in graph["momlab.course.progress"]  # imported inside a function
    assert len(graph) > 80


def test_no_import_cycle():
    assert cycles(import_graph()) == []


def test_a_cycle_would_be_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("lower, upper", [("bus", "library"), ("bus", "course"), ("library", "course")])
def test_imports_only_go_down(lower, upper):
    wrong = sorted(
        f"{module} -> {target}"
        for module, targets in import_graph().items() if module not in ENTRY_POINTS and part(module) == lower
        for target in targets if part(target) == upper and target not in SHARED_LEAVES
    )
    assert wrong == []
