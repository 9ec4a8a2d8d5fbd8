"""Run one config through Portkey's real gateway and through our ``Gateway``; record the decisions.

Both sides talk to the same :class:`ScriptedUpstream` script (each under its own scenario name, the
upstream reset in between), so the *sequence of upstream calls* each made can be compared call for
call, bodies included. A decision is an :class:`Outcome`: the final status, the target that served
(Portkey's ``x-portkey-last-used-option-index`` header / our ``route.last_used_option_index``), the
retry count (``x-portkey-retry-attempt-count`` / ``route.retry_attempt_count``), the targets called
in order, and for streams whether the stream completed.

Our backoff never waits: the ``Gateway`` gets a ``sleep`` that only records (``Outcome.sleeps``).
Portkey's backoff is real (1 s, 2 s, 4 s), which is why the table keeps retry attempts low.
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from scripted_upstream import Call, Reply, ScriptedUpstream
from strands_portkey import Gateway
from strands_portkey.errors import GatewayError

UPSTREAM = "@upstream:"  # custom_host placeholder: "@upstream:a" is scripted target "a"
REFUSED = "@refused"  # custom_host placeholder: a port that refuses connections
ANY_TRACE = "<generated>"  # Expect.trace_id: any non-empty id
ABSENT = object()  # Case.bodies: the field must not be in the body
PROMPT = [{"role": "user", "content": "hi"}]
RNG_SEED = 7
# Timing rows distinguish "answered in time" from "late", with room on both sides for a loaded
# 2-core machine (node, two gateways, the upstream and other jobs share it): the on-time path is a
# loopback call of a few ms that must fit in TIMEOUT_MS, the late one comes 4 times TIMEOUT_MS late.
# A timeout of 300 ms once fired before a slow machine's request reached the upstream.
TIMEOUT_MS = 1500
LATE_S = 4 * TIMEOUT_MS / 1000


def leaf(target: str, **fields: Any) -> dict[str, Any]:
    """An OpenAI-compatible leaf aimed at scripted target ``target``, with its own key ``sk-<target>``."""
    return {"provider": "openai", "api_key": f"sk-{target}", "custom_host": f"{UPSTREAM}{target}", **fields}


def refused_leaf(**fields: Any) -> dict[str, Any]:
    """A leaf whose host refuses connections."""
    return {"provider": "openai", "api_key": "sk-refused", "custom_host": REFUSED, **fields}


def node(mode: str, *targets: Mapping[str, Any], **fields: Any) -> dict[str, Any]:
    """A strategy node: ``node("fallback", leaf("a"), leaf("b"), retry={...})``."""
    strategy = {"mode": mode, **fields.pop("strategy", {})}
    return {"strategy": strategy, "targets": list(targets), **fields}


@dataclasses.dataclass(frozen=True)
class Expect:
    """An expected decision. ``error`` and ``sleeps`` are checked on our side only."""

    status: int | None
    index: str | None = "config"
    retries: int | None = 0
    calls: tuple[str, ...] = ()
    stream_complete: bool | None = None
    trace_id: str | None = None  # None: the trace id sent with the request must come back
    error: str | None = None  # our GatewayError subclass, when ours raises
    sleeps: tuple[float, ...] | None = None  # our recorded backoff waits, when the case pins them
    cache_status: str | None = None  # of the last request, when the case pins it

    @property
    def served(self) -> bool:
        """False for a gateway-level error: no index and no upstream call (see Outcome.decision)."""
        return self.index is not None or bool(self.calls)


@dataclasses.dataclass(frozen=True)
class Case:
    """One row of the table: a config, the upstream script, Portkey's observed decision.

    ``expect`` is what Portkey OSS 1.15.2 does (checked against the real gateway every run, so the
    table is also a spec); None marks a case the npm build cannot run (it crashes), and only our
    side runs. ``ours`` is set only where this project deliberately differs; ``why`` then says why
    (ROUTING_API.md, semantics section 13).
    """

    id: str
    config: Mapping[str, Any]
    scripts: Mapping[str, Sequence[Reply | int]]
    expect: Expect | None
    ours: Expect | None = None
    why: str = ""
    ours_error: str | None = None
    request: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    metadata: Mapping[str, str] | None = None
    stream: bool = False
    send_trace: bool = True
    bodies: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
    repeat: int = 1  # times to send the request (one gateway; rows that succeed): the last one decides

    def __post_init__(self) -> None:
        if self.ours is not None and not self.why:
            raise ValueError(f"case {self.id}: a deliberate difference needs a `why`")
        if self.expect is None and self.ours is None:
            raise ValueError(f"case {self.id}: a case Portkey cannot run needs `ours`")

    @property
    def trace(self) -> str | None:
        return f"trace-{self.id}" if self.send_trace else None

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"model": "gpt-test", "messages": PROMPT, **self.request}
        if self.stream:
            # Ours asks the upstream for usage on every stream; ask Portkey's client side for the same
            # so the bodies the upstream sees are comparable byte for byte.
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        return body

    def expected_for_ours(self) -> Expect:
        """``ours`` for a deliberate difference, else Portkey's decision (raised as ``ours_error``)."""
        if self.ours is not None:
            return self.ours
        assert self.expect is not None  # __post_init__
        return dataclasses.replace(self.expect, error=self.ours_error)


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What one gateway decided for one request."""

    status: int | None
    index: str | None
    retries: int | None
    calls: tuple[str, ...]
    stream_complete: bool | None = None
    trace_id: str | None = None
    error: str | None = None
    sleeps: tuple[float, ...] = ()
    cache_status: str | None = None
    upstream: tuple[Call, ...] = dataclasses.field(default=(), repr=False, compare=False)

    def decision(self, *, served: bool = True) -> dict[str, Any]:
        """The fields both gateways must agree on.

        When no target was served (a gateway-level error such as an unresolved conditional),
        Portkey sends no ``x-portkey-*`` headers, so only the status and the (empty) call list compare.
        """
        fields = ("status", "index", "retries", "calls", "stream_complete") if served else ("status", "calls")
        return {field: getattr(self, field) for field in fields}


# --------------------------------------------------------------------------- config placeholders


def materialize(config: Any, upstream: ScriptedUpstream, scenario: str) -> Any:
    """Replace the ``custom_host`` placeholders with the scripted upstream's URLs."""
    if isinstance(config, Mapping):
        out = {key: materialize(value, upstream, scenario) for key, value in config.items()}
        host = out.get("custom_host")
        if isinstance(host, str) and host.startswith(UPSTREAM):
            out["custom_host"] = upstream.base_url(scenario, host[len(UPSTREAM) :])
        elif host == REFUSED:
            out["custom_host"] = upstream.refused_base_url()
        return out
    if isinstance(config, list):
        return [materialize(item, upstream, scenario) for item in config]
    return config


