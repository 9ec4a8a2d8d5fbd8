"""Both transports against the real local model (SmolLM2-135M on 127.0.0.1): a whole answer, a
stream read to its end, and a stream cancelled part-way whose connection is given back."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from strands_portkey import Gateway

from .conftest import settings

pytestmark = [pytest.mark.integ, pytest.mark.timeout(300)]

ASK = {
    "messages": [{"role": "user", "content": "Name a colour."}],
    "temperature": 0,
    "seed": 7,
    "max_tokens": 24,
}


async def test_chat_and_stream_through_either_transport(client: str, local_model) -> None:
    config = {"provider": "openai", "api_key": "sk-local", "custom_host": local_model.base_url}
    async with Gateway(config, transport_settings=settings(client)) as gateway:
        whole = await gateway.chat({**ASK, "model": local_model.model})
        assert whole.choices[0].message.content
        assert whole.route.status_code == 200
        async with gateway.stream({**ASK, "model": local_model.model}) as stream:
            text = "".join(
                c.choices[0].delta.content or "" for c in [chunk async for chunk in stream] if c.choices
            )
        assert text == whole.choices[0].message.content  # temperature 0, same seed: the same answer

        async def read() -> None:
            async with gateway.stream({**ASK, "model": local_model.model, "max_tokens": 200}) as long:
                async for _ in long:
                    await asyncio.sleep(0.01)

        task = asyncio.create_task(read())
        await asyncio.sleep(0.3)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        gate = gateway._transport.admission()
        assert gate is not None
        assert gate.in_use == 0
        again = await gateway.chat({**ASK, "model": local_model.model})  # the server is free again
        assert again.choices[0].message.content == whole.choices[0].message.content
