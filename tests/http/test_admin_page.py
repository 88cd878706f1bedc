"""The admin page, rendered by a real browser: what a developer looks at when a test fails."""

from __future__ import annotations

import json

from browser import browser_page, chromium
from wire import PLAIN, post, send

from mockserver import Config, MockServer
from mockserver.controls.rules import parse_scenario


def test_the_page_is_self_contained(server: MockServer) -> None:
    reply = send(server.url, "GET", "/_mock/")
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/html")
    page = reply.raw.decode()
    assert "<script src" not in page and "http://" not in page and "https://" not in page


async def test_journal_rules_and_settings_render_and_a_request_expands() -> None:
    chromium()
    scenario = parse_scenario([{"id": "greet", "match": {"last_user": "hello"}, "reply": "Hi."},
                               {"id": "never", "match": {"last_user": "nobody says this"}, "reply": "x"}], "inline")
    with MockServer(Config(scenario=scenario, chaos=(("stall", 0.0),), quirks=("no_usage",))) as mock:
        post(mock.url, {**PLAIN, "messages": [{"role": "user", "content": "hello"}]})
        post(mock.url, {**PLAIN, "messages": [{"role": "user", "content": "something else"}]})
        async with browser_page() as page:
            await page.goto(mock.url + "/_mock/")
            await page.wait_for("document.body.dataset.loaded === 'true'")
            rows = await page.evaluate("[...document.querySelectorAll('#journal tr.entry')].map(r => r.innerText)")
            assert len(rows) == 2 and "greet" in rows[1] and "generated" in rows[0]
            rules = await page.evaluate(
                "[...document.querySelectorAll('#rules tr')].map(r => [r.dataset.rule, r.className])")
            assert rules == [["greet", "rule"], ["never", "rule unused"]]
            quirks = await page.evaluate("document.querySelector('[data-setting=quirks]').innerText")
            assert "no_usage" in quirks
            await page.evaluate("document.querySelector('#journal tr.entry[data-number=\"1\"]').click()")
            detail = await page.wait_for("document.querySelector('[data-detail=\"1\"]')?.innerText")
            assert json.loads(detail)["body"]["messages"][0]["content"] == "hello"
            post(mock.url, PLAIN)
            await page.wait_for("document.querySelectorAll('#journal tr.entry').length === 3")


async def test_the_page_asks_for_the_admin_key() -> None:
    chromium()
    with MockServer(Config(admin_key="s3cret")) as mock:
        async with browser_page() as page:
            await page.goto(mock.url + "/_mock/")
            await page.wait_for("document.getElementById('key-box').classList.contains('shown')")
            await page.evaluate("document.getElementById('key').value = 's3cret'; "
                                "document.getElementById('use-key').click()")
            await page.wait_for("document.body.dataset.loaded === 'true'")
