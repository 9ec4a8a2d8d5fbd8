"""THIRD_PARTY_LICENSES must list every runtime dependency (regenerate it when dependencies change)."""

from __future__ import annotations

from email.message import Message

import pytest

import third_party_licenses as tpl  # scripts/ is on pytest's pythonpath

REGENERATE = "hatch run python scripts/third_party_licenses.py > THIRD_PARTY_LICENSES"


def _metadata(**fields: str | list[str]) -> Message:
    msg = Message()
    for key, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            msg[key.replace("_", "-")] = item
    return msg


def test_file_lists_every_runtime_dependency() -> None:
    entries = tpl.runtime_dependencies()
    assert entries, "no runtime dependencies resolved: is strands-agents-portkey installed in this env?"
    result = tpl.check(tpl.LICENSES_FILE.read_text(encoding="utf-8"), entries)
    assert not result.missing, f"THIRD_PARTY_LICENSES misses {result.missing}; run `{REGENERATE}`"


def test_declared_dependencies_are_resolved() -> None:
    names = {entry.name for entry in tpl.runtime_dependencies()}
    for declared in ("strands-agents", "httpx", "pydantic", "portkey-ai", "openai", "typing-extensions"):
        assert declared in names
    assert "pytest" not in names, "development tools are not runtime dependencies"


def test_render_and_parse_round_trip() -> None:
    entries = [tpl.Entry("b-pkg", "2.0", "MIT"), tpl.Entry("a-pkg", "1.0.post1", "Apache-2.0 OR MIT")]
    assert tpl.parse(tpl.render(entries)) == {"b-pkg": "2.0", "a-pkg": "1.0.post1"}


def test_check_reports_missing_outdated_and_extra() -> None:
    text = tpl.render([tpl.Entry("kept", "1.0", "MIT"), tpl.Entry("gone", "1.0", "MIT")])
    result = tpl.check(text, [tpl.Entry("kept", "1.1", "MIT"), tpl.Entry("new", "3.0", "BSD")])
    assert result.missing == ["new"]
    assert result.outdated == ["kept: listed 1.0, installed 1.1"]
    assert result.extra == ["gone"]
    assert not result.ok


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"License_Expression": "Apache-2.0", "License": "MIT"}, "Apache-2.0"),
        ({"License": "BSD-3-Clause"}, "BSD-3-Clause"),
        (
            {"License": "long\ntext", "Classifier": ["License :: OSI Approved :: MIT License"]},
            "MIT License",
        ),
        ({"Classifier": ["Programming Language :: Python"]}, tpl.UNKNOWN),
    ],
)
def test_license_of(fields: dict[str, str | list[str]], expected: str) -> None:
    assert tpl.license_of(_metadata(**fields)) == expected  # type: ignore[arg-type]


def test_vendored_assets_are_listed_and_ship_with_their_licence() -> None:
    assets = tpl.vendored()
    assert [asset["name"] for asset in assets] == ["uplot"]
    for asset in assets:
        for name in [*asset["files"], asset["license_file"]]:
            assert (tpl.VENDOR_DIR / name).is_file(), name
    text = tpl.LICENSES_FILE.read_text(encoding="utf-8")
    assert tpl.render_vendored(assets) in text, f"the vendored assets part is stale; run `{REGENERATE}`"
    assert "uplot" not in tpl.parse(text)  # the part is not read as a runtime dependency
