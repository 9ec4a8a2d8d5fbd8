"""The admin API's OpenAPI document is pinned: docs/openapi.json must match what the code generates."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]


def _script():  # scripts/ is not a package: load the generator by path
    spec = importlib.util.spec_from_file_location("openapi_script", ROOT / "scripts" / "openapi.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_checked_in_document_is_what_the_code_generates() -> None:
    script = _script()
    generated = script.current_document()
    pinned = (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert json.loads(generated) == json.loads(pinned), "the admin API changed: run `hatch run openapi`"
    assert generated == pinned


def test_every_documented_route_has_a_rule() -> None:
    from strands_portkey.server.admin.roles import ROUTE_ROLES

    paths = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))["paths"]
    documented = {(method.upper(), path) for path, item in paths.items() for method in item}
    assert documented - ROUTE_ROLES.keys() == set()


def test_the_document_says_400_and_the_error_body_not_fastapis_422() -> None:
    document = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    operations = [op for item in document["paths"].values() for op in item.values()]
    assert operations
    assert all("422" not in op["responses"] for op in operations)
    assert all(op["responses"]["400"]["content"]["application/json"]["schema"] for op in operations)
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert document["components"]["schemas"]["ErrorBody"]["required"] == ["error"]
