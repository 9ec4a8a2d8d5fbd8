"""List the licences of strands-agents-portkey's runtime dependencies (THIRD_PARTY_LICENSES).

Also lists the vendored assets: files from another project shipped inside the package (the
dashboard's chart library), read from ``VENDORED.json`` next to them.

Walks ``Requires-Dist`` of the installed distribution transitively with importlib.metadata: markers are
evaluated for the running interpreter, and a dependency's extras are followed only when requested.
Development tools (pytest, ruff, ...) are not runtime dependencies and are not listed.

    hatch run python scripts/third_party_licenses.py > THIRD_PARTY_LICENSES   # regenerate
    hatch run python scripts/third_party_licenses.py --check                  # exit 1 when stale
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.metadata as md
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

DIST_NAME = "strands-agents-portkey"
REPO_ROOT = Path(__file__).resolve().parent.parent
LICENSES_FILE = REPO_ROOT / "THIRD_PARTY_LICENSES"
UNKNOWN = "UNKNOWN — check"
NOT_INSTALLED = "not-installed"
_MAX_LICENSE_FIELD = 80
VENDOR_DIR = REPO_ROOT / "src" / "strands_portkey" / "server" / "admin" / "dashboard" / "static" / "vendor"
VENDORED_TITLE = "Vendored assets: files of other projects shipped inside the package"

_TITLE = f"Third-party licences: runtime dependencies of {DIST_NAME}"
HEADER = f"""\
{_TITLE}
{"=" * len(_TITLE)}

Every distribution that {DIST_NAME} needs at run time, found transitively from the
Requires-Dist metadata of the installed packages (environment markers evaluated on Linux,
CPython; extras only where requested), with the licence its metadata declares
(License-Expression, else License, else the licence classifiers).
Development and test tools are not included.

Generated file; do not edit by hand. Regenerate it after changing dependencies with:

    hatch run python scripts/third_party_licenses.py > THIRD_PARTY_LICENSES

and check it with:

    hatch run python scripts/third_party_licenses.py --check
"""

_NAME_RE = re.compile(r"[-_.]+")


def normalize(name: str) -> str:
    """PEP 503 normalisation: ``Typing_Extensions`` -> ``typing-extensions``."""
    return _NAME_RE.sub("-", name).lower()


@dataclasses.dataclass(frozen=True, order=True)
class Entry:
    name: str
    version: str
    license: str


def license_of(metadata: md.PackageMetadata) -> str:
    """License-Expression, else a short License field, else licence classifiers, else UNKNOWN."""
    expression = (metadata.get("License-Expression") or "").strip()
    if expression:
        return expression
    field = (metadata.get("License") or "").strip()
    if field and "\n" not in field and len(field) <= _MAX_LICENSE_FIELD and field.upper() != "UNKNOWN":
        return field
    classifiers = [
        c.split("::")[-1].strip()
        for c in (metadata.get_all("Classifier") or [])
        if c.startswith("License ::") and c.count("::") >= 2
    ]
    if classifiers:
        return "; ".join(dict.fromkeys(classifiers))
    if field:  # a full licence text pasted into License: show its first line
        first = field.splitlines()[0].strip()
        return f"{first[:_MAX_LICENSE_FIELD]} (see package)"
    return UNKNOWN


def _wanted(req: Requirement, extras: Iterable[str]) -> bool:
    if req.marker is None:
        return True
    return any(req.marker.evaluate({"extra": extra}) for extra in ("", *extras))


def runtime_dependencies(root: str = DIST_NAME) -> list[Entry]:
    """Resolve ``root``'s runtime dependencies from the installed environment, sorted by name."""
    root_dist = md.distribution(root)  # PackageNotFoundError when the project is not installed
    seen: dict[str, Entry] = {}
    extras_done: dict[str, set[str]] = {}
    queue: list[tuple[md.Distribution, set[str]]] = [(root_dist, set())]
    root_key = normalize(root)
    while queue:
        dist, extras = queue.pop()
        for line in dist.requires or []:
            try:
                req = Requirement(line)
            except InvalidRequirement:
                continue
            if not _wanted(req, extras):
                continue
            key = normalize(req.name)
            if key == root_key:
                continue
            requested = set(req.extras)
            done = extras_done.get(key)
            if done is not None and requested <= done:
                continue
            extras_done[key] = (done or set()) | requested
            try:
                child = md.distribution(req.name)
            except md.PackageNotFoundError:
                seen[key] = Entry(key, NOT_INSTALLED, UNKNOWN)
                continue
            seen[key] = Entry(key, child.version, license_of(child.metadata))
            queue.append((child, extras_done[key]))
    return sorted(seen.values())