def _prepare(case: Case, upstream: ScriptedUpstream, side: str) -> tuple[str, Any]:
    scenario = f"{side}.{case.id}"
    upstream.reset()
    upstream.script_all(scenario, case.scripts)
    return scenario, materialize(case.config, upstream, scenario)


def _targets(calls: Sequence[Call]) -> tuple[str, ...]:
    return tuple(call.target for call in calls)


# --------------------------------------------------------------------------- Portkey's gateway


def run_portkey(case: Case, client: httpx.Client, base_url: str, upstream: ScriptedUpstream) -> Outcome:
    """POST the case to Portkey's gateway (``x-portkey-config``, ``-metadata``, ``-trace-id``)."""
    scenario, config = _prepare(case, upstream, "portkey")
    headers = {"x-portkey-config": json.dumps(config)}
    if case.trace is not None:
        headers["x-portkey-trace-id"] = case.trace
    if case.metadata is not None:
        headers["x-portkey-metadata"] = json.dumps(case.metadata)
    for _ in range(case.repeat):
        with client.stream(
            "POST", f"{base_url}/chat/completions", json=case.body(), headers=headers
        ) as response:
            text = response.read().decode("utf-8", "replace")
    complete: bool | None = None
    if case.stream and response.status_code == 200:
        complete = "data: [DONE]" in text
    retries = response.headers.get("x-portkey-retry-attempt-count")
    calls = upstream.calls(scenario)
    return Outcome(
        status=response.status_code,
        index=response.headers.get("x-portkey-last-used-option-index"),
        retries=int(retries) if retries is not None else None,
        calls=_targets(calls),
        stream_complete=complete,
        trace_id=response.headers.get("x-portkey-trace-id"),
        cache_status=response.headers.get("x-portkey-cache-status"),
        upstream=tuple(calls),
    )


# --------------------------------------------------------------------------- our Gateway


