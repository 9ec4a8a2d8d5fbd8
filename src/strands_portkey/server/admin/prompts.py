"""``/api/prompts``: the prompt library over HTTP, thin handlers over ``gw.prompts``.

CRUD, versions, labels, publish / rollback, diff and a render preview. ``{prompt_id}`` is any
prompt reference (``pp-...``, ``name``, ``name@12``, ``name@staging``), as on the data plane's
``/v1/prompts/{id}/...``. Members read and render; writes need an admin key, and a new prompt or
version names the caller's user as its author. Every rule lives in the service layer
(``controlplane/prompts_api.py``); a field the service refuses is answered 400 with its JSON path
in the request (``body.messages[0].content``, ``path.prompt_id``, ``query.b``), nothing written.
Prompts are one library per gateway (the data plane renders any of them by name), so a member
of any organization reads all of them.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from ...errors import InvalidRequestError
from ...prompts.refs import PRODUCTION, parse_ref
from .bodies import Body, Limit, Offset, fields_set
from .caller import CallerDep
from .services import ServicesDep

__all__ = ["router"]

_FIRST = re.compile(r"^[^.\[]+")
_PROMPT = {"prompt": "path.prompt_id"}


@contextlib.contextmanager
def _fields(where: Mapping[str, str] | None = None) -> Iterator[None]:
    """Re-raise the service's field errors with their place in the request.

    The service names fields as ``gw.prompts`` takes them (``messages[0].content``); here they are
    ``body.`` fields unless ``where`` maps the first name elsewhere (``prompt`` -> ``path.prompt_id``).
    """
    try:
        yield
    except InvalidRequestError as error:
        path = error.path
        if not path or path.startswith(("body.", "path.", "query.")):
            raise
        first = _FIRST.match(path)
        head = first.group(0) if first else path
        moved = {**_PROMPT, **(where or {})}.get(head)
        longer = moved + path[len(head) :] if moved else f"body.{path}"
        raise InvalidRequestError(str(error).removeprefix(f"{path}: "), path=longer) from None


class PromptFields(Body):
    """A version's fields: chat ``messages`` (a prompt) or a ``template`` (a partial), and the rest."""

    messages: list[dict[str, Any]] | None = None
    template: str | None = None
    model: str | None = None
    params: dict[str, Any] | None = None
    config_id: str | None = None
    note: str | None = None
    description: str | None = None


class NewPrompt(PromptFields):
    """``POST /api/prompts``: version 1 of a new prompt; every default label points at it."""

    name: str


class LabelBody(Body):
    """``PUT /api/prompts/{prompt_id}/labels/{label}``: the version the label points at."""

    version: int = Field(ge=1)


class PublishBody(Body):
    """``POST .../publish``: the version to move ``production`` to (default: the newest)."""

    version: int | None = Field(default=None, ge=1)


class RollbackBody(Body):
    """``POST .../rollback``: the label to move back to where it was before its last move."""

    label: str = PRODUCTION


class RenderBody(Body):
    """``POST .../render``: variables, overrides (``model``, ``messages``, parameters), ``missing``."""

    variables: dict[str, Any] = Field(default_factory=dict)
    overrides: dict[str, Any] = Field(default_factory=dict)
    missing: Literal["error", "empty"] = "error"


