"""No import cycles inside bot/. The graph is grimp's (import-linter's engine): every import
statement counts, also one inside a function or under TYPE_CHECKING, since each is a
dependency a reader has to follow. lint-imports checks the layers; this checks the cycles
within and between them."""

from __future__ import annotations

from collections import deque

import grimp

# Cycles known today, each as its set of modules; being removed. The list can only shrink:
# a cycle that is gone must leave it, and a new one fails.
KNOWN_CYCLES: set[frozenset[str]] = set()


def cycles(graph: grimp.ImportGraph) -> set[frozenset[str]]:
    """The strongly connected components of the import graph that hold a cycle (Tarjan)."""
    imports = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[frozenset[str]] = set()

    def visit(start: str) -> None:
        # Iterative, so that a long import chain cannot hit the recursion limit.
        work = [(start, iter(sorted(imports[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            module, targets = work[-1]
            target = next(targets, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(imports[target]))))
                elif target in on_stack:
                    low[module] = min(low[module], index[target])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
            if low[module] == index[module]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == module:
                        break
                if len(component) > 1 or module in imports[module]:
                    found.add(frozenset(component))

    for module in sorted(imports):
        if module not in index:
            visit(module)
    return found


def a_cycle_in(graph: grimp.ImportGraph, component: frozenset[str]) -> list[str]:
    """One import chain around the component, to show where to cut: first -> ... -> first."""
    first = min(component)
    paths = {first: [first]}
    queue = deque([first])
    while queue:
        module = queue.popleft()
        for target in sorted(graph.find_modules_directly_imported_by(module)):
            if target == first:
                return [*paths[module], first]
            if target in component and target not in paths:
                paths[target] = [*paths[module], target]
                queue.append(target)
    raise AssertionError(f"no cycle through {first}")


def test_no_import_cycles_in_bot() -> None:
    graph = grimp.build_graph("bot", cache_dir=None)
    found = cycles(graph)
    known = set(KNOWN_CYCLES)  # (also when emptied as `{}`)
    new = sorted(" -> ".join(a_cycle_in(graph, c)) for c in found - known)
    assert not new, "import cycles in bot/:\n" + "\n".join(new)
    gone = sorted(", ".join(sorted(c)) for c in known - found)
    assert not gone, f"no longer a cycle, remove from KNOWN_CYCLES: {gone}"


def test_the_cycle_finder_finds_cycles() -> None:
    graph = grimp.ImportGraph()
    for importer, imported in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("e", "e")]:
        graph.add_import(importer=importer, imported=imported)
    graph.add_module("f")
    assert cycles(graph) == {frozenset("abc"), frozenset("e")}
    assert a_cycle_in(graph, frozenset("abc")) == ["a", "b", "c", "a"]
