"""The control plane's modules import each other one way only (no cycle, TYPE_CHECKING included)."""

from __future__ import annotations

import grimp


def test_no_control_plane_module_is_in_an_import_cycle() -> None:
    graph = grimp.build_graph("strands_portkey", include_external_packages=False)
    cycles = sorted(
        (module, imported)
        for module in graph.modules
        if module.startswith(("strands_portkey.controlplane", "strands_portkey.store"))
        for imported in graph.find_modules_directly_imported_by(module)
        if imported != module and graph.chain_exists(importer=imported, imported=module)
    )
    assert cycles == []
