"""No two crmkit modules import each other, directly or around a longer circle.

The import contracts in pyproject.toml keep the layers pointing one way, but not the
modules inside one room: a circle there only works while the import order happens to
suit it (the SQL tables and ``customers.merge`` once depended on such luck). Imports
under ``TYPE_CHECKING`` are left out, because they never run.
"""

from __future__ import annotations

import grimp


def _circles(imports: dict[str, set[str]]) -> list[list[str]]:
    """Every group of two or more modules that reach each other (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in imports[module]:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                circles.append(sorted(group))

    for module in sorted(imports):
        if module not in index:
            visit(module)
    return circles


def test_the_circle_finder_finds_a_circle_and_nothing_else() -> None:
    imports = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _circles(imports) == [["a", "b", "c"]]


def test_no_crmkit_module_imports_itself_round_a_circle() -> None:
    graph = grimp.build_graph("crmkit", exclude_type_checking_imports=True)
    imports = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    assert len(imports) > 200  # the whole package was read, not an empty graph
    assert _circles(imports) == []
