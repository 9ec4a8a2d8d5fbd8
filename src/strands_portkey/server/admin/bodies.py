"""Shared pieces of the admin API's request models: strict bodies and page parameters.

Every body model derives from :class:`Body`: unknown fields are refused (``extra="forbid"``,
answered 400 naming the field), strings are not coerced to numbers, and a model may declare
camelCase aliases (seed 002's field names) while handlers read snake_case attributes.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, ConfigDict

__all__ = ["MAX_LIMIT", "Body", "Limit", "Offset", "fields_set"]

MAX_LIMIT = 1000
"""The largest page a listing returns (``limit`` outside 1..MAX_LIMIT answers 400)."""

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page (1-1000).")]
Offset = Annotated[int, Query(ge=0, description="Items to skip.")]


class Body(BaseModel):
    """A strict JSON body: unknown fields refused, no type coercion, aliases accepted."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


def fields_set(body: BaseModel, *, by_alias: bool = False) -> dict[str, Any]:
    """The fields the caller sent (a partial update changes only these), as plain JSON values."""
    return body.model_dump(mode="json", exclude_unset=True, by_alias=by_alias)
