"""The host package's layers (docs/architecture.md), read from the source's import statements: no import loops,
payloads/ pure, the ePU client above it only, and nothing but the test bench's own commands importing the bench."""

from __future__ import annotations

import ast
import functools

from conftest import REPO

PACKAGE = REPO / "host_bridge"


def modules() -> dict[str, ast.Module]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(REPO).with_suffix("").parts
        if "data" in parts:                      # MicroPython scripts sent to a board, not host modules
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = ast.parse(path.read_text(encoding="utf-8"))
    return found


@functools.cache
def import_graph() -> dict[str, set[str]]:
    """Module -> the host_bridge modules it imports (at the top or inside functions)."""
    trees = modules()
    graph: dict[str, set[str]] = {}
    for name, tree in trees.items():
        deps = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                deps |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                subs = {f"{node.module}.{alias.name}" for alias in node.names} & set(trees)
                deps |= subs or {node.module}    # `from pkg import module` depends on that module
        graph[name] = {d for d in deps if d in trees and d != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while component[-1:] != [v]:
                component.append(stack.pop())
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def imports_outside(graph: dict[str, set[str]], layer: str, allowed: tuple[str, ...]) -> dict[str, set[str]]:
    return {m: bad for m, deps in graph.items() if m == layer or m.startswith(layer + ".")
            if (bad := {d for d in deps if not d.startswith((layer, *allowed))})}


def test_the_host_package_has_no_import_loop() -> None:
    assert cycles(import_graph()) == []


def test_payloads_are_pure_and_the_epu_client_sits_above_them() -> None:
    graph = import_graph()
    assert imports_outside(graph, "host_bridge.payloads", ("host_bridge.errors",)) == {}
    assert imports_outside(graph, "host_bridge.epu", ("host_bridge.errors", "host_bridge.payloads")) == {}
    assert imports_outside(graph, "host_bridge.counter",
                           ("host_bridge.errors", "host_bridge.payloads", "host_bridge.epu")) == {}


def test_only_the_test_bench_and_its_commands_import_the_test_bench() -> None:
    runtime = {m: deps for m, deps in import_graph().items()
               if not m.startswith(("host_bridge.testbench", "host_bridge.commands"))}
    assert {m: {d for d in deps if d.startswith("host_bridge.testbench")} for m, deps in runtime.items()
            if any(d.startswith("host_bridge.testbench") for d in deps)} == {}


def test_the_check_sees_a_loop() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
