"""``strands-portkey analytics usage|costs|performance|providers`` (``gw.ai.analytics``).

Tables for people, with a sparkline (unicode blocks) of the series in the terminal; ``--json``
gives the API's objects as they are. Dates: ``2026-12-01``, an ISO 8601 time, or nothing (all).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import typer

from ._common import AsJson, cell, console, emit, open_faces, table

__all__ = ["analytics_app", "sparkline"]

_BLOCKS = "▁▂▃▄▅▆▇█"
Start = Annotated[str | None, typer.Option("--start", help="From this date/time (UTC).")]
End = Annotated[str | None, typer.Option("--end", help="Up to this date/time (UTC).")]
Model = Annotated[str | None, typer.Option("--model", help="Only this registered model (id).")]
Provider = Annotated[str | None, typer.Option("--provider", help="Only this provider.")]


def sparkline(values: Sequence[float]) -> str:
    """``▁▃█▅``: each value as one of eight block heights between the series' min and max."""
    if not values:
        return ""
    low, high = min(values), max(values)
    if high == low:
        return (_BLOCKS[0] if high == 0 else _BLOCKS[-1]) * len(values)
    top = len(_BLOCKS) - 1
    return "".join(_BLOCKS[round((value - low) / (high - low) * top)] for value in values)


def _series(entries: Sequence[dict[str, Any]], key: str) -> str:
    values = [float(entry.get(key) or 0) for entry in entries]
    return sparkline(values) if values else "(no data)"


def _period(stats: Any) -> str:
    return f"{stats.start_date or 'the first request'} .. {stats.end_date or 'now'}"


def usage(
    *,
    start: Start = None,
    end: End = None,
    model: Model = None,
    provider: Provider = None,
    granularity: Annotated[str | None, typer.Option(help="hourly, daily, weekly or monthly.")] = None,
    as_json: AsJson = False,
) -> None:
    """Requests and tokens, with a sparkline per bucket."""
    with open_faces() as faces:
        stats = faces.ai.analytics.usage(
            start_date=start, end_date=end, model_id=model, provider=provider, granularity=granularity
        )

    def render(s: Any) -> None:
        out = table("measure", "total", f"per {s.granularity} bucket", title=f"usage, {_period(s)}")
        out.add_row("requests", str(s.total_requests), _series(s.breakdown, "requests"))
        out.add_row("tokens", str(s.total_tokens), _series(s.breakdown, "total_tokens"))
        out.add_row("prompt tokens", str(s.prompt_tokens), _series(s.breakdown, "prompt_tokens"))
        out.add_row("completion tokens", str(s.completion_tokens), _series(s.breakdown, "completion_tokens"))
        out.add_row(
            "errors", str(sum(int(b.get("errors") or 0) for b in s.breakdown)), _series(s.breakdown, "errors")
        )
        console().print(out)

    emit(stats, as_json, render)


def costs(
    *,
    start: Start = None,
    end: End = None,
    model: Model = None,
    provider: Provider = None,
    group_by: Annotated[str | None, typer.Option(help="model or provider (default both).")] = None,
    as_json: AsJson = False,
) -> None:
    """Cost in USD and credits, costliest first."""
    with open_faces() as faces:
        stats = faces.ai.analytics.costs(
            start_date=start, end_date=end, model_id=model, provider=provider, group_by=group_by
        )

    def render(s: Any) -> None:
        out = console()
        out.print(f"total {s.total_cost:.6f} {s.currency}, {s.total_credits:.6f} credits ({_period(s)})")
        if s.unpriced_requests:
            out.print(f"{s.unpriced_requests} request(s) had no rate (not priced)")
        for key, rows in (("model_id", s.by_model), ("provider", s.by_provider)):
            if rows:
                grouped = table(key, "cost (USD)", "credits", "requests", "tokens")
                for row in rows:
                    grouped.add_row(
                        cell(row.get(key)),
                        f"{row['cost']:.6f}",
                        f"{row['credits']:.6f}",
                        cell(row["requests"]),
                        cell(row["tokens"]),
                    )
                out.print(grouped)

    emit(stats, as_json, render)


def performance(
    start: Start = None,
    end: End = None,
    model: Model = None,
    provider: Provider = None,
    as_json: AsJson = False,
) -> None:
    """Latency percentiles, time to first token, error rate and throughput."""
    with open_faces() as faces:
        stats = faces.ai.analytics.performance(
            start_date=start, end_date=end, model_id=model, provider=provider
        )
        series = faces.ai.analytics.time_series(
            start_date=start, end_date=end, model_id=model, provider=provider, metric="latency"
        )

    def render(s: Any) -> None:
        out = table("measure", "value", title=f"performance, {_period(s)}")
        out.add_row("requests", str(s.total_requests))
        for name in ("avg", "p50", "p95", "p99"):
            out.add_row(f"{name} latency", f"{getattr(s, f'{name}_latency_ms'):.1f} ms")
        out.add_row("avg time to first token", "" if s.avg_ttft_ms is None else f"{s.avg_ttft_ms:.1f} ms")
        out.add_row("error rate", f"{100 * s.error_rate:.2f} %")
        out.add_row("throughput", f"{s.throughput:.3f} req/s")
        out.add_row(f"mean latency per {series.granularity} bucket", _series(series.data, "value"))
        console().print(out)

    emit(stats, as_json, render)


def providers(start: Start = None, end: End = None, as_json: AsJson = False) -> None:
    """Per provider: requests, errors, latency, tokens and cost."""
    with open_faces() as faces:
        stats = faces.ai.analytics.providers(start_date=start, end_date=end)

    def render(s: Any) -> None:
        out = table("provider", "requests", "errors", "error rate", "avg latency", "tokens", "cost (USD)")
        for p in s.providers:
            out.add_row(
                cell(p["provider"]),
                cell(p["requests"]),
                cell(p["errors"]),
                f"{100 * p['error_rate']:.1f} %",
                f"{p['avg_latency_ms']:.1f} ms",
                cell(p["total_tokens"]),
                f"{p['cost']:.6f}",
            )
        console().print(out)
        console(stderr=True).print(f"{s.total_requests} request(s), {_period(s)}")

    emit(stats, as_json, render)


def analytics_app() -> typer.Typer:
    """The ``analytics`` command group."""
    app = typer.Typer(help="Analytics: usage, costs, performance, providers.", no_args_is_help=True)
    app.command("usage")(usage)
    app.command("costs")(costs)
    app.command("performance")(performance)
    app.command("providers")(providers)
    return app
