"""Write the admin API's OpenAPI document to docs/openapi.json (or check it with --check).

The document is generated from the code (FastAPI); the checked-in copy pins it: a unit test
fails when a route or field changes without this file being regenerated, so API changes are
seen in review. Run ``hatch run openapi`` after changing an admin route, and commit the result.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

PINNED = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"


def current_document() -> str:
    """The admin app's OpenAPI document as it is generated now (sorted, indented, newline-ended)."""
    from fastapi import FastAPI

    from strands_portkey.server.app import create_app
    from strands_portkey.server.settings import ServerSettings

    settings = ServerSettings(
        env={"STRANDS_PORTKEY_HOME": "/nonexistent/strands-portkey-openapi"}, open_store=False
    )
    app = create_app(settings, no_auth=True)
    admin = next(route.app for route in app.router.routes if isinstance(getattr(route, "app", None), FastAPI))
    return json.dumps(admin.openapi(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    document = current_document()
    if "--check" in argv:
        if PINNED.read_text(encoding="utf-8") != document:
            print(f"{PINNED} is out of date: run `hatch run openapi`", file=sys.stderr)
            return 1
        return 0
    PINNED.write_text(document, encoding="utf-8")
    print(f"wrote {PINNED}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
