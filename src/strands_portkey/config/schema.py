"""Typed models of a Portkey config, and its validation with errors that name the JSON path.

A config is one JSON object (a ``dict`` or a JSON string) whose nodes nest to any depth: a node
with ``strategy`` and ``targets`` routes, a node without is a leaf naming one provider. The
models mirror what Portkey's gateway accepts (see the README's config reference), with snake_case
keys. Validation happens once, at construction, and fails with :class:`ConfigurationError`
naming the offending field (``config.targets[0].weight: expected a number, got string``).

Two things differ from Portkey's gateway on purpose: everything its gateway only finds out at
request time (a conditional ``then`` naming no target, all-zero loadbalance weights, unknown query
operators, invalid regular expressions) is rejected here; and unknown keys are reported in one
warning listing each with its path, instead of being ignored silently.

Limits (:mod:`strands_portkey.nesting`), host URLs (:mod:`.host_url`) and ``override_params``
(checked like request fields, :mod:`strands_portkey.request_checks`) are checked here too, so that
nothing in a config can fail later, per request.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from ..errors import ConfigurationError
from ..nesting import MAX_JSON_DEPTH, MAX_TARGET_DEPTH, check_json_value
from ..request_checks import check_request_fields, json_type
from .host_url import check_host_url
from .query import validate_query

__all__ = [
    "CacheConfig",
    "ConditionConfig",
    "RetryConfig",
    "StrategyConfig",
    "TargetConfig",
    "parse_config",
    "validate_config",
]

MAX_DEPTH = MAX_TARGET_DEPTH
"""Deepest nesting of ``targets`` accepted (see :mod:`strands_portkey.nesting`)."""

# Keys Portkey's hosted gateway documents but nothing executes locally: say so specifically.
_HOSTED_ONLY = {
    "cb_config": "circuit breaking is a hosted Portkey feature",
    "sticky_session": "sticky sessions are a hosted Portkey feature",
    "default_params": "use override_params",
    "drop_params": "drop parameters with override_params or in the request",
}

StatusCode = Annotated[int, Field(ge=100, le=599)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class _Node(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, frozen=True)


class RetryConfig(_Node):
    """``retry``: ``attempts`` re-tries (total calls = attempts + 1) on ``on_status_codes``."""

    attempts: Annotated[int, Field(ge=0, le=100)]
    on_status_codes: list[StatusCode] | None = None
    use_retry_after_header: bool | None = None
    use_retry_after_headers: bool | None = None


class CacheConfig(_Node):
    """``cache``: ``simple`` (exact) or ``semantic``; ``max_age`` in seconds."""

    mode: Literal["simple", "semantic"]
    max_age: Positive | None = None


class ConditionConfig(_Node):
    """One rule of a conditional strategy: when ``query`` matches, use the target named ``then``."""

    query: dict[str, Any]
    then: str


class StrategyConfig(_Node):
    """``strategy``: how a node chooses among its ``targets``."""

    mode: Literal["single", "fallback", "loadbalance", "conditional"]
    on_status_codes: list[StatusCode] | None = None
    conditions: list[ConditionConfig] | None = None
    default: str | None = None


class TargetConfig(_Node):
    """A config node: the root, a strategy node, or a leaf naming one provider."""

    strategy: StrategyConfig | None = None
    targets: list[TargetConfig] | None = None
    name: str | None = None
    weight: NonNegative | None = None
    provider: str | None = None
    api_key: str | None = None
    virtual_key: str | None = None
    custom_host: str | None = None
    forward_headers: list[str] | None = None
    trace_propagation: bool | None = None  # ours: send the W3C traceparent to this target (default yes)
    override_params: dict[str, Any] | None = None
    prompt_id: str | None = None  # a stored prompt (gw.prompts) this leaf renders the request from
    request_timeout: Positive | None = None
    strict_open_ai_compliance: bool | None = None
    retry: RetryConfig | None = None
    cache: CacheConfig | None = None
    on_status_codes: list[StatusCode] | None = None
    before_request_hooks: list[dict[str, Any]] | None = None
    after_request_hooks: list[dict[str, Any]] | None = None
    input_guardrails: list[Any] | None = None
    output_guardrails: list[Any] | None = None
    input_mutators: list[Any] | None = None
    output_mutators: list[Any] | None = None
    # Provider-specific fields, passed to the adapter as ``Target.options``.
    openai_organization: str | None = None
    openai_project: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None
    aws_session_token: str | None = None
    aws_region: str | None = None
    aws_bedrock_model: str | None = None
    azure_resource_name: str | None = None
    azure_deployment_id: str | None = None
    azure_api_version: str | None = None
    azure_endpoint_name: str | None = None
    azure_model_name: str | None = None
    azure_auth_mode: str | None = None
    azure_ad_token: str | None = None
    vertex_project_id: str | None = None
    vertex_region: str | None = None
    vertex_service_account_json: dict[str, Any] | None = None
    anthropic_version: str | None = None
    anthropic_beta: str | None = None

    def __repr__(self) -> str:
        keys = sorted(k for k, v in self if v is not None)
        return f"TargetConfig(keys={keys})"

    __str__ = __repr__


def parse_config(config: Mapping[str, Any] | str, *, path: str = "config") -> Mapping[str, Any]:
    """A config given as a dict or a JSON string, as a dict (nothing else validated yet)."""
    if isinstance(config, str):
        try:
            config = json.loads(config)
        except json.JSONDecodeError as error:
            raise ConfigurationError(
                f"not valid JSON ({error.msg} at line {error.lineno} column {error.colno})", path=path
            ) from None
        except RecursionError:
            raise ConfigurationError(
                f"nested deeper than {MAX_JSON_DEPTH} levels of objects and arrays", path=path
            ) from None
    if not isinstance(config, Mapping):
        raise ConfigurationError(f"expected an object, got {json_type(config)}", path=path)
    return config


def validate_config(config: Mapping[str, Any] | str, *, path: str = "config") -> TargetConfig:
    """Validate a whole config: types, structure and references, all with JSON paths.

    Unknown keys produce one ``UserWarning`` listing every one with its path.
    """
    raw = parse_config(config, path=path)
    _check_depth(raw, path, 0)
    try:
        node = TargetConfig.model_validate(dict(raw))
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        raise ConfigurationError(_describe(first), path=_join(path, first["loc"])) from None
    _check_node(node, path)
    unknown = list(_unknown_keys(node, path))
    if unknown:
        warnings.warn("; ".join(unknown), UserWarning, stacklevel=3)
    return node


def _check_depth(raw: Any, path: str, depth: int) -> None:
    """Bound the nesting before anything recursive (pydantic, queries, hooks) walks the config.

    ``targets`` may nest ``MAX_TARGET_DEPTH`` levels; every other field of a node (a query, hook
    parameters, ``override_params``) must be JSON nested at most ``MAX_JSON_DEPTH`` levels (a
    value JSON cannot encode would otherwise fail every request that carries it).
    """
    if depth > MAX_TARGET_DEPTH:
        raise ConfigurationError(f"targets nested deeper than {MAX_TARGET_DEPTH} levels", path=path)
    if not isinstance(raw, Mapping):
        check_json_value(raw, path)
        return
    for key, value in raw.items():
        if key == "targets" and isinstance(value, list):
            for index, child in enumerate(value):
                _check_depth(child, f"{path}.targets[{index}]", depth + 1)
        else:
            check_json_value(value, f"{path}.{key}")


def _check_node(node: TargetConfig, path: str) -> None:
    check_host_url(node.custom_host, f"{path}.custom_host")
    if node.override_params:  # merged into every request: a bad one would fail each request
        check_request_fields(node.override_params, f"{path}.override_params", error=ConfigurationError)
    if node.strategy is None and node.targets is None:
        _check_leaf(node, path)
        return
    if node.targets is None or not node.targets:
        raise ConfigurationError(
            "expected a non-empty list of targets next to 'strategy'", path=f"{path}.targets"
        )
    if node.strategy is None:
        raise ConfigurationError(
            "'targets' need a strategy, e.g. {'mode': 'fallback'}", path=f"{path}.strategy"
        )
    _check_strategy(node.strategy, node.targets, path)
    for index, child in enumerate(node.targets):
        _check_node(child, f"{path}.targets[{index}]")


def _check_leaf(node: TargetConfig, path: str) -> None:
    names_model = isinstance((node.override_params or {}).get("model"), str)
    if node.provider is None and node.virtual_key is None and not names_model:
        raise ConfigurationError(
            "a target needs a 'provider' (e.g. 'openai'), a 'virtual_key', an 'override_params.model' "
            "naming a registered model, or 'strategy' with 'targets' (a 'prompt_id' target too: "
            "stored prompts hold no credentials)",
            path=path,
        )
    for key in ("provider", "virtual_key", "api_key", "prompt_id"):
        if getattr(node, key) == "":
            raise ConfigurationError("must not be empty", path=f"{path}.{key}")


def _check_strategy(strategy: StrategyConfig, targets: list[TargetConfig], path: str) -> None:
    where = f"{path}.strategy"
    if strategy.mode == "loadbalance":
        weights = [1.0 if child.weight is None else child.weight for child in targets]
        if not any(weights):
            raise ConfigurationError(
                "every target has weight 0, so none could ever be chosen; give at least one a "
                "positive weight (the default is 1)",
                path=f"{path}.targets",
            )
    if strategy.mode != "conditional":
        if strategy.conditions is not None or strategy.default is not None:
            raise ConfigurationError(
                f"'conditions' and 'default' apply to mode 'conditional', not {strategy.mode!r}",
                path=where,
            )
        return
    names = {child.name for child in targets if child.name is not None}
    if not strategy.conditions:
        raise ConfigurationError(
            "mode 'conditional' needs a non-empty list of conditions, e.g. "
            "[{'query': {'metadata.tier': 'gold'}, 'then': 'premium'}]",
            path=f"{where}.conditions",
        )
    for index, condition in enumerate(strategy.conditions):
        here = f"{where}.conditions[{index}]"
        validate_query(condition.query, f"{here}.query")
        if condition.then not in names:
            raise ConfigurationError(_no_target(condition.then, names), path=f"{here}.then")
    if strategy.default is not None and strategy.default not in names:
        raise ConfigurationError(_no_target(strategy.default, names), path=f"{where}.default")


def _no_target(name: str, names: set[str]) -> str:
    known = ", ".join(sorted(repr(n) for n in names)) or "none (give targets a 'name')"
    return f"no target is named {name!r}; target names: {known}"


def _unknown_keys(node: BaseModel, path: str) -> Iterator[str]:
    for key in sorted(node.model_extra or {}):
        hint = _HOSTED_ONLY.get(key)
        why = f"ignored: {hint}" if hint else "unknown key, ignored"
        yield f"{path}.{key}: {why}"
    for field_name in type(node).model_fields:
        value = getattr(node, field_name)
        if isinstance(value, BaseModel):
            yield from _unknown_keys(value, f"{path}.{field_name}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    yield from _unknown_keys(item, f"{path}.{field_name}[{index}]")


def _join(path: str, loc: tuple[int | str, ...]) -> str:
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


_EXPECTED = {
    "float_type": "a number",
    "int_type": "an integer",
    "string_type": "a string",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
}


def _describe(error: ErrorDetails) -> str:
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx", {})
    if kind == "missing":
        return "required, but missing"
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {json_type(value)}"
    if kind == "literal_error":
        return f"expected one of {ctx.get('expected')}, got {value!r}"
    if kind == "finite_number":
        return f"expected a finite number, got {value!r}"
    bounds = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}
    if kind in bounds:
        limit = next(iter(ctx.values()), "?")
        return f"expected a number {bounds[kind]} {limit}, got {value!r}"
    return str(error.get("msg", "invalid value"))
