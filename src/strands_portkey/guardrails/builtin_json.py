"""Built-in structure and request checks: JSON schema / keys, model allow-list, metadata, request types.

Same parameters and verdicts as Portkey's ``default.*`` plugins. JSON is looked for as Portkey
does: fenced ```` ```json ```` blocks first, else every ``{...}`` span (shortest match), and the first
candidate that parses and passes wins.
"""

from __future__ import annotations

import re
from typing import Any

from ..wire import decode_json
from .builtin_text import _common, _flip, _operator, _text
from .context import CheckContext
from .registry import CheckDef, CheckOutcome, ParameterError, Params, param

__all__ = ["JSON_CHECKS"]

_FENCED = re.compile(r"```+(?:json)?\s*([\s\S]*?)```+")
_BRACES = re.compile(r"{[\s\S]*?}")


def _candidates(text: str, *, braces_too: bool) -> list[str]:
    found = [block.strip() for block in _FENCED.findall(text)]
    if braces_too or not found:
        found.extend(_BRACES.findall(text))
    return found


def _parsed(candidates: list[str]) -> list[Any]:
    values = []
    for candidate in candidates:
        try:
            values.append(decode_json(candidate))
        except ValueError:
            continue
    return values


# ----------------------------------------------------------------- jsonSchema


def _prepare_schema(params: Params) -> Params:
    _common(params)
    schema = param(params, "schema", "object", required=True)
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
    from jsonschema.exceptions import SchemaError  # type: ignore[import-untyped]

    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        raise ParameterError(f"parameter 'schema' is not a valid JSON Schema: {error.message}") from None
    return {**params, "_validator": Draft202012Validator(schema)}


def json_schema(context: CheckContext, params: Params) -> CheckOutcome:
    """``default.jsonSchema``: JSON in the text validates against ``schema`` (draft 2020-12)."""
    validator = params["_validator"]
    best: tuple[Any, list[str]] | None = None
    for value in _parsed(_candidates(context.text, braces_too=False)):
        errors = [error.message for error in validator.iter_errors(value)]
        if not errors:
            return CheckOutcome(_flip(params, True), {"matchedJson": value, "validationErrors": []})
        if best is None:
            best = (value, errors)
    if best is None:
        return CheckOutcome(False, {"explanation": "No valid JSON found in the text."})
    return CheckOutcome(_flip(params, False), {"matchedJson": best[0], "validationErrors": best[1]})


# ----------------------------------------------------------------- jsonKeys


def _prepare_keys(params: Params) -> Params:
    _common(params)
    keys = param(params, "keys", "list[str]", required=True)
    if not keys:
        raise ParameterError("parameter 'keys' must not be empty")
    _operator(params)
    return params


def json_keys(context: CheckContext, params: Params) -> CheckOutcome:
    """``default.jsonKeys``: ``any`` / ``all`` / ``none`` of ``keys`` are top-level keys of JSON found."""
    text = _text(context)
    keys: list[str] = params["keys"]
    operator = params["operator"]
    best: dict[str, Any] = {"present": [], "missing": keys, "verdict": False}
    for value in _parsed(_candidates(text, braces_too=True)):
        if not isinstance(value, dict):
            continue
        present = [key for key in keys if key in value]
        missing = [key for key in keys if key not in value]
        verdict = bool(present) if operator == "any" else not missing if operator == "all" else not present
        if verdict or len(present) > len(best["present"]):
            best = {"present": present, "missing": missing, "verdict": verdict}
        if verdict:
            break
    return CheckOutcome(best["verdict"], {"presentKeys": best["present"], "missingKeys": best["missing"]})


# ----------------------------------------------------------------- request facts


def _prepare_models(params: Params) -> Params:
    _common(params)
    param(params, "models", "list[str]", required=True)
    return params


def model_whitelist(context: CheckContext, params: Params) -> CheckOutcome:
    """``default.modelWhitelist``: the requested model is one of ``models``."""
    allowed = context.model in params["models"]
    return CheckOutcome(_flip(params, allowed), {"requestedModel": context.model})


def _prepare_metadata(params: Params) -> Params:
    _common(params)
    keys = param(params, "metadataKeys", "list[str]", required=True)
    if not keys:
        raise ParameterError("parameter 'metadataKeys' must not be empty")
    operator = param(params, "operator", "str", required=True)
    if operator not in ("any", "all", "none"):
        raise ParameterError(f"parameter 'operator' must be one of any, all, none; got {operator!r}")
    return params


def required_metadata_keys(context: CheckContext, params: Params) -> CheckOutcome:
    """``default.requiredMetadataKeys``: the request's metadata has ``any`` / ``all`` / ``none`` of the keys.

    Before-request hooks only (as Portkey: elsewhere it errors, so it passes unless ``failOnError``).
    """
    if context.event != "beforeRequestHook":
        raise ValueError("This plugin only works for before_request_hooks")
    found = [key for key in params["metadataKeys"] if key in context.metadata]
    missing = [key for key in params["metadataKeys"] if key not in context.metadata]
    operator = params["operator"]
    verdict = bool(found) if operator == "any" else not missing if operator == "all" else not found
    return CheckOutcome(verdict, {"found_metadata_keys": found, "missing_metadata_keys": missing})


def _type_list(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise ParameterError(f"parameter '{name}' must be a list of strings or a comma-separated string")


def _prepare_request_types(params: Params) -> Params:
    _common(params)
    allowed = _type_list(params.get("allowedTypes"), "allowedTypes")
    blocked = _type_list(params.get("blockedTypes"), "blockedTypes")
    both = sorted(set(allowed) & set(blocked))
    if both:
        raise ParameterError(f"request types in both allowedTypes and blockedTypes: {', '.join(both)}")
    return {**params, "_allowed": allowed, "_blocked": blocked}


def allowed_request_types(context: CheckContext, params: Params) -> CheckOutcome:
    """``default.allowedRequestTypes``: the request type (``chatComplete`` here) is allowed / not blocked.

    Without parameters the lists come from metadata ``supported_endpoints`` / ``blocked_endpoints``.
    """
    allowed = params["_allowed"] or _type_list(
        context.metadata.get("supported_endpoints"), "supported_endpoints"
    )
    blocked = params["_blocked"] or _type_list(context.metadata.get("blocked_endpoints"), "blocked_endpoints")
    kind = context.request_type
    verdict = (not allowed or kind in allowed) and kind not in blocked
    return CheckOutcome(
        verdict, {"currentRequestType": kind, "allowedTypes": allowed, "blockedTypes": blocked}
    )


JSON_CHECKS = (
    CheckDef("default.jsonSchema", json_schema, _prepare_schema),
    CheckDef("default.jsonKeys", json_keys, _prepare_keys),
    CheckDef("default.modelWhitelist", model_whitelist, _prepare_models),
    CheckDef("default.modelwhitelist", model_whitelist, _prepare_models),
    CheckDef("default.requiredMetadataKeys", required_metadata_keys, _prepare_metadata),
    CheckDef("default.allowedRequestTypes", allowed_request_types, _prepare_request_types),
)