def render(entries: list[Entry]) -> str:
    width_name = max([len("name"), *(len(e.name) for e in entries)])
    width_version = max([len("version"), *(len(e.version) for e in entries)])
    lines = [HEADER, f"{'name':<{width_name}}  {'version':<{width_version}}  license"]
    lines.append(f"{'-' * width_name}  {'-' * width_version}  {'-' * 7}")
    lines += [f"{e.name:<{width_name}}  {e.version:<{width_version}}  {e.license}" for e in entries]
    return "\n".join(lines) + "\n" + render_vendored(vendored())


def vendored(directory: Path = VENDOR_DIR) -> list[dict[str, object]]:
    """The vendored assets as ``VENDORED.json`` describes them (none when there is no manifest)."""
    manifest = directory / "VENDORED.json"
    if not manifest.exists():
        return []
    entries: list[dict[str, object]] = json.loads(manifest.read_text(encoding="utf-8"))
    return entries


def render_vendored(assets: list[dict[str, object]], directory: Path = VENDOR_DIR) -> str:
    """The vendored-assets part: name, version, licence, where from, which files, the licence text's file."""
    if not assets:
        return ""
    where = directory.relative_to(REPO_ROOT).as_posix()
    lines = ["", VENDORED_TITLE, "=" * len(VENDORED_TITLE), ""]
    for asset in assets:
        files = ", ".join(str(name) for name in asset["files"])  # type: ignore[attr-defined]
        lines += [
            f"{asset['name']} {asset['version']}  {asset['license']}",
            f"    from:    {asset['source']}",
            f"    files:   {where}/{{{files}}}",
            f"    licence: {where}/{asset['license_file']} (the full text, shipped with the files)",
            "",
        ]
    return "\n".join(lines)


def parse(text: str) -> dict[str, str]:
    """Read a rendered file back: ``{normalized name: version}``."""
    rows: dict[str, str] = {}
    in_table = False
    for line in text.splitlines():
        if line.startswith(VENDORED_TITLE):
            break
        if not in_table:
            in_table = line.startswith("name ") and line.rstrip().endswith("license")
            continue
        if not line.strip() or set(line.replace(" ", "")) == {"-"}:
            continue
        parts = line.split()
        if len(parts) >= 2:
            rows[normalize(parts[0])] = parts[1]
    return rows


@dataclasses.dataclass(frozen=True)
class CheckResult:
    missing: list[str]
    outdated: list[str]  # "name: listed X, installed Y"
    extra: list[str]  # listed but no longer a runtime dependency (informational)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.outdated


def check(text: str, entries: list[Entry]) -> CheckResult:
    listed = parse(text)
    missing = [e.name for e in entries if e.name not in listed]
    outdated = [
        f"{e.name}: listed {listed[e.name]}, installed {e.version}"
        for e in entries
        if e.name in listed and listed[e.name] != e.version
    ]
    wanted = {e.name for e in entries}
    extra = sorted(name for name in listed if name not in wanted)
    return CheckResult(missing, outdated, extra)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help=f"compare with {LICENSES_FILE.name}; exit 1 if stale"
    )
    parser.add_argument("--file", type=Path, default=LICENSES_FILE, help="file to check (with --check)")
    args = parser.parse_args(argv)
    entries = runtime_dependencies()
    if not args.check:
        sys.stdout.write(render(entries))
        return 0
    try:
        text = args.file.read_text(encoding="utf-8")
    except OSError as exc:
        print(f"cannot read {args.file}: {exc}", file=sys.stderr)
        return 1
    result = check(text, entries)
    if render_vendored(vendored()) not in text:
        result.outdated.append("the vendored assets part (VENDORED.json changed)")
    for name in result.missing:
        print(f"missing:  {name}")
    for line in result.outdated:
        print(f"outdated: {line}")
    for name in result.extra:
        print(f"note: listed but not a runtime dependency any more: {name}")
    if result.ok:
        print(f"{args.file.name} is up to date ({len(entries)} runtime dependencies)")
        return 0
    print(f"{args.file.name} is stale: regenerate it with", file=sys.stderr)
    print("    hatch run python scripts/third_party_licenses.py > THIRD_PARTY_LICENSES", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
