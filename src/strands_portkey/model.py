"""``PortkeyModel``: a Strands ``Model`` whose every call goes through a :class:`Gateway`.

The model is thin on purpose: Strands messages become a canonical request (``_strands_codec``),
the gateway routes it (fallbacks, retries, caches... per its config), and canonical chunks
become Strands stream events again. Errors are mapped once, here, to what Strands acts on:
throttling -> ``ModelThrottledException`` (the agent retries), context overflow ->
``ContextWindowOverflowException`` (the conversation manager trims), the rest unchanged.

``self.config`` is a plain dict on purpose: Strands reads ``model.config.get("model_id")``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import warnings
from collections.abc import AsyncGenerator, Awaitable, Mapping
from typing import Any, TypeVar, cast

from pydantic import BaseModel, ValidationError
from strands.event_loop.streaming import process_stream
from strands.models import Model
from strands.models.model import BaseModelConfig
from strands.tools import convert_pydantic_to_tool_spec
from strands.types.content import Messages, SystemContentBlock
from strands.types.exceptions import StructuredOutputException
from strands.types.streaming import StreamEvent
from strands.types.tools import ToolChoice, ToolSpec
from typing_extensions import Unpack, override

from ._strands_codec import StreamConverter, response_to_events, to_chat_request, to_strands_exception
from .errors import ConfigurationError, GatewayError, GuardrailDeniedError, RequestCancelledError
from .gateway import ChatStream, Gateway
from .prompts.refs import parse_ref
from .types import ChatRequest, RouteInfo

__all__ = ["PortkeyModel"]

T = TypeVar("T", bound=BaseModel)
_T = TypeVar("_T")

_CANCEL_POLL_SECONDS = 0.02


class PortkeyModel(Model):
    """A Strands model provider routed through Portkey's config semantics, executed in-process.

    Args:
        client_args: Portkey ``AsyncPortkey`` arguments (``api_key``, ``virtual_key``,
            ``provider``, ``Authorization``, ``config``, ``trace_id``, ``metadata``...), as in
            Portkey's docs. Mutually exclusive with ``gateway``.
        gateway: A :class:`Gateway` to route through (shared by several models if you like; it
            is never closed by the model).
        **model_config: ``model_id`` (required), ``params`` (body fields such as
            ``temperature``), ``stream`` (default True), ``context_window_limit``, and
            ``config``: a Portkey config (dict or JSON string) for the gateway to route by. A
            ``config`` is handed to the gateway (``Gateway.reconfigure``), not kept in
            ``model.config``, since it may hold provider keys. ``prompt`` (``"support-bot@production"``,
            ``gw.prompts``) with ``prompt_variables``: the model, parameters and leading messages
            come from that prompt, resolved again on every request (a moved label takes effect
            within the control plane's refresh interval); ``model_id`` is then optional.
    """

    class PortkeyConfig(BaseModelConfig, total=False):
        """Model settings; a plain dict at run time (Strands calls ``config.get``)."""

        model_id: str
        params: dict[str, Any] | None
        stream: bool
        config: dict[str, Any] | str
        prompt: str
        prompt_variables: dict[str, Any]

    def __init__(
        self,
        client_args: Mapping[str, Any] | None = None,
        *,
        gateway: Gateway | None = None,
        **model_config: Unpack[PortkeyConfig],
    ) -> None:
        if client_args is not None and gateway is not None:
            raise ConfigurationError("pass either client_args or gateway, not both", path="PortkeyModel")
        settings: dict[str, Any] = dict(model_config)
        _check_config(settings, require_model_id="prompt" not in settings)
        routing = settings.pop("config", None)
        if gateway is None:
            args = dict(client_args or {})
            if routing is not None:
                if args.get("config") is not None:
                    raise ConfigurationError(
                        "give the routing config once: client_args['config'] or config=, not both",
                        path="config",
                    )
                args["config"] = routing
            gateway = Gateway(client_args=args)
        elif routing is not None:
            gateway.reconfigure(routing)
        self.config = cast(PortkeyModel.PortkeyConfig, settings)
        self._gateway = gateway
        self.last_route: RouteInfo | None = None

    def __repr__(self) -> str:
        return f"PortkeyModel(model_id={self.config.get('model_id')!r}, gateway={self._gateway!r})"

    @property
    def gateway(self) -> Gateway:
        """The gateway this model routes through."""
        return self._gateway

    @override
    def update_config(self, **model_config: Unpack[PortkeyConfig]) -> None:  # type: ignore[override]
        """Change settings for the next request (``model_id``, ``params``, ``stream``, ``config``).

        A new routing ``config`` is validated before anything changes: if it is invalid, the
        error names the field and the current settings stay. Connection pools are kept.
        Unknown keys warn.
        """
        settings: dict[str, Any] = dict(model_config)
        _check_config(settings, require_model_id=False)
        routing = settings.pop("config", None)
        if routing is not None:
            self._gateway.reconfigure(routing)
        self.config.update(cast(PortkeyModel.PortkeyConfig, settings))

    @override
    def get_config(self) -> PortkeyConfig:
        """The current settings (the same dict Strands reads)."""
        return self.config

    @override
    async def stream(
        self,
        messages: Messages,
        tool_specs: list[ToolSpec] | None = None,
        system_prompt: str | None = None,
        *,
        tool_choice: ToolChoice | None = None,
        system_prompt_content: list[SystemContentBlock] | None = None,
        invocation_state: dict[str, Any] | None = None,
        cancel_signal: threading.Event | None = None,
        **kwargs: Any,
    ) -> AsyncGenerator[StreamEvent, None]:
        """Stream one model turn as Strands events; see the module docstring for errors."""
        if cancel_signal is not None and cancel_signal.is_set():
            return  # cancelled before anything was sent: nothing to send, nothing to close
        request = to_chat_request(
            messages,
            model_id=self.config.get("model_id") or self.config.get("prompt", ""),
            tool_specs=tool_specs,
            system_prompt=system_prompt,
            system_prompt_content=system_prompt_content,
            tool_choice=tool_choice,
            params=self.config.get("params"),
            stream=self.config.get("stream", True),
        )
        metadata = None
        if self.config.get("prompt"):
            request, metadata = self._prompted(request)
        converter = StreamConverter()
        started = time.perf_counter()
        try:
            if self.config.get("stream", True):
                async for event in self._stream_events(request, cancel_signal, converter, metadata):
                    yield event
            else:
                for event in await self._chat_events(request, cancel_signal, metadata):
                    yield event
            for event in _input_redaction(request, self.last_route):
                yield event
        except GuardrailDeniedError as denied:
            self.last_route = denied.route or self.last_route
            latency_ms = int((time.perf_counter() - started) * 1000)
            for event in converter.intervene(
                _notice(denied), redact_user=_user_redaction(denied), latency_ms=latency_ms
            ):
                yield event
        except RequestCancelledError:
            return  # ends without messageStop: Strands reports stop_reason "cancelled"
        except GatewayError as error:
            mapped = to_strands_exception(error)
            if mapped is error:
                raise
            raise mapped from error

    def _prompted(self, request: ChatRequest) -> tuple[ChatRequest, dict[str, str]]:
        """The request with the prompt's model, parameters and messages first (the agent's follow).

        The model's own ``params``, tools and ``model_id`` win over the prompt's when given.
        """
        variables = dict(self.config.get("prompt_variables") or {})
        rendered = self._gateway.prompts.render(self.config["prompt"], variables)
        body = request.to_body()
        own = {key: value for key, value in body.items() if key not in ("model", "messages")}
        model = self.config.get("model_id") or rendered.model
        if not model:
            raise ConfigurationError(
                f"prompt {rendered.name!r} names no model: give model_id", path="model_id"
            )
        merged = {
            **rendered.params,
            **own,
            "model": model,
            "messages": [*rendered.messages, *body["messages"]],
            "variables": variables,  # for a config's prompt_id targets; never sent upstream
        }
        tags = {"prompt_id": rendered.prompt_id, "prompt_version": str(rendered.version)}
        return ChatRequest.from_body(merged), tags

    async def _stream_events(
        self,
        request: ChatRequest,
        cancel_signal: threading.Event | None,
        converter: StreamConverter,
        metadata: Mapping[str, str] | None,
    ) -> AsyncGenerator[StreamEvent, None]:
        started = time.perf_counter()
        stream = self._gateway.stream(request, metadata=metadata, genai_usage=False)
        self.last_route = stream.route
        await _until_cancelled(stream.open(), cancel_signal, stream)
        async with _closing_on_cancel(stream, cancel_signal):
            async for chunk in stream:
                if cancel_signal is not None and cancel_signal.is_set():
                    raise RequestCancelledError("cancelled by the caller")
                for event in converter.feed(chunk):
                    yield event
        for event in converter.finish(int((time.perf_counter() - started) * 1000)):
            yield event

    async def _chat_events(
        self, request: ChatRequest, cancel_signal: threading.Event | None, metadata: Mapping[str, str] | None
    ) -> list[StreamEvent]:
        started = time.perf_counter()
        response = await _until_cancelled(
            self._gateway.chat(request, metadata=metadata, genai_usage=False), cancel_signal, None
        )
        self.last_route = response.route
        return response_to_events(response, int((time.perf_counter() - started) * 1000))

    @override
    async def structured_output(
        self, output_model: type[T], prompt: Messages, system_prompt: str | None = None, **kwargs: Any
    ) -> AsyncGenerator[dict[str, T | Any], None]:
        """Force the output model's tool, validate its input, and yield ``{"output": instance}`` last.

        Raises:
            StructuredOutputException: the model did not call the tool, or its arguments do not
                validate against ``output_model``.
        """
        tool_spec = convert_pydantic_to_tool_spec(output_model)
        name = tool_spec["name"]
        forced = cast(ToolChoice, {"tool": {"name": name}})
        events = self.stream(prompt, [tool_spec], system_prompt, tool_choice=forced, **kwargs)
        stop: Any = None
        async for event in process_stream(events):
            if "stop" in event:
                stop = event["stop"]
            yield cast(dict[str, Any], event)
        yield {"output": _validated_output(output_model, name, stop)}


def _validated_output(output_model: type[T], name: str, stop: Any) -> T:
    message = stop[1] if stop else {"content": []}
    inputs = [
        block["toolUse"]["input"]
        for block in message["content"]
        if block.get("toolUse", {}).get("name") == name
    ]
    if not inputs:
        raise StructuredOutputException(
            f"the model did not call the {name!r} structured-output tool "
            f"(stop reason: {stop[0] if stop else None})"
        )
    try:
        return output_model.model_validate(inputs[-1])
    except ValidationError as error:
        raise StructuredOutputException(
            f"the model's {name!r} output does not match the schema: {error}"
        ) from error


async def _until_cancelled(
    awaitable: Awaitable[_T], cancel_signal: threading.Event | None, stream: ChatStream | None
) -> _T:
    """Await ``awaitable``, abandoning it (and closing ``stream``) if ``cancel_signal`` is set."""
    if cancel_signal is None:
        return await awaitable
    task = asyncio.ensure_future(awaitable)
    while True:
        done, _ = await asyncio.wait({task}, timeout=_CANCEL_POLL_SECONDS)
        if done:
            return task.result()
        if cancel_signal.is_set():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, GatewayError):
                await task
            if stream is not None:
                await stream.aclose()
            raise RequestCancelledError("cancelled by the caller")


@contextlib.asynccontextmanager
async def _closing_on_cancel(
    stream: ChatStream, cancel_signal: threading.Event | None
) -> AsyncGenerator[None, None]:
    """Close ``stream`` as soon as ``cancel_signal`` is set, even while a read is pending.

    A closed connection makes the pending read fail; that failure is reported as a cancellation.
    """
    if cancel_signal is None:
        yield
        return

    async def watch() -> None:
        # A threading.Event (set from any thread) cannot be awaited; poll it.
        while not cancel_signal.is_set():  # noqa: ASYNC110
            await asyncio.sleep(_CANCEL_POLL_SECONDS)
        await stream.aclose()

    watcher = asyncio.ensure_future(watch())
    try:
        yield
    except GatewayError:
        if cancel_signal.is_set():
            raise RequestCancelledError("cancelled by the caller") from None
        raise
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        await stream.aclose()


def _check_config(config: dict[str, Any], *, require_model_id: bool) -> None:
    """Validate model settings: a clear error for bad values, a warning for unknown keys."""
    valid = set(PortkeyModel.PortkeyConfig.__annotations__) | set(BaseModelConfig.__annotations__)
    unknown = sorted(set(config) - valid)
    if unknown:
        warnings.warn(
            f"Invalid configuration parameters: {unknown}. Valid parameters are: {sorted(valid)}.",
            UserWarning,
            stacklevel=3,
        )
    if require_model_id or "model_id" in config:
        model_id = config.get("model_id")
        if not isinstance(model_id, str) or not model_id.strip():
            raise ConfigurationError(
                "model_id is required and must be a non-empty string, "
                "e.g. PortkeyModel(model_id='gpt-4o', ...)",
                path="model_id",
            )
    params = config.get("params")
    if params is not None and not isinstance(params, Mapping):
        raise ConfigurationError(
            f"expected a dict of body fields, got {type(params).__name__}", path="params"
        )
    if "prompt" in config:
        parse_ref(config["prompt"], "prompt", ConfigurationError)
    if "prompt_variables" in config and not isinstance(config["prompt_variables"], Mapping):
        raise ConfigurationError("expected a dict of template variables", path="prompt_variables")
    if "stream" in config and not isinstance(config["stream"], bool):
        raise ConfigurationError("expected True or False", path="stream")
    routing = config.get("config")
    if "config" in config and not isinstance(routing, Mapping | str):
        raise ConfigurationError(
            f"expected a Portkey config as a dict or JSON string, got {type(routing).__name__}", path="config"
        )


# --------------------------------------------------------------------------- guardrails -> Strands

GUARDRAIL_INPUT_REDACTED = "[User input redacted.]"
"""Replaces a blocked prompt in the agent's history (as Strands' Bedrock guardrails do by default)."""


def _notice(denied: GuardrailDeniedError) -> str:
    hooks = [*denied.hook_results.before_request_hooks, *denied.hook_results.after_request_hooks]
    failed = [
        f"{hook.id} ({', '.join(c.id for c in hook.checks if not c.passed)})" for hook in hooks if hook.deny
    ]
    what = "request" if denied.stage == "input" else "answer"
    return f"[The {what} was blocked by guardrail {'; '.join(failed)}.]"


def _user_redaction(denied: GuardrailDeniedError) -> str | None:
    return GUARDRAIL_INPUT_REDACTED if denied.stage == "input" else None


def _input_redaction(request: ChatRequest, route: RouteInfo | None) -> list[StreamEvent]:
    """A mutator rewrote the user's prompt (PII redaction): keep the redacted text in the history too."""
    results = route.hook_results if route is not None else None
    if results is None or results.rewritten_input is None or request.messages[-1].get("role") != "user":
        return []
    text = "\n".join(part for part in results.rewritten_input if part)
    return [cast(StreamEvent, {"redactContent": {"redactUserContentMessage": text}})]
