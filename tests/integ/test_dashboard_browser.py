"""The dashboard in a real headless browser (Debian's chromium driven by Playwright) against a real server.

One server process with gateway keys (the admin key from the environment; ``ana`` of ``acme`` and
``eve`` of ``globex``, members made with ``strands-portkey keys create``) and the scripted loopback
upstream. Each test signs in through the form, as a person would. Every page must load without a
console error and without a failed request: a response of 400 or more, or a request that never got
an answer -- except a ``404 no route`` for a route this server does not serve (read from its
``/openapi.json``), which the page shows as "not available on this server".

Screenshots go to ``docs/screenshots/`` (checked in, shown by the README): 1280 px wide in light and
dark mode, and at a phone's width.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from scripted_upstream import ScriptedUpstream, fail, ok
from tests.integ.test_server_process import HI, ServerProcess, command, running_server, server_env

pytestmark = pytest.mark.integ

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright_api = pytest.importorskip("playwright.sync_api")
if CHROMIUM is None:
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)

MASTER = base64.urlsafe_b64encode(bytes(range(2, 34))).decode()
ADMIN = "spk-dashboard-admin-0123456789abcdefghijklmnopq"
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PAGES = ("overview", "requests", "providers", "models", "configs")
WAIT_MS = 15_000
SAVED_CONFIG = {
    "strategy": {"mode": "fallback", "on_status_codes": [429, 503]},
    "retry": {"attempts": 2},
    "override_params": {"temperature": 0.3},
    "targets": [
        {
            "name": "primary",
            "provider": "openai",
            "virtual_key": "openai-prod",
            "override_params": {"model": "gpt-4o"},
        },
        {
            "name": "backup",
            "strategy": {"mode": "loadbalance"},
            "targets": [
                {
                    "provider": "anthropic",
                    "virtual_key": "anthropic-1",
                    "weight": 3,
                    "override_params": {"model": "claude-sonnet"},
                },
                {"provider": "groq", "virtual_key": "groq-1", "weight": 1, "retry": {"attempts": 0}},
            ],
        },
    ],
}


@dataclass
class Site:
    """The running server, its keys and what it serves."""

    server: ServerProcess
    upstream: ScriptedUpstream
    keys: dict[str, str]
    key_ids: dict[str, str]
    served: set[str] = field(default_factory=set)

    @property
    def url(self) -> str:
        return self.server.url


def _create_key(home: Path, name: str, user: str, organization: str, *limits: str) -> tuple[str, str]:
    env = server_env(home, {"STRANDS_PORTKEY_MASTER_KEY": MASTER})
    args = ["keys", "create", "--name", name, "--user", user, "--organization", organization, *limits]
    done = subprocess.run(
        [*command(), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip().splitlines()[-1]
    return key, done.stderr.split("created ", 1)[1].split(" ", 1)[0]


def chat(site: Site, who: str, scenario: str, trace: str, *, fallback: bool = False) -> httpx.Response:
    """One request through the gateway as ``who``; with ``fallback`` its first target answers 503
    (and an input guardrail runs)."""
    targets = [
        {"provider": "openai", "api_key": f"sk-{name}", "custom_host": site.upstream.base_url(scenario, name)}
        for name in (("a", "b") if fallback else ("b",))
    ]
    if fallback:
        site.upstream.script(scenario, "a", [fail(503)])
    site.upstream.script(scenario, "b", [ok()])
    config: dict[str, Any] = {"strategy": {"mode": "fallback"}, "targets": targets}
    if fallback:  # and a guardrail that passes ("hi" holds no secret)
        config["input_guardrails"] = [{"default.contains": {"operator": "none", "words": ["secret"]}}]
    headers = {
        "x-portkey-api-key": site.keys[who],
        "x-portkey-config": json.dumps(config),
        "x-portkey-trace-id": trace,
    }
    body = {"model": "gpt-4o-mini", "messages": HI, "max_tokens": 10}
    response = httpx.post(f"{site.url}/v1/chat/completions", json=body, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    return response


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    home = tmp_path_factory.mktemp("dashboard")
    env = {"STRANDS_PORTKEY_MASTER_KEY": MASTER, "STRANDS_PORTKEY_ADMIN_KEY": ADMIN}
    with ScriptedUpstream() as upstream:
        # the store exists before the keys are made: start once, then make the keys, then serve
        with running_server(home, env=env, no_auth=False):
            pass
        limits = ("--rate-limits", '[{"type": "requests", "unit": "rpm", "value": 60}]')
        ana, ana_id = _create_key(home, "ana-laptop", "ana", "acme", *limits)
        eve, eve_id = _create_key(home, "eve-ci", "eve", "globex")
        with running_server(home, env=env, no_auth=False) as server:
            site = Site(
                server, upstream, {"admin": ADMIN, "ana": ana, "eve": eve}, {"ana": ana_id, "eve": eve_id}
            )
            site.served = set(httpx.get(f"{server.url}/openapi.json", timeout=10).json()["paths"])
            chat(site, "ana", "warm", "ana-first", fallback=True)
            chat(site, "eve", "warm", "eve-private-trace")
            saved = {"name": "support-bot", "config": SAVED_CONFIG}
            made = httpx.post(f"{server.url}/api/configs", json=saved, headers={"x-portkey-api-key": ADMIN})
            assert made.status_code == 201, made.text
            yield site


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


class Watch:
    """Console errors and failed requests of one page (routes the server does not serve excepted)."""

    def __init__(self, page: Any, site: Site) -> None:
        self.errors: list[str] = []
        self.failed: list[str] = []
        self._site = site
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _failed(self, request: Any) -> None:
        if "ERR_ABORTED" not in (request.failure or ""):  # cancelled by leaving the page: not a failure
            self.failed.append(f"{request.url} {request.failure}")

    def _response(self, response: Any) -> None:
        if response.status < 400:
            return
        path = re.sub(r"^https?://[^/]+", "", response.url).split("?", 1)[0]
        if response.status == 404 and not self._serves(path):
            return  # a route of another part of the API this server does not have yet
        self.failed.append(f"{response.status} {response.url}")

    def _serves(self, path: str) -> bool:
        for template in self._site.served:
            pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
            if re.match(pattern, path):
                return True
        return False

    def clean(self) -> None:
        # chromium logs the console error "Failed to load resource" for every 4xx; those are judged above
        errors = [e for e in self.errors if "Failed to load resource" not in e]
        assert not errors, errors
        assert not self.failed, self.failed


def sign_in(browser: Any, site: Site, who: str, **context: Any) -> tuple[Any, Any, Watch]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, **context)
    page = ctx.new_page()
    watch = Watch(page, site)
    page.goto(f"{site.url}/ui/overview")
    assert "/ui/login" in page.url
    page.fill("#key", site.keys[who])
    page.press("#key", "Enter")  # keyboard only
    page.wait_for_url(re.compile(r".*/ui/overview.*"))
    return ctx, page, watch


def shot(page: Any, name: str, *, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def test_sign_in_then_every_page_loads_cleanly(browser: Any, site: Site) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{site.url}/ui/login")
    shot(page, "sign-in")
    page.close()
    ctx, page, watch = sign_in(browser, site, "admin")
    cookie = next(c for c in ctx.cookies() if c["name"] == "spk_session")
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Strict"
    assert ADMIN not in cookie["value"]
    for name in PAGES:
        page.goto(f"{site.url}/ui/{name}")
        page.wait_for_load_state("networkidle")
        assert page.locator("h1").first.inner_text()
        assert page.locator(f'nav a[data-page="{name}"]').get_attribute("aria-current") == "page"
        if name != "configs":  # drawn with its tree by the configs test
            shot(page, name)
    watch.clean()
    ctx.close()


def test_overview_in_dark_mode_and_at_phone_width(browser: Any, site: Site) -> None:
    ctx, page, watch = sign_in(browser, site, "admin", color_scheme="dark")
    page.wait_for_selector(".u-wrap")
    shot(page, "overview-dark")
    # keyboard only: a focused chart reads its values with the arrow keys (into its legend)
    chart = page.locator("#chart-requests .chart")
    chart.focus()
    page.keyboard.press("End")
    values = page.locator("#chart-requests .u-legend .u-value")
    expect = playwright_api.expect
    expect(values.nth(0)).not_to_have_text("\u2013")  # the time of the last bucket (an en dash: none)
    expect(values.nth(1)).to_have_text(re.compile(r"^\d+$"))  # its request count
    ctx.close()
    ctx, page, watch = sign_in(browser, site, "admin")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{site.url}/ui/overview?window=1h")
    page.wait_for_selector(".u-wrap")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways at phone width ({width} px)"
    shot(page, "overview-phone", full_page=False)
    watch.clean()
    ctx.close()


def _number(page: Any, metric: str) -> int:
    text = page.locator(f'[data-metric="{metric}"] .value').inner_text()
    return int(text.replace(",", "")) if text.replace(",", "").isdigit() else -1


def test_a_new_request_appears_on_the_overview_and_in_the_log_within_seconds(
    browser: Any, site: Site
) -> None:
    ctx, page, watch = sign_in(browser, site, "admin")
    page.select_option("#window", "1h")
    page.wait_for_selector('[data-metric="requests"]')
    before = _number(page, "requests")
    chat(site, "ana", "live", "live-request-trace")
    started = time.monotonic()
    while _number(page, "requests") <= before:  # the page polls; no reload here
        assert time.monotonic() - started < 15, "the overview did not show the request within 15 s"
        page.wait_for_timeout(250)
    page.wait_for_selector('[data-metric="requests"]')
    page.click('nav a[data-page="requests"]')
    page.fill('input[name="trace_id"]', "live-request-trace")
    page.press('input[name="trace_id"]', "Enter")
    playwright_api.expect(page.locator("#request-list tbody tr")).to_have_count(1, timeout=WAIT_MS)
    watch.clean()
    ctx.close()


def test_a_request_shows_its_fallback_path(browser: Any, site: Site) -> None:
    ctx, page, watch = sign_in(browser, site, "admin")
    page.goto(f"{site.url}/ui/requests?trace_id=ana-first")
    page.wait_for_selector("#request-list tbody tr a", timeout=WAIT_MS)
    page.click("#request-list tbody tr a")
    page.wait_for_selector("ol.route li")
    steps = page.locator("ol.route li")
    assert steps.count() == 2
    assert "config.targets[0]" in steps.nth(0).inner_text()
    assert "503" in steps.nth(0).inner_text()
    assert "config.targets[1]" in steps.nth(1).inner_text()
    assert "fallback" in steps.nth(1).inner_text()
    assert page.locator("text=rescued by a fallback").count() == 1
    guardrails = page.locator("section", has_text="Guardrails").locator("tbody tr").all_inner_texts()
    assert guardrails  # inherited by both targets: it ran before each attempt
    assert all("passed" in row and "default.contains" in row for row in guardrails)
    shot(page, "request-detail")
    watch.clean()
    ctx.close()


def test_a_member_sees_only_its_own_requests(browser: Any, site: Site) -> None:
    ctx, page, _watch = sign_in(browser, site, "ana")
    assert "ana · member · acme" in page.locator("#who").inner_text()
    page.goto(f"{site.url}/ui/requests")
    page.wait_for_selector("#request-list tbody tr", timeout=WAIT_MS)
    keys = set(page.locator("#request-list tbody tr td:last-child").all_inner_texts())
    assert keys == {site.key_ids["ana"]}
    page.fill('input[name="trace_id"]', "eve-private-trace")
    page.press('input[name="trace_id"]', "Enter")
    page.wait_for_selector("text=No requests match")
    # eve's request opened by its id answers "not found", as if it did not exist
    eve_request = httpx.get(
        f"{site.url}/api/requests",
        params={"trace_id": "eve-private-trace"},
        headers={"x-portkey-api-key": ADMIN},
    ).json()["data"][0]["id"]
    response = page.goto(f"{site.url}/ui/requests/{eve_request}")
    assert response is not None
    assert response.status == 200
    page.wait_for_selector("text=Request not found")
    assert page.evaluate("fetch('/api/requests/" + eve_request + "').then(r => r.status)") == 404
    ctx.close()


def test_a_state_change_with_the_cookie_alone_is_refused(browser: Any, site: Site) -> None:
    ctx, page, _ = sign_in(browser, site, "admin")
    no_token = page.evaluate(
        "fetch('/api/dashboard/config-tree', {method: 'POST', headers: {'Content-Type': 'application/json'},"
        " body: JSON.stringify({config: {provider: 'openai'}})}).then(r => r.status)"
    )
    with_token = page.evaluate(
        "fetch('/ui/session').then(r => r.json())"
        ".then(s => fetch('/api/dashboard/config-tree', {method: 'POST',"
        " headers: {'Content-Type': 'application/json', 'x-csrf-token': s.csrf},"
        " body: JSON.stringify({config: {provider: 'openai'}})})).then(r => r.status)"
    )
    assert (no_token, with_token) == (403, 200)
    ctx.close()


def test_logout_ends_the_session_in_the_browser(browser: Any, site: Site) -> None:
    ctx, page, watch = sign_in(browser, site, "ana")
    page.click("#logout button")
    page.wait_for_url(re.compile(r".*/ui/login.*"))
    assert page.locator("#login-message").inner_text() == "You are signed out."
    assert not [c for c in ctx.cookies() if c["name"] == "spk_session"]
    page.goto(f"{site.url}/ui/requests")
    assert "/ui/login" in page.url
    watch.clean()
    ctx.close()


def test_a_saved_config_is_drawn_as_a_tree_and_a_bad_one_shows_its_error_at_the_node(
    browser: Any, site: Site
) -> None:
    ctx, page, watch = sign_in(browser, site, "admin")
    page.goto(f"{site.url}/ui/configs")
    page.wait_for_selector("#config-tree .tree")  # the first saved config is drawn at once
    nodes = page.locator("#config-tree .node")
    assert nodes.count() == 5
    anthropic = page.locator('.node[data-path="config.targets[1].targets[0]"]').inner_text()
    assert "weight 3 (75 %)" in anthropic
    assert "inherits" in anthropic
    assert "temperature=0.3" in anthropic
    assert "retry" in anthropic
    shot(page, "configs")
    bad = {
        "strategy": {"mode": "fallback"},
        "targets": [{"provider": "openai"}, {"provider": "openai", "weight": -2}],
    }
    page.fill("#config-text", json.dumps(bad))
    page.click("text=Draw and check")
    marked = page.locator(".node.error")
    marked.wait_for()
    assert marked.get_attribute("data-path") == "config.targets[1]"
    assert "weight" in marked.inner_text()
    watch.clean()
    ctx.close()


def test_keys_show_their_usage_against_their_limits(browser: Any, site: Site) -> None:
    ctx, page, watch = sign_in(browser, site, "ana")
    page.goto(f"{site.url}/ui/providers")
    row = page.locator("tr", has_text="ana-laptop")
    row.wait_for()
    expect = playwright_api.expect
    expect(row).to_contain_text("/ 60 requests per minute", timeout=WAIT_MS)
    assert page.locator("tr", has_text="eve-ci").count() == 0  # a member manages its own keys only
    watch.clean()
    ctx.close()


def test_a_credentials_test_button_changes_its_state(browser: Any, site: Site) -> None:
    check = "/api/ai-providers/{providerId}/credentials/{credentialId}/check"
    if check not in site.served:
        pytest.skip(f"this server does not serve {check}")
    admin = {"x-portkey-api-key": ADMIN}
    site.upstream.script("provider-check", "a", [fail(401)])  # the provider now refuses the key
    provider = {
        "name": "scripted",
        "displayName": "Scripted",
        "baseUrl": site.upstream.base_url("provider-check", "a"),
    }
    made = httpx.post(f"{site.url}/api/ai-providers", json=provider, headers=admin, timeout=30)
    assert made.status_code == 201, made.text
    credential = {"name": "Primary Key", "value": "sk-test-primary-0001", "credentialType": "api_key"}
    added = httpx.post(
        f"{site.url}/api/ai-providers/{made.json()['id']}/credentials",
        params={"validate": "false"},
        json=credential,
        headers=admin,
        timeout=30,
    )
    assert added.status_code == 201, added.text
    ctx, page, watch = sign_in(browser, site, "admin")
    page.goto(f"{site.url}/ui/providers")
    row = page.locator("tr", has_text="Primary Key")
    expect = playwright_api.expect
    expect(row.locator("[data-state]")).to_have_attribute("data-state", "active", timeout=WAIT_MS)
    assert "sk-test-primary-0001" not in page.content()  # masked
    row.locator("button.test").focus()
    page.keyboard.press("Enter")
    expect(page.locator("tr", has_text="Primary Key").locator("[data-state]")).to_have_attribute(
        "data-state", "inactive", timeout=WAIT_MS
    )
    shot(page, "providers")
    watch.clean()
    ctx.close()


def test_the_models_page_lists_the_registry(browser: Any, site: Site) -> None:
    if "/api/ai/models" not in site.served:
        pytest.skip("this server does not serve /api/ai/models")
    models = [
        {
            "name": "support-gpt",
            "provider": "openai",
            "vendor_model_id": "gpt-4o-mini",
            "type": "third-party",
        },
        {"name": "local-llama", "provider": "local", "vendor_model_id": "smollm2", "type": "self-hosted"},
    ]
    for model in models:  # the self-hosted one registered, not deployed: no process is started
        made = httpx.post(
            f"{site.url}/api/ai/models", json=model, headers={"x-portkey-api-key": ADMIN}, timeout=30
        )
        assert made.status_code == 201, made.text
    ctx, page, watch = sign_in(browser, site, "admin")
    page.goto(f"{site.url}/ui/models")
    row = page.locator("tr", has_text="support-gpt")
    row.wait_for(timeout=WAIT_MS)
    assert "third-party" in row.inner_text()
    assert "openai" in row.inner_text()
    total = page.locator(".card", has_text="total").locator(".value").inner_text()
    assert int(total.replace(",", "")) >= 2
    hosted = page.locator("tr", has_text="local-llama")
    playwright_api.expect(hosted).to_contain_text("0 / 0 ready", timeout=WAIT_MS)
    assert "stopped" in hosted.inner_text()
    hosted.get_by_role("button", name="Logs").click()
    page.wait_for_selector("text=Logs of local-llama")
    shot(page, "models")
    watch.clean()
    ctx.close()
