"""``shared_with``: the SQL listing (``visible_to``) and the Python check (``can_use``) agree for any id.

Each model is shared with one awkward user id (plus one with all of them); every id then lists
the models as ``can_use`` decides: listed when shared with exactly that id, never for a similar one
(``ali`` / ``alice``, ``a_c`` / ``abc``, ``50%`` / ``5000``), whatever the JSON serializer escapes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from strands_portkey.catalog.models import Actor, can_use, create_model, query_models, visible_to
from strands_portkey.store.db import Store
from strands_portkey.store.tables import AIModelRow

AWKWARD = [
    "josé", "jos", "é", "\\u00e9", "漢字", "emoji🙂",
    "ali", "alice", "a_c", "abc", "50%", "5000", "%", "_",
    'say "hi"', '"', 'a", "b', "b", "[", "]", ", ",
    "back\\slash", "back\\\\slash", "\\", "x'y", "O'Brien; DROP TABLE ai_models; --",
]  # fmt: skip
ORG = "acme"


def _model(name: str, shared_with: list[str]) -> dict[str, object]:
    return {
        "name": name, "type": "third-party", "provider": "openai", "vendor_model_id": "gpt-4o",
        "model_type": "chat", "description": None, "capabilities": [], "max_tokens": None,
        "context_window": None, "config": {}, "is_shared": False, "shared_with": shared_with,
    }  # fmt: skip


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    path: Path = tmp_path_factory.mktemp("perms") / "models.db"
    store = Store(f"sqlite:///{path}")
    owner = Actor("the-owner", "elsewhere")
    with store.transaction() as session:
        for index, user in enumerate(AWKWARD):
            create_model(session, _model(f"m{index}", [user]), owner)
        create_model(session, _model("everyone", list(AWKWARD)), owner)
        create_model(session, _model("nobody", []), owner)
        create_model(session, {**_model("org-wide", []), "is_shared": True}, owner)
    yield store
    store.close()


@pytest.mark.parametrize("user", AWKWARD)
def test_listing_agrees_with_can_use(store: Store, user: str) -> None:
    actor = Actor(user, ORG)
    with store.reading() as session:
        listed = {row.name for row in query_models(session, actor, limit=1000)}
        allowed = {row.name for row in session.scalars(select(AIModelRow)) if can_use(row, actor)}
        counted = session.scalar(select(func.count()).select_from(AIModelRow).where(visible_to(actor)))
    assert listed == allowed == {f"m{AWKWARD.index(user)}", "everyone"}
    assert counted == 2  # the overview's form of the same filter


def test_owner_and_organization_still_list(store: Store) -> None:
    def names(actor: Actor) -> set[str]:
        with store.reading() as session:
            return {row.name for row in query_models(session, actor, limit=1000)}

    assert len(names(Actor("the-owner", "x"))) == len(AWKWARD) + 3
    assert names(Actor("stranger", "elsewhere")) == {"org-wide"}
    assert names(Actor("stranger", ORG)) == set()