async def run_ours(case: Case, upstream: ScriptedUpstream, **gateway_kwargs: Any) -> Outcome:
    """Send the case through our in-process ``Gateway`` (recording sleep, seeded rng)."""
    scenario, config = _prepare(case, upstream, "ours")
    sleeps: list[float] = []

    async def record_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    kwargs: dict[str, Any] = {"sleep": record_sleep, "rng": random.Random(RNG_SEED), **gateway_kwargs}
    try:
        gateway = Gateway(config=config, **kwargs)
    except GatewayError as error:  # a config we reject at construction (deliberate differences)
        return Outcome(None, None, None, (), error=type(error).__name__)
    status: int | None = None
    complete: bool | None = None
    error_name: str | None = None
    route: Any = None
    chunks = 0
    try:
        for _ in range(case.repeat):
            chunks, complete = 0, None
            if case.stream:
                async with gateway.stream(case.body(), trace_id=case.trace, metadata=case.metadata) as stream:
                    try:
                        async for _chunk in stream:
                            chunks += 1
                        complete = True
                    finally:
                        route = stream.route
            else:
                response = await gateway.chat(case.body(), trace_id=case.trace, metadata=case.metadata)
                route = response.route
            status = route.status_code if route is not None else None
    except GatewayError as error:
        route = getattr(error, "route", None) or route
        status, error_name = error.status_code, type(error).__name__
        if chunks:
            complete = False  # the stream had started: it broke mid-answer
    finally:
        await gateway.aclose()
    calls = upstream.calls(scenario)
    return Outcome(
        status=status,
        index=route.last_used_option_index if route is not None else None,
        retries=route.retry_attempt_count if route is not None else None,
        calls=_targets(calls),
        stream_complete=complete,
        trace_id=route.trace_id if route is not None else None,
        error=error_name,
        sleeps=tuple(sleeps),
        cache_status=route.cache_status if route is not None else None,
        upstream=tuple(calls),
    )


# --------------------------------------------------------------------------- checks


def mismatches(outcome: Outcome, expect: Expect, case: Case, *, ours: bool) -> list[str]:
    """Every way ``outcome`` departs from ``expect`` (an empty list when it matches)."""
    problems = []
    wanted = dataclasses.asdict(expect)
    for field, got in outcome.decision(served=expect.served).items():
        if got != wanted[field]:
            problems.append(f"{field}: expected {wanted[field]!r}, got {got!r}")
    problems += _trace_problems(outcome, expect, case)
    if expect.cache_status is not None and outcome.cache_status != expect.cache_status:
        problems.append(f"cache_status: expected {expect.cache_status!r}, got {outcome.cache_status!r}")
    if ours:
        # An error status is raised as a GatewayError by ours: its class is pinned only where the row says.
        if expect.error is not None and outcome.error != expect.error:
            problems.append(f"error: expected {expect.error!r}, got {outcome.error!r}")
        if expect.sleeps is not None and not _close(outcome.sleeps, expect.sleeps):
            problems.append(f"sleeps: expected {expect.sleeps!r}, got {outcome.sleeps!r}")
    problems += upstream_problems(outcome.upstream, case)
    return problems


def _trace_problems(outcome: Outcome, expect: Expect, case: Case) -> list[str]:
    if not expect.served:
        return []  # a gateway-level error carries no trace header on Portkey's side
    if expect.trace_id == ANY_TRACE:
        return [] if outcome.trace_id else [f"trace_id: expected a generated id, got {outcome.trace_id!r}"]
    wanted = expect.trace_id if expect.trace_id is not None else case.trace
    return [] if outcome.trace_id == wanted else [f"trace_id: expected {wanted!r}, got {outcome.trace_id!r}"]


def _close(got: Sequence[float], wanted: Sequence[float]) -> bool:
    return len(got) == len(wanted) and all(abs(g - w) <= 1e-3 for g, w in zip(got, wanted, strict=True))


def upstream_problems(calls: Sequence[Call], case: Case) -> list[str]:
    """Checks on what the upstream saw: each target's own key, no ``x-portkey-*`` leak, body fields."""
    problems = []
    for n, call in enumerate(calls):
        if call.authorization != f"Bearer sk-{call.target}":
            problems.append(f"call {n} to {call.target}: Authorization was {call.authorization!r}")
        leaked = sorted(name for name in call.headers if name.startswith("x-portkey-"))
        if leaked:
            problems.append(f"call {n} to {call.target}: x-portkey headers reached the upstream: {leaked}")
        for field, value in case.bodies.get(call.target, {}).items():
            body = call.body if isinstance(call.body, dict) else {}
            if value is ABSENT:
                if field in body:
                    problems.append(f"call {n} to {call.target}: body has {field}={body[field]!r}")
            elif body.get(field, ABSENT) != value:
                problems.append(
                    f"call {n} to {call.target}: body {field}={body.get(field)!r}, want {value!r}"
                )
    return problems


def body_differences(portkey: Outcome, ours: Outcome) -> list[str]:
    """Call-for-call differences between the bodies each gateway sent upstream."""
    problems = []
    for n, (theirs, mine) in enumerate(zip(portkey.upstream, ours.upstream, strict=False)):
        if theirs.body != mine.body:
            problems.append(f"call {n} to {theirs.target}: Portkey sent {theirs.body!r}, ours {mine.body!r}")
    return problems
