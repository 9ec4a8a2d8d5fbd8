"""``gw.prompts``: versioned prompt templates (``pp-...``), labels and promotion.

A prompt has a unique name and immutable, numbered versions (chat messages whose text is
Mustache, the model, parameters, an optional config id to route by, a note). Labels point at
versions: ``production``, ``staging`` and ``development`` always exist (on version 1 at first),
custom ones may be added, and ``latest`` always follows the newest version. ``update`` adds a
version and moves no label but ``latest``; ``publish`` moves ``production``; ``rollback`` moves it
back to where it was before. Partials (``template="..."``) are prompts too, included with
``{{>name}}`` or ``{{>name@3}}``. References: ``name`` / ``pp-id`` (production), ``name@12``,
``name@latest``, ``name@staging``.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from ..catalog.models import Actor, actor_from_env
from ..errors import ConflictError, InvalidRequestError, ResourceNotFoundError
from ..prompts.refs import DEFAULT_LABELS, LATEST, PRODUCTION, check_label, check_name, parse_ref
from ..prompts.render import Missing
from ..store.prompt_tables import PromptLabelRow, PromptRow, PromptVersionRow
from ..store.providers import new_id
from ..store.tables import utcnow
from .plane import ControlPlane
from .prompt_fields import PromptGateway, checked_body, checked_params, optional_text
from .prompt_snapshot import RenderedPrompt
from .prompt_views import Prompt, PromptDiff, PromptVersion, diff_versions
from .views import SyncPaginator, iso

__all__ = ["PromptGateway", "Prompts"]

_UNSET: Any = object()
_VERSION_RETRIES = 5


class Prompts:
    """``gw.prompts``: the prompt library and its use.

    create, list, retrieve, versions, update, label, publish, rollback, diff, delete, render and
    completions.
    """

    def __init__(
        self,
        plane: ControlPlane,
        gateway: PromptGateway | None = None,
        gateway_for: Callable[[str], PromptGateway] | None = None,
        actor: Actor | None = None,
    ) -> None:
        self._plane = plane
        self._gateway = gateway
        self._gateway_for = gateway_for  # a gateway running a prompt version's config_id
        self._actor = actor  # who writes (the admin API's caller); default: the environment's user

    def _acting(self) -> Actor:
        return self._actor or actor_from_env(self._plane.env)

    def __repr__(self) -> str:
        return "Prompts()"

    # ------------------------------------------------------------------ reading

    def _find(self, session: Session, ref: str, path: str = "prompt") -> PromptRow:
        parsed = parse_ref(ref, path)
        row = session.scalars(
            select(PromptRow).where(or_(PromptRow.id == parsed.prompt, PromptRow.name == parsed.prompt))
        ).first()
        if row is None:
            raise ResourceNotFoundError(f"no prompt with id or name {parsed.prompt!r}")
        return row

    def _number(self, row: PromptRow, ref: str) -> int:
        parsed = parse_ref(ref)
        if parsed.version is not None:
            return parsed.version
        if parsed.label == LATEST:
            return row.latest_version
        labels = {label.label: label.version for label in row.labels}
        if parsed.label not in labels:
            known = ", ".join(sorted([*labels, LATEST]))
            raise ResourceNotFoundError(
                f"prompt {row.name!r} has no label {parsed.label!r} (labels: {known})"
            )
        return labels[parsed.label]

    def _view(self, session: Session, row: PromptRow, number: int) -> Prompt:
        version = session.get(PromptVersionRow, (row.id, number))
        if version is None:
            raise ResourceNotFoundError(
                f"prompt {row.name!r} has no version {number} (versions 1 to {row.latest_version})"
            )
        return Prompt(
            id=row.id, name=row.name, kind=row.kind, description=row.description, version=number,
            latest_version=row.latest_version, labels={label.label: label.version for label in row.labels},
            template=version.template, model=version.model, params=dict(version.params or {}),
            config_id=version.config_id, note=version.note, created_by=version.created_by, owner=row.owner,
            organization_id=row.organization_id, created_at=iso(row.created_at) or "",
            updated_at=iso(row.updated_at) or "",
        )  # fmt: skip

    def retrieve(self, ref: str) -> Prompt:
        """The prompt at the version ``ref`` names (``name`` = its production version)."""
        with self._plane.store.reading() as session:
            row = self._find(session, ref)
            return self._view(session, row, self._number(row, ref))

    def list(self, *, search: str | None = None, limit: int = 50) -> SyncPaginator[Prompt]:
        """Prompts by name at their production version, ``limit`` per page; ``search`` in the name."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
            raise InvalidRequestError(f"expected a positive integer, got {limit!r}", path="limit")
        return SyncPaginator(lambda offset, size: self.page(search, size, offset, count=False)[0], limit)

    def page(
        self, search: str | None = None, limit: int = 50, offset: int = 0, *, count: bool = True
    ) -> tuple[builtins.list[Prompt], int]:
        """One page of :meth:`list` from ``offset``, and how many prompts match in all (``count``)."""
        statement = select(PromptRow)
        if search:
            statement = statement.where(PromptRow.name.contains(search, autoescape=True))
        with self._plane.store.reading() as session:
            total = session.scalar(select(func.count()).select_from(statement.subquery())) if count else 0
            rows = session.scalars(statement.order_by(PromptRow.name).offset(offset).limit(limit)).all()
            return [self._view(session, row, self._number(row, row.name)) for row in rows], total or 0

    def versions(self, ref: str) -> builtins.list[PromptVersion]:
        """Every version of a prompt, oldest first, with the labels on each."""
        with self._plane.store.reading() as session:
            row = self._find(session, ref)
            on: dict[int, builtins.list[str]] = {}
            for label in row.labels:
                on.setdefault(label.version, []).append(label.label)
            on.setdefault(row.latest_version, []).append(LATEST)
            return [
                PromptVersion(
                    v.version, sorted(on.get(v.version, [])), v.note, v.created_by, iso(v.created_at) or ""
                )
                for v in row.versions
            ]

    def diff(self, a: str, b: str) -> PromptDiff:
        """What changed between two versions of one prompt (``diff("bot@3", "bot@staging")``)."""
        first, second = self.retrieve(a), self.retrieve(b)
        if first.id != second.id:
            raise InvalidRequestError(f"{a!r} and {b!r} are different prompts", path="b")
        return diff_versions(first.name, first, second)

    # ------------------------------------------------------------------ writing

    def _written(self) -> None:
        """Make this process see the change at once (others within the plane's refresh interval)."""
        self._plane.prompts.refresh()

    def create(
        self,
        name: str,
        messages: builtins.list[Mapping[str, Any]] | None = None,
        *,
        template: str | None = None,
        model: str | None = None,
        params: Mapping[str, Any] | None = None,
        config_id: str | None = None,
        description: str | None = None,
        note: str | None = None,
    ) -> Prompt:
        """Save version 1 of a new prompt (``messages``) or partial (``template``); every label on it."""
        clean_name = check_name(name)
        kind, body = checked_body(messages, template)
        clean_params = checked_params(params)
        clean_model = optional_text(model, "model", 300)
        clean_config = optional_text(config_id, "config_id", 200)
        clean_note, clean_description = (
            optional_text(note, "note"),
            optional_text(description, "description"),
        )
        actor, now = self._acting(), utcnow()
        row = PromptRow(
            id=new_id("pp"), name=clean_name, kind=kind, description=clean_description, latest_version=1,
            owner=actor.user, organization_id=actor.organization_id, created_at=now, updated_at=now,
        )  # fmt: skip
        row.versions.append(
            PromptVersionRow(
                version=1,
                template=body,
                model=clean_model,
                params=clean_params,
                config_id=clean_config,
                note=clean_note,
                created_by=actor.user,
                created_at=now,
            )
        )
        row.labels.extend(PromptLabelRow(label=label, version=1, updated_at=now) for label in DEFAULT_LABELS)
        with self._plane.store.changing() as session:
            if session.scalars(select(PromptRow.id).where(PromptRow.name == clean_name)).first() is not None:
                raise ConflictError(f"a prompt named {clean_name!r} already exists")
            session.add(row)
        self._written()
        return self.retrieve(row.id)

    def update(
        self,
        ref: str,
        *,
        messages: builtins.list[Mapping[str, Any]] | None = None,
        template: str | None = None,
        model: str | None = _UNSET,
        params: Mapping[str, Any] | None = None,
        config_id: str | None = _UNSET,
        note: str | None = None,
        description: str | None = _UNSET,
    ) -> Prompt:
        """Add the next version (fields not given are copied from the newest version); labels stay."""
        for attempt in range(_VERSION_RETRIES):
            try:
                return self._update(ref, messages, template, model, params, config_id, note, description)
            except ConflictError:  # another writer took the number between our read and write
                if attempt == _VERSION_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    def _update(  # noqa: PLR0917 - the public update's keyword arguments, passed on in order
        self,
        ref: str,
        messages: Any,
        template: Any,
        model: Any,
        params: Any,
        config_id: Any,
        note: Any,
        description: Any,
    ) -> Prompt:
        actor, now = self._acting(), utcnow()
        with self._plane.store.changing() as session:
            row = self._find(session, ref)
            # One atomic step takes the number (row-locked on PostgreSQL): no two versions share it.
            session.execute(
                update(PromptRow)
                .where(PromptRow.id == row.id)
                .values(latest_version=PromptRow.latest_version + 1)
            )
            session.refresh(row)
            number = row.latest_version
            newest = session.get(PromptVersionRow, (row.id, number - 1))
            assert newest is not None
            if messages is None and template is None:
                body = newest.template
            else:
                kind, body = checked_body(messages, template)
                if kind != row.kind:
                    raise InvalidRequestError(
                        f"{row.name!r} is a {row.kind}; it cannot become a {kind}", path="messages"
                    )
            session.add(
                PromptVersionRow(
                    prompt_id=row.id,
                    version=number,
                    template=body,
                    model=newest.model if model is _UNSET else optional_text(model, "model", 300),
                    params=dict(newest.params or {}) if params is None else checked_params(params),
                    config_id=newest.config_id
                    if config_id is _UNSET
                    else optional_text(config_id, "config_id", 200),
                    note=optional_text(note, "note"),
                    created_by=actor.user,
                    created_at=now,
                )
            )
            if description is not _UNSET:
                row.description = optional_text(description, "description")
            row.updated_at = now
            prompt_id = row.id
        self._written()
        return self.retrieve(f"{prompt_id}@{number}")

    def label(self, ref: str, label: str, version: int) -> Prompt:
        """Point ``label`` (created if new) at ``version`` of this prompt; it takes effect everywhere."""
        clean = check_label(label)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise InvalidRequestError(f"expected a version number >= 1, got {version!r}", path="version")
        with self._plane.store.changing() as session:
            row = self._find(session, ref)
            if session.get(PromptVersionRow, (row.id, version)) is None:
                raise ResourceNotFoundError(
                    f"prompt {row.name!r} has no version {version} (versions 1 to {row.latest_version})"
                )
            self._move(session, row, clean, version)
            prompt_id = row.id
        self._written()
        return self.retrieve(f"{prompt_id}@{clean}")

    @staticmethod
    def _move(session: Session, row: PromptRow, label: str, version: int) -> None:
        current = session.get(PromptLabelRow, (row.id, label))
        if current is None:
            session.add(PromptLabelRow(prompt_id=row.id, label=label, version=version, updated_at=utcnow()))
        elif current.version != version:
            current.previous_version, current.version, current.updated_at = current.version, version, utcnow()

    def publish(self, ref: str, version: int | None = None) -> Prompt:
        """Move ``production`` to ``version`` (default: the newest)."""
        if version is None:
            version = self.retrieve(f"{parse_ref(ref).prompt}@{LATEST}").version
        return self.label(parse_ref(ref).prompt, PRODUCTION, version)

    def rollback(self, ref: str, label: str = PRODUCTION) -> Prompt:
        """Move ``label`` back to the version it named before its last move."""
        with self._plane.store.changing() as session:
            row = self._find(session, ref)
            current = session.get(PromptLabelRow, (row.id, label))
            if current is None or current.previous_version is None:
                raise InvalidRequestError(
                    f"label {label!r} of {row.name!r} has not moved: nothing to roll back", path="label"
                )
            self._move(session, row, label, current.previous_version)
            prompt_id = row.id
        self._written()
        return self.retrieve(f"{prompt_id}@{label}")

    def delete(self, ref: str) -> dict[str, Any]:
        """Remove a prompt, its versions and labels."""
        with self._plane.store.changing() as session:
            row = self._find(session, ref)
            found = row.id
            session.delete(row)
        self._written()
        return {"id": found, "deleted": True}

    # ------------------------------------------------------------------ using

    def render(
        self,
        ref: str,
        variables: Mapping[str, Any] | None = None,
        overrides: Mapping[str, Any] | None = None,
        *,
        missing: Missing = "error",
    ) -> RenderedPrompt:
        """The filled-in request (model, messages, params) from the in-memory snapshot."""
        if missing not in ("error", "empty"):
            raise InvalidRequestError(f"expected 'error' or 'empty', got {missing!r}", path="missing")
        return self._plane.prompts.render(ref, variables, overrides, missing=missing)

    def completions(
        self,
        ref: str,
        variables: Mapping[str, Any] | None = None,
        overrides: Mapping[str, Any] | None = None,
        *,
        stream: bool = False,
        metadata: Mapping[str, Any] | None = None,
        missing: Missing = "error",
    ) -> Any:
        """Render and send through the gateway: an awaitable response, or (``stream=True``) a stream.

        A version with a ``config_id`` is routed by that config (a saved ``pc-...`` config of this
        store, else Portkey's hosted gateway resolves it), one whose model is ``@provider/model``
        to that provider (its key from the vault or the environment), each with this gateway's
        transport and control plane; otherwise by this gateway's own config.
        """
        if self._gateway is None:
            raise InvalidRequestError("this prompts API has no gateway to send through", path="prompt")
        rendered = self.render(ref, variables, overrides, missing=missing)
        gateway = self._gateway
        body = {**rendered.body(), "variables": dict(variables or {})}  # for a config's prompt targets
        provider, _, name = (rendered.model or "").removeprefix("@").partition("/")
        if rendered.config_id and self._gateway_for is not None:
            gateway = self._gateway_for(rendered.config_id)
        elif (rendered.model or "").startswith("@") and provider and name and self._gateway_for is not None:
            gateway, body["model"] = self._gateway_for(f"@{provider}"), name
        tagged = {**(metadata or {}), **prompt_metadata(rendered)}
        if stream:
            return gateway.stream(body, metadata=tagged)
        return gateway.chat(body, metadata=tagged)


def prompt_metadata(rendered: RenderedPrompt) -> dict[str, str]:
    """The metadata a request made through a prompt carries (analytics groups by these)."""
    return {"prompt_id": rendered.prompt_id, "prompt_version": str(rendered.version)}
