"""One chat call end to end through each client and gateway, against nginx on 127.0.0.1, in one run.

nginx (started here, in the foreground with a temporary prefix; see ``_nginx.py``) serves a
fixed chat completion and fixed 8- and 64-chunk SSE answers, so the upstream costs next to
nothing and what is measured is the client side. Every path runs once per round, in a shuffled
order, round after round (interleaved), so all see the same machine noise. Printed per path:
p50 and p99 in µs (wall clock, and CPU of this process), non-streamed and streamed; the
per-chunk cost of a stream (the slope between the 8- and the 64-chunk answers); the ratios the
README quotes. Paths:

* ``raw asyncio``: a prebuilt request on one kept-alive socket (the floor: the wire and nginx);
* ``direct httpx`` / ``direct aiohttp``: the HTTP client alone, JSON decoded;
* ``gateway single`` / ``gateway nested``: ``Gateway.chat`` with one leaf, and with a 3-level
  config (fallback > loadbalance > leaf, retry on), on the default transport (aiohttp with the
  ``[fast]`` extra) and on httpx;
* ``PortkeyModel.stream``: Strands events out of the nested gateway (streamed rows only);
* ``portkey OSS gateway``: Portkey's open-source gateway (node) in front of the same nginx,
  when installed (``hatch run portkey-gateway ensure``); skipped with a note otherwise.

    hatch run bench-roundtrip                    # 2,000 rounds
    hatch run bench-roundtrip --rounds 500       # quicker
    hatch run bench-roundtrip --soak 200000      # RSS over 200,000 nested-gateway requests
    hatch run bench-roundtrip --profile          # where the gateway's time goes (cProfile)
    hatch run bench-roundtrip --libraries        # aiohttp, httpcore and httpx alone (the choice)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import pstats
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from _nginx import COMPLETION, nginx, no_control_plane

from strands_portkey import Gateway, PortkeyModel
from strands_portkey.transport import TransportSettings

SHORT, LONG = 8, 64
BODY = {"model": "bench", "messages": [{"role": "user", "content": "hi"}]}
BODY_BYTES = json.dumps(BODY).encode()
HEADERS = {"authorization": "Bearer sk-bench", "content-type": "application/json"}
Call = Callable[[], Awaitable[object]]


def leaf(url: str, **extra: Any) -> dict[str, Any]:
    return {"provider": "openai", "api_key": "sk-bench", "custom_host": url, **extra}


def nested(url: str) -> dict[str, Any]:
    """fallback > loadbalance > leaf, retry on every leaf (the config of issue #14)."""
    retry = {"attempts": 2, "on_status_codes": [429, 500, 502, 503, 504]}
    balanced = {
        "strategy": {"mode": "loadbalance"},
        "targets": [leaf(url, weight=1, retry=retry), leaf(url, weight=1, retry=retry)],
    }
    return {"strategy": {"mode": "fallback"}, "targets": [balanced, leaf(url, retry=retry)]}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


Timings = dict[str, tuple[list[float], list[float]]]


async def interleaved(rounds: int, calls: dict[str, Call], warmup: int = 100) -> Timings:
    """Wall-clock and CPU (this thread's) µs per call, per path; CPU time ignores time spent
    waiting for nginx or for the CPU (6 agents share this machine's 2 cores), so it shows what
    each client itself costs even when the wall clock is noisy."""
    for _ in range(warmup):
        for call in calls.values():
            await call()
    timings: Timings = {name: ([], []) for name in calls}
    wall, cpu = time.perf_counter, time.thread_time
    order = list(calls.items())
    shuffle = random.Random(14).shuffle  # a new order every round: no path always follows the same one
    for _ in range(rounds):
        shuffle(order)
        for name, call in order:
            walls, cpus = timings[name]
            start, start_cpu = wall(), cpu()
            await call()
            cpus.append((cpu() - start_cpu) * 1e6)
            walls.append((wall() - start) * 1e6)
    return timings


# --------------------------------------------------------------------------- the paths


class RawClient:
    """One kept-alive socket, a prebuilt request, the response read by Content-Length."""

    def __init__(self, host: str, port: int) -> None:
        self._host, self._port = host, port
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    def request(self, path: str) -> Call:
        raw = (
            f"POST {path} HTTP/1.1\r\nhost: {self._host}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(BODY_BYTES)}\r\n\r\n"
        ).encode() + BODY_BYTES

        async def call() -> bytes:
            if self._streams is None:
                self._streams = await asyncio.open_connection(self._host, self._port)
            reader, writer = self._streams
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            start = head.lower().index(b"content-length:") + 15
            length = int(head[start : head.index(b"\r\n", start)])
            return await reader.readexactly(length)

        return call

    async def aclose(self) -> None:
        if self._streams is not None:
            self._streams[1].close()


def httpx_paths(client: httpx.AsyncClient, base: str) -> tuple[Call, Callable[[int], Call]]:
    async def chat() -> object:
        return (
            await client.post(f"{base}/json/v1/chat/completions", content=BODY_BYTES, headers=HEADERS)
        ).json()

    def stream(chunks: int) -> Call:
        async def call() -> None:
            url = f"{base}/sse{chunks}/v1/chat/completions"
            async with client.stream("POST", url, content=BODY_BYTES, headers=HEADERS) as response:
                async for _ in response.aiter_bytes():
                    pass

        return call

    return chat, stream


def aiohttp_paths(
    session: aiohttp.ClientSession, base: str, headers: dict[str, str]
) -> tuple[Call, Callable[[int], Call]]:
    async def chat() -> object:
        async with session.post(
            f"{base}/json/v1/chat/completions", data=BODY_BYTES, headers=headers
        ) as response:
            return json.loads(await response.read())

    def stream(chunks: int) -> Call:
        async def call() -> None:
            url = f"{base}/sse{chunks}/v1/chat/completions"
            async with session.post(url, data=BODY_BYTES, headers=headers) as response:
                async for _ in response.content.iter_any():
                    pass

        return call

    return chat, stream


def gateway_paths(
    make: Callable[[str], Gateway], base: str
) -> tuple[Gateway, Call, dict[int, Gateway], Callable[[int], Call]]:
    chat_gateway = make(f"{base}/json/v1")
    stream_gateways = {n: make(f"{base}/sse{n}/v1") for n in (SHORT, LONG)}

    async def chat() -> object:
        return await chat_gateway.chat(BODY)

    def stream(chunks: int) -> Call:
        gateway = stream_gateways[chunks]

        async def call() -> None:
            async with gateway.stream(BODY) as answer:
                async for _ in answer:
                    pass

        return call

    return chat_gateway, chat, stream_gateways, stream


def model_stream(gateways: dict[int, Gateway]) -> Callable[[int], Call]:
    messages = [{"role": "user", "content": [{"text": "hi"}]}]

    def stream(chunks: int) -> Call:
        model = PortkeyModel(gateway=gateways[chunks], model_id="bench")

        async def call() -> None:
            async for _ in model.stream(messages):  # type: ignore[arg-type]
                pass

        return call

    return stream


@contextlib.contextmanager
def portkey_oss() -> Iterator[str | None]:
    try:
        import portkey_gateway
    except ImportError:
        yield None
        return
    if portkey_gateway.find_node() is None or portkey_gateway.installed() is None:
        yield None
        return
    with portkey_gateway.start() as running:
        yield running.base_url.removesuffix("/v1")


# --------------------------------------------------------------------------- report


def table(title: str, timings: Timings) -> dict[str, tuple[float, float, float]]:
    """Print and return (wall p50, wall p99, CPU p50) per path."""
    print(f"\n{title}")
    print(f"  {'path':<50} {'p50 µs':>8} {'p99 µs':>8} {'CPU p50 µs':>11}")
    out = {}
    for name, (walls, cpus) in timings.items():
        out[name] = (pct(walls, 0.5), pct(walls, 0.99), pct(cpus, 0.5))
        print(f"  {name:<50} {out[name][0]:8.0f} {out[name][1]:8.0f} {out[name][2]:11.0f}")
    return out


async def run(rounds: int, base: str, portkey: str | None) -> None:
    host, port = base.removeprefix("http://").split(":")
    raw = RawClient(host, int(port))
    default = TransportSettings()
    on_httpx = TransportSettings(client="httpx")
    async with httpx.AsyncClient() as hx, aiohttp.ClientSession() as session:
        hx_chat, hx_stream = httpx_paths(hx, base)
        aio_chat, aio_stream = aiohttp_paths(session, base, HEADERS)
        made = {
            "gateway single (aiohttp)": gateway_paths(
                lambda u: Gateway(leaf(u), transport_settings=default), base
            ),
            "gateway nested (aiohttp)": gateway_paths(
                lambda u: Gateway(nested(u), transport_settings=default), base
            ),
            "gateway single (httpx)": gateway_paths(
                lambda u: Gateway(leaf(u), transport_settings=on_httpx), base
            ),
            "gateway nested (httpx)": gateway_paths(
                lambda u: Gateway(nested(u), transport_settings=on_httpx), base
            ),
        }
        chats: dict[str, Call] = {
            "raw asyncio (one socket)": raw.request("/json/v1/chat/completions"),
            "direct httpx": hx_chat,
            "direct aiohttp": aio_chat,
        }
        chats.update({name: paths[1] for name, paths in made.items()})
        pk_headers: dict[str, dict[str, str]] = {}
        if portkey is not None:
            for kind in ("json", f"sse{SHORT}", f"sse{LONG}"):
                config = json.dumps(leaf(f"{base}/{kind}/v1"))
                pk_headers[kind] = {"x-portkey-config": config, "content-type": "application/json"}

            async def portkey_chat() -> object:
                url = f"{portkey}/v1/chat/completions"
                async with session.post(url, data=BODY_BYTES, headers=pk_headers["json"]) as response:
                    return json.loads(await response.read())

            chats["portkey OSS gateway (node)"] = portkey_chat
        print(f"nginx at {base}; {rounds} rounds, every path once per round (interleaved)")
        if portkey is None:
            print(
                "Portkey's OSS gateway is not installed: its rows are skipped "
                "(hatch run portkey-gateway ensure)"
            )
        chat = table("non-streamed chat call", await interleaved(rounds, chats))

        streams: dict[str, Call] = {}
        per_chunk_paths = {
            "raw asyncio (one socket)": lambda n: raw.request(f"/sse{n}/v1/chat/completions"),
            "direct httpx": hx_stream,
            "direct aiohttp": aio_stream,
            **{name: paths[3] for name, paths in made.items()},
            "PortkeyModel.stream (nested, aiohttp)": model_stream(made["gateway nested (aiohttp)"][2]),
        }
        if portkey is not None:

            def portkey_stream(n: int) -> Call:
                async def call() -> None:
                    url = f"{portkey}/v1/chat/completions"
                    body = json.dumps({**BODY, "stream": True}).encode()
                    async with session.post(url, data=body, headers=pk_headers[f"sse{n}"]) as response:
                        async for _ in response.content.iter_any():
                            pass

                return call

            per_chunk_paths["portkey OSS gateway (node)"] = portkey_stream
        for name, make in per_chunk_paths.items():
            streams[f"{name}, {SHORT} chunks"] = make(SHORT)
            streams[f"{name}, {LONG} chunks"] = make(LONG)
        streamed = table("streamed chat call", await interleaved(max(rounds // 2, 1), streams))

        print("\nper streamed chunk (slope between the 8- and the 64-chunk answers), µs")
        print(f"  {'path':<50} {'p50':>8} {'p99':>8} {'CPU p50':>11}")
        for name in per_chunk_paths:
            short, long = streamed[f"{name}, {SHORT} chunks"], streamed[f"{name}, {LONG} chunks"]
            slope = [(long[i] - short[i]) / (LONG - SHORT) for i in range(3)]
            print(f"  {name:<50} {slope[0]:8.2f} {slope[1]:8.2f} {slope[2]:11.2f}")
        print()
        for kind, label in (("aiohttp", "default transport"), ("httpx", "httpx transport")):
            for i, what in ((0, "p50"), (2, "CPU p50")):
                ours = chat[f"gateway nested ({kind})"][i]
                print(
                    f"nested gateway, {label}: {what} {ours:.0f} µs = "
                    f"{ours / chat['direct httpx'][i]:.2f} x direct "
                    f"httpx, {ours / chat['direct aiohttp'][i]:.2f} x direct aiohttp"
                )
        for paths in made.values():
            await paths[0].aclose()
            for gateway in paths[2].values():
                await gateway.aclose()
    await raw.aclose()


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def soak(requests: int, base: str) -> None:
    """RSS of the process over ``requests`` nested-gateway calls (10 at a time), after a warm-up."""
    gateway = Gateway(nested(f"{base}/json/v1"))
    stream_gateway = Gateway(nested(f"{base}/sse{SHORT}/v1"))
    batch = 10

    async def one_stream() -> None:
        async with stream_gateway.stream(BODY) as answer:
            async for _ in answer:
                pass

    async def block(n: int) -> None:
        for _ in range(n // batch):
            await asyncio.gather(*(gateway.chat(BODY) for _ in range(batch - 1)), one_stream())

    warm = max(requests // 10, batch)
    await block(warm)
    start_rss, started = rss_kib(), time.perf_counter()
    samples = [start_rss]
    for _ in range(10):
        await block(requests // 10)
        samples.append(rss_kib())
    elapsed = time.perf_counter() - started
    growth = (samples[-1] - start_rss) / start_rss * 100
    print(
        f"\nsoak: {requests} requests (9 chat + 1 stream per batch of 10) after {warm} to warm up, "
        f"{elapsed:.1f} s"
    )
    print(
        f"  RSS after warm-up {start_rss / 1024:.1f} MiB -> end {samples[-1] / 1024:.1f} MiB: {growth:+.2f} %"
    )
    print("  RSS every 10 %: " + " ".join(f"{s / 1024:.1f}" for s in samples) + " MiB")
    await gateway.aclose()
    await stream_gateway.aclose()


async def profile(requests: int, base: str) -> None:
    """cProfile of the nested gateway: non-streamed calls, then 64-chunk streams."""
    chat_gateway = Gateway(nested(f"{base}/json/v1"))
    stream_gateway = Gateway(nested(f"{base}/sse{LONG}/v1"))
    for _ in range(200):
        await chat_gateway.chat(BODY)

    async def streams() -> None:
        for _ in range(requests // 4):
            async with stream_gateway.stream(BODY) as answer:
                async for _ in answer:
                    pass

    async def chats() -> None:
        for _ in range(requests):
            await chat_gateway.chat(BODY)

    for label, work in (("non-streamed", chats), (f"streamed, {LONG} chunks", streams)):
        profiler = cProfile.Profile()
        profiler.enable()
        await work()
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(22)
        print(f"\nprofile of the nested gateway, {label} (by own time)")
        print("\n".join(out.getvalue().splitlines()[:45]))
    await chat_gateway.aclose()
    await stream_gateway.aclose()


async def libraries(base: str, calls: int = 1000, blocks: int = 5) -> None:
    """CPU per call of each candidate HTTP client alone, in a tight loop (how aiohttp was chosen)."""
    import httpcore

    url = f"{base}/json/v1/chat/completions"
    raw_headers = [(b"host", b"127.0.0.1"), (b"content-length", str(len(BODY_BYTES)).encode())]
    raw_headers += [(name.encode(), value.encode()) for name, value in HEADERS.items()]
    session, client, pool = aiohttp.ClientSession(), httpx.AsyncClient(), httpcore.AsyncConnectionPool()
    async with session, client, pool:

        async def with_aiohttp() -> None:
            async with session.post(url, data=BODY_BYTES, headers=HEADERS) as response:
                await response.read()

        async def with_httpx() -> None:
            await client.post(url, content=BODY_BYTES, headers=HEADERS)

        async def with_httpcore() -> None:
            await pool.request("POST", url, headers=raw_headers, content=BODY_BYTES)

        candidates = {"aiohttp": with_aiohttp, "httpcore": with_httpcore, "httpx": with_httpx}
        for call in candidates.values():
            for _ in range(100):
                await call()
        cpu: dict[str, list[float]] = {name: [] for name in candidates}
        for _ in range(blocks):
            for name, call in candidates.items():
                start = time.thread_time()
                for _ in range(calls):
                    await call()
                cpu[name].append((time.thread_time() - start) / calls * 1e6)
    print(f"\nCPU per call, each client alone in a tight loop ({blocks} blocks of {calls}):")
    for name, samples in cpu.items():
        print(f"  {name:<10} best {min(samples):6.0f} µs   median {statistics.median(samples):6.0f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument(
        "--soak", type=int, default=0, metavar="N", help="measure RSS over N requests instead"
    )
    parser.add_argument("--profile", action="store_true", help="profile the nested gateway instead")
    parser.add_argument("--no-portkey", action="store_true", help="leave Portkey's OSS gateway out")
    parser.add_argument("--libraries", action="store_true", help="compare the candidate HTTP clients instead")
    args = parser.parse_args()
    assert COMPLETION  # the static answer nginx serves
    with no_control_plane(), nginx((SHORT, LONG)) as base:
        if args.soak:
            asyncio.run(soak(args.soak, base))
        elif args.libraries:
            asyncio.run(libraries(base))
        elif args.profile:
            asyncio.run(profile(2000, base))
        else:
            with contextlib.ExitStack() as stack:
                portkey = None if args.no_portkey else stack.enter_context(portkey_oss())
                asyncio.run(run(args.rounds, base, portkey))


if __name__ == "__main__":
    main()
