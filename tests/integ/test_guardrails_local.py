"""Guardrails against the real local model, through PortkeyModel and a Strands Agent (streamed and not)."""

from __future__ import annotations

import pytest
from strands import Agent

from strands_portkey import Gateway, PortkeyModel
from strands_portkey.errors import GuardrailDeniedError

pytestmark = pytest.mark.integ


def leaf(url: str, **extra: object) -> dict[str, object]:
    return {
        "provider": "llama-cpp",
        "custom_host": url,
        "override_params": {"temperature": 0, "max_tokens": 24},
        **extra,
    }


@pytest.mark.parametrize("stream", [True, False])
def test_a_blocked_prompt_never_reaches_the_model_and_the_agent_sees_an_intervention(
    local_model, stream
) -> None:
    config = leaf(
        local_model.base_url,
        input_guardrails=[{"default.detectPII": {"categories": ["credit_card"]}, "deny": True}],
    )
    model = PortkeyModel(client_args={"config": config}, model_id=local_model.model, stream=stream)
    agent = Agent(model=model, callback_handler=None, retry_strategy=None)
    result = agent("Is 4111 1111 1111 1111 a valid card number?")
    assert result.stop_reason == "guardrail_intervened"
    assert agent.messages[0]["content"] == [{"text": "[User input redacted.]"}]
    assert model.last_route is not None
    assert model.last_route.attempts == []  # no upstream call was made


@pytest.mark.parametrize("stream", [True, False])
async def test_output_checks_flag_the_real_answer(local_model, stream) -> None:
    config = leaf(
        local_model.base_url,
        output_guardrails=[{"default.wordCount": {"minWords": 1000, "maxWords": 2000}}],
        after_request_hooks=[{"id": "nonempty", "type": "guardrail", "checks": [{"id": "default.notNull"}]}],
    )
    body = {"model": local_model.model, "messages": [{"role": "user", "content": "Say hello."}]}
    async with Gateway(config) as gw:
        if stream:
            async with gw.stream(body) as answer:
                text = "".join([c.choices[0].delta.content or "" async for c in answer if c.choices])
            route = answer.route
        else:
            response = await gw.chat(body)
            text, route = response.text, response.route
    assert text.strip()
    assert route is not None
    assert route.hook_results is not None
    assert route.status_code == 246
    verdicts = {hook.id: hook.verdict for hook in route.hook_results.after_request_hooks}
    assert verdicts == {"output_guardrail_0": False, "nonempty": True}


async def test_an_output_denial_falls_back_from_the_model_to_the_next_target(local_model) -> None:
    deny_everything = [{"default.wordCount": {"minWords": 1000, "maxWords": 2000}, "deny": True}]
    config = {
        "strategy": {"mode": "fallback"},
        "targets": [
            leaf(local_model.base_url, output_guardrails=deny_everything),
            leaf(local_model.base_url),
        ],
    }
    body = {"model": local_model.model, "messages": [{"role": "user", "content": "Say hello."}]}
    async with Gateway(config) as gw:
        response = await gw.chat(body)
        assert response.route is not None
        assert response.route.last_used_option_index == "config.targets[1]"
        assert [a.option_index for a in response.route.attempts] == ["config.targets[0]", "config.targets[1]"]
        with pytest.raises(GuardrailDeniedError):
            await Gateway(leaf(local_model.base_url, output_guardrails=deny_everything)).chat(body)