def router() -> APIRouter:
    """The prompt routes (each has its rule in ``roles.ROUTE_ROLES``)."""
    r = APIRouter(prefix="/api/prompts", tags=["prompts"])

    @r.get("", summary="Prompts by name at their production version")
    def list_prompts(
        services: ServicesDep,
        caller: CallerDep,
        search: str | None = Query(default=None, max_length=200),
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        items, total = services.prompts_for(caller).page(search, limit, offset)
        return {"data": [p.to_dict() for p in items], "total": total, "limit": limit, "offset": offset}

    @r.post("", status_code=201, summary="Create a prompt (messages) or a partial (template)")
    def create_prompt(body: NewPrompt, services: ServicesDep, caller: CallerDep) -> dict[str, Any]:
        fields = fields_set(body)
        with _fields():
            return services.prompts_for(caller).create(fields.pop("name"), **fields).to_dict()

    @r.get("/{prompt_id}", summary="A prompt at the version its reference names")
    def get_prompt(prompt_id: str, services: ServicesDep, caller: CallerDep) -> dict[str, Any]:
        with _fields():
            return services.prompts_for(caller).retrieve(prompt_id).to_dict()

    @r.delete("/{prompt_id}", summary="Delete a prompt, its versions and labels")
    def delete_prompt(prompt_id: str, services: ServicesDep, caller: CallerDep) -> dict[str, Any]:
        with _fields():
            return services.prompts_for(caller).delete(prompt_id)

    @r.get("/{prompt_id}/versions", summary="Every version, oldest first, with its labels")
    def list_versions(prompt_id: str, services: ServicesDep, caller: CallerDep) -> dict[str, Any]:
        with _fields():
            versions = services.prompts_for(caller).versions(prompt_id)
        return {"data": [v.to_dict() for v in versions], "total": len(versions)}

    @r.post("/{prompt_id}/versions", status_code=201, summary="Add the next version; labels stay")
    def add_version(
        prompt_id: str, body: PromptFields, services: ServicesDep, caller: CallerDep
    ) -> dict[str, Any]:
        with _fields():
            return services.prompts_for(caller).update(prompt_id, **fields_set(body)).to_dict()

    @r.put("/{prompt_id}/labels/{label}", summary="Point a label (created if new) at a version")
    def set_label(
        prompt_id: str, label: str, body: LabelBody, services: ServicesDep, caller: CallerDep
    ) -> dict[str, Any]:
        with _fields({"label": "path.label"}):
            return services.prompts_for(caller).label(prompt_id, label, body.version).to_dict()

    @r.post("/{prompt_id}/publish", summary="Move production to a version (default: the newest)")
    def publish(
        prompt_id: str, services: ServicesDep, caller: CallerDep, body: PublishBody | None = None
    ) -> dict[str, Any]:
        version = body.version if body is not None else None
        with _fields():
            return services.prompts_for(caller).publish(prompt_id, version).to_dict()

    @r.post("/{prompt_id}/rollback", summary="Move a label back to where it was before its last move")
    def rollback(
        prompt_id: str, services: ServicesDep, caller: CallerDep, body: RollbackBody | None = None
    ) -> dict[str, Any]:
        label = body.label if body is not None else PRODUCTION
        with _fields():
            return services.prompts_for(caller).rollback(prompt_id, label).to_dict()

    @r.get("/{prompt_id}/diff", summary="What changed between two versions or labels of a prompt")
    def diff(
        prompt_id: str,
        services: ServicesDep,
        caller: CallerDep,
        a: str = Query(description="A version or label: 3, staging, latest"),
        b: str = Query(description="A version or label: 4, production"),
    ) -> dict[str, Any]:
        with _fields():
            name = parse_ref(prompt_id).prompt
        refs = [f"{name}@{side}" for side in (a, b)]
        for side, ref in zip(("a", "b"), refs, strict=True):
            parse_ref(ref, path=f"query.{side}")
        with _fields({"b": "query.b"}):
            return services.prompts_for(caller).diff(*refs).to_dict()

    @r.post("/{prompt_id}/render", summary="Preview: the prompt filled in (nothing is sent)")
    def render(
        prompt_id: str, services: ServicesDep, caller: CallerDep, body: RenderBody | None = None
    ) -> dict[str, Any]:
        body = body or RenderBody()
        with _fields({"messages": "body.overrides.messages"}):
            rendered = services.prompts_for(caller).render(
                prompt_id, body.variables, body.overrides, missing=body.missing
            )
        return rendered.to_dict()

    return r
