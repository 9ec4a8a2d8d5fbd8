"""What the seed 000 resources' routers share: the caller's ``gw.ai``, field paths, pages, body size.

- :data:`AIDep`: ``gw.ai`` acting for the caller (:meth:`AdminServices.ai_for`), which logs every
  probe of an object the caller may not see (key id, route, object id; never a secret).
- :func:`located`: the service layer names a bad argument by its name (``start_date``); over
  HTTP it is a field of the query, the path or the body (``query.start_date``).
- :class:`Page`: the listing envelope ``{"data", "total", "limit", "offset"}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

from fastapi import Depends
from pydantic import BaseModel
from starlette.requests import Request

from ...errors import InvalidRequestError
from .caller import CallerDep
from .services import ServicesDep, hidden_logger

if TYPE_CHECKING:
    from ...controlplane import AINamespace
    from ...controlplane.views import SyncPaginator

__all__ = ["AIDep", "Page", "located", "page_of"]

_LOCATIONS = ("body", "query", "path")
_PATH_PARAMS = ("model_id", "key_id")
T = TypeVar("T")


def ai_of_caller(request: Request, caller: CallerDep, services: ServicesDep) -> AINamespace:
    """``gw.ai`` acting for the caller; probes of objects it may not see are logged (404)."""

    def hidden(kind: str, ref: str) -> None:
        hidden_logger(request, caller, kind)(ref)

    return services.ai_for(caller, on_hidden=hidden)


AIDep = Annotated["AINamespace", Depends(ai_of_caller)]
"""A handler's ``ai: AIDep`` parameter: ``gw.ai`` acting for the caller."""


@contextmanager
def located(where: str, *, path_params: tuple[str, ...] = _PATH_PARAMS) -> Iterator[None]:
    """Re-raise the service layer's argument errors with their HTTP location (``query.limit``).

    Names in ``path_params`` (``model_id``, ``key_id``) are in the path; other bare names are in
    ``where`` (``query`` or ``body``); paths that already say where they are pass unchanged.
    """
    try:
        yield
    except InvalidRequestError as error:
        path = error.path
        if not path or path.split(".", 1)[0] in _LOCATIONS or type(error) is not InvalidRequestError:
            raise
        place = "path" if path.split(".", 1)[0] in path_params else where
        message = error.message.removeprefix(f"{path}: ")
        raise InvalidRequestError(message, path=f"{place}.{path}") from None


class Page(BaseModel, Generic[T]):
    """One page of a listing: ``data``, the ``total`` matching, and the ``limit`` / ``offset`` asked."""

    data: list[T]
    total: int
    limit: int
    offset: int


def page_of(paginator: SyncPaginator[Any], offset: int) -> dict[str, Any]:
    """The envelope of one page of ``paginator`` (its page size is the ``limit``)."""
    data = paginator.page(offset)
    total = paginator.total()
    return {
        "data": data,
        "total": offset + len(data) if total is None else total,
        "limit": paginator.page_size,
        "offset": offset,
    }
