"""No two crmkit modules import each other, directly or around a longer circle.

The import contracts in pyproject.toml keep the layers pointing one way, but not the
modules inside one room: a circle there only works while the import order happens to
suit it (the SQL tables and ``customers.merge`` once depended on such luck). Imports
under ``TYPE_CHECKING`` are left out, because they never run.
"""

from __future__ import annotations

import grimp


def test_no_crmkit_module_imports_itself_round_a_circle() -> None:
    graph = grimp.build_graph("crmkit", exclude_type_checking_imports=True)
    assert len(graph.modules) > 200  # the whole package was read, not an empty graph
    # A module is on a circle when something it imports leads back to it.
    on_a_circle = sorted(
        module
        for module in graph.modules
        if any(
            graph.chain_exists(importer=imported, imported=module)
            for imported in graph.find_modules_directly_imported_by(module)
        )
    )
    assert on_a_circle == []
