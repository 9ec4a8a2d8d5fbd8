"""The one table of who may call each admin route: ``(method, path template) -> role``.

Roles, from the caller's gateway key (``gw.api_keys``):

- ``public``: no key needed (the spec's discovery routes, the API's own docs);
- ``member``: any valid key; what a member sees inside is narrowed by the service layer (its own
  and shared models, its own keys, analytics of its own requests);
- ``admin``: keys with the ``admin`` role only (a member gets 403: the route is public knowledge,
  unlike the objects behind it, which answer 404 to whoever may not see them).

A test checks this table against the app's routes both ways: no route without a rule, no rule
without a route. A route missing here answers 500 (never served without a rule). Sections are
per resource; keep a route's line in its resource's section.
"""

from __future__ import annotations

from typing import Final, Literal

__all__ = ["ROLES", "ROUTE_ROLES", "Role", "role_of"]

Role = Literal["public", "member", "admin"]
ROLES: Final = ("public", "member", "admin")

ROUTE_ROLES: Final[dict[tuple[str, str], Role]] = {
    # --- the API's own description
    ("GET", "/openapi.json"): "public",
    ("GET", "/docs"): "public",
    ("GET", "/docs/assets/{name}"): "public",
    # --- who am I
    ("GET", "/api/me"): "member",
    # --- AI providers (seed 002): /api/ai-providers
    ("GET", "/api/ai-providers"): "member",
    ("POST", "/api/ai-providers"): "admin",
    ("GET", "/api/ai-providers/{id}"): "member",
    ("PUT", "/api/ai-providers/{id}"): "admin",
    ("DELETE", "/api/ai-providers/{id}"): "admin",
    ("POST", "/api/ai-providers/{providerId}/credentials"): "admin",
    ("PUT", "/api/ai-providers/{providerId}/credentials/{credentialId}"): "admin",
    ("DELETE", "/api/ai-providers/{providerId}/credentials/{credentialId}"): "admin",
    ("GET", "/api/ai-providers/{providerId}/credentials/{credentialId}/check"): "admin",
    ("GET", "/api/ai-providers/model-rates"): "member",
    ("POST", "/api/ai-providers/model-rates"): "admin",
    ("GET", "/api/ai-providers/model-rates/{rateId}"): "member",
    ("PUT", "/api/ai-providers/{providerId}/model-rates/{rateId}"): "admin",
    ("DELETE", "/api/ai-providers/{providerId}/model-rates/{rateId}"): "admin",
    ("POST", "/api/ai-providers/bulk-rate-update"): "admin",
    ("GET", "/api/ai-providers/models"): "public",
    ("GET", "/api/ai-providers/chat/models"): "public",
    ("GET", "/api/ai-providers/health"): "public",
    ("GET", "/api/ai-providers/test-models"): "admin",
    ("GET", "/api/ai-providers/test-models/{jobId}"): "admin",
    # --- AI models (seed 000): /api/ai/models (a member: the models it may use; changes its own)
    ("GET", "/api/ai/models"): "member",
    ("GET", "/api/ai/models/overview"): "member",
    ("POST", "/api/ai/models"): "member",
    ("GET", "/api/ai/models/{model_id}"): "member",
    ("PUT", "/api/ai/models/{model_id}"): "member",
    ("DELETE", "/api/ai/models/{model_id}"): "member",
    ("POST", "/api/ai/models/{model_id}/deploy"): "member",
    ("POST", "/api/ai/models/{model_id}/start"): "member",
    ("POST", "/api/ai/models/{model_id}/stop"): "member",
    ("GET", "/api/ai/models/{model_id}/status"): "member",
    ("GET", "/api/ai/models/{model_id}/metrics"): "member",
    ("GET", "/api/ai/models/{model_id}/logs"): "member",
    ("GET", "/api/ai/models/{model_id}/permissions"): "member",
    ("PUT", "/api/ai/models/{model_id}/permissions"): "member",
    # --- provider keys (seed 000): /api/ai/provider-keys (a member: its own keys)
    ("GET", "/api/ai/provider-keys"): "member",
    ("POST", "/api/ai/provider-keys"): "member",
    ("GET", "/api/ai/provider-keys/{key_id}"): "member",
    ("PUT", "/api/ai/provider-keys/{key_id}"): "member",
    ("DELETE", "/api/ai/provider-keys/{key_id}"): "member",
    ("POST", "/api/ai/provider-keys/{key_id}/test"): "member",
    # --- analytics (seed 000): /api/ai/analytics (a member: its own requests)
    ("GET", "/api/ai/analytics/usage"): "member",
    ("GET", "/api/ai/analytics/costs"): "member",
    ("GET", "/api/ai/analytics/performance"): "member",
    ("GET", "/api/ai/analytics/time-series"): "member",
    ("GET", "/api/ai/analytics/providers"): "member",
    # --- gateway API keys: /api/keys (a member: its own keys, never wider than the calling key)
    ("GET", "/api/keys"): "member",
    ("POST", "/api/keys"): "member",
    ("GET", "/api/keys/{key_id}"): "member",
    ("PATCH", "/api/keys/{key_id}"): "member",
    ("POST", "/api/keys/{key_id}/rotate"): "member",
    ("POST", "/api/keys/{key_id}/revoke"): "member",
    ("GET", "/api/keys/{key_id}/usage"): "member",
    # --- saved configs: /api/configs (members read those of their organization or key; writes: admin)
    ("GET", "/api/configs"): "member",
    ("POST", "/api/configs"): "admin",
    ("GET", "/api/configs/{config_id}"): "member",
    ("PATCH", "/api/configs/{config_id}"): "admin",
    ("GET", "/api/configs/{config_id}/versions"): "member",
    ("DELETE", "/api/configs/{config_id}"): "admin",
    # --- prompts: /api/prompts (members read and preview; writes are admin)
    ("GET", "/api/prompts"): "member",
    ("POST", "/api/prompts"): "admin",
    ("GET", "/api/prompts/{prompt_id}"): "member",
    ("DELETE", "/api/prompts/{prompt_id}"): "admin",
    ("GET", "/api/prompts/{prompt_id}/versions"): "member",
    ("POST", "/api/prompts/{prompt_id}/versions"): "admin",
    ("PUT", "/api/prompts/{prompt_id}/labels/{label}"): "admin",
    ("POST", "/api/prompts/{prompt_id}/publish"): "admin",
    ("POST", "/api/prompts/{prompt_id}/rollback"): "admin",
    ("GET", "/api/prompts/{prompt_id}/diff"): "member",
    ("POST", "/api/prompts/{prompt_id}/render"): "member",
    # --- dashboard data: /api/dashboard, /api/requests
    ("GET", "/api/dashboard/overview"): "member",
    ("GET", "/api/requests"): "member",
    ("GET", "/api/requests/{request_id}"): "member",
    ("POST", "/api/dashboard/config-tree"): "member",
    # --- dashboard pages: /ui (public: without a session they redirect to /ui/login)
    ("GET", "/ui"): "public",
    ("GET", "/ui/login"): "public",
    ("POST", "/ui/login"): "public",
    ("POST", "/ui/logout"): "public",
    ("GET", "/ui/session"): "member",
    ("GET", "/ui/static/{name:path}"): "public",
    ("GET", "/ui/overview"): "public",
    ("GET", "/ui/requests"): "public",
    ("GET", "/ui/requests/{request_id}"): "public",
    ("GET", "/ui/providers"): "public",
    ("GET", "/ui/models"): "public",
    ("GET", "/ui/configs"): "public",
}


def role_of(method: str, path: str) -> Role | None:
    """The role a route needs (``HEAD`` as ``GET``), or None when the route has no rule."""
    return ROUTE_ROLES.get(("GET" if method == "HEAD" else method, path))
