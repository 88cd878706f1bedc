"""`--html`: one self-contained page with the feature matrix, the coverage and the failures, checked as
text and, where Chromium is installed, as a browser renders it."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from conformance import report
from conformance.checks import CATALOGUE
from conformance.engine.result import RunResult
from conformance.session import run_suite

JUDGED = [name for name, info in CATALOGUE.items() if info.judged_under("openai")]
"""The checks an unprofiled run judges."""
QUIRKS = ["n_ignored", "error_422"]


@pytest.fixture(scope="module")
def failing_run() -> RunResult:
    return run_suite(only=["choices", "errors"], max_examples=3, mock_quirks=QUIRKS)


@pytest.fixture(scope="module")
def page(failing_run: RunResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("html") / "report.html"
    report.write_html(failing_run, str(path))
    return path


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_the_page_stands_alone(page: Path, failing_run: RunResult) -> None:
    parser = _Tags()
    parser.feed(page.read_text())
    names = [tag for tag, _ in parser.tags]
    assert "script" not in names and "link" not in names and "img" not in names
    assert not [attrs for _, attrs in parser.tags if "src" in attrs or "href" in attrs]
    rows = [attrs["data-check"] for tag, attrs in parser.tags if tag == "tr" and "data-check" in attrs]
    assert rows == JUDGED
    folded = [attrs["data-check"] for tag, attrs in parser.tags if tag == "details"]
    assert {"choices_count", "error_status_400"} <= set(folded)
    assert failing_run.groups["errors"].covered[0] in page.read_text()


def test_the_cli_writes_it(tmp_path: Path) -> None:
    path = tmp_path / "r.html"
    run = subprocess.run([sys.executable, "-m", "conformance", "--only", "choices", "--max-examples", "2",
                          "--html", str(path)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert 'id="verdict" class="verdict pass"' in path.read_text()


# -- in a browser -------------------------------------------------------------------------------------

CHROMIUM = next((found for name in ("chromium", "chromium-browser", "google-chrome") if (found := shutil.which(name))),
                None)


@pytest.fixture
def browser(tmp_path: Path, page: Path) -> Iterator[str]:
    """Headless Chromium showing the page; yields the page's DevTools websocket URL."""
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    profile = tmp_path / "profile"
    process = subprocess.Popen([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                                "--no-first-run", f"--user-data-dir={profile}", "--remote-debugging-port=0",
                                page.as_uri()], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        for _ in range(300):
            if port_file.exists() and port_file.read_text().strip():
                break
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


class _Page:
    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket
        self.sent = 0

    async def js(self, expression: str) -> Any:
        self.sent += 1
        await self.socket.send_json({"id": self.sent, "method": "Runtime.evaluate",
                                     "params": {"expression": expression, "returnByValue": True}})
        while True:
            message = await self.socket.receive_json(timeout=30)
            if message.get("id") == self.sent:
                return message["result"]["result"].get("value")


async def test_the_page_renders_and_a_failure_unfolds(browser: str, page: Path) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(100):
            async with session.get(f"{browser}/json/list") as listing:
                targets = [t for t in await listing.json() if t.get("url") == page.as_uri()]
            if targets:
                break
            await asyncio.sleep(0.1)
        async with session.ws_connect(targets[0]["webSocketDebuggerUrl"], max_msg_size=0) as socket:
            shown = _Page(socket)
            for _ in range(100):
                if await shown.js("document.readyState === 'complete' && !!document.querySelector('#verdict')"):
                    break
                await asyncio.sleep(0.1)
            assert await shown.js("document.querySelectorAll('table.matrix tbody tr').length") == len(JUDGED)
            assert await shown.js("performance.getEntriesByType('resource').length") == 0
            cell = await shown.js("[...document.querySelectorAll('table.matrix thead th')].map(th => th.textContent)")
            column = cell.index("choices")
            assert await shown.js(f"document.querySelector('tr[data-check=choices_count]').children[{column}]"
                                  ".textContent") == "FAIL"
            details = "document.querySelector('details.failure[data-check=error_status_400]')"
            assert await shown.js(f"{details}.open") is False
            assert await shown.js(f"{details}.querySelector('pre.curl').checkVisibility()") is False
            await shown.js(f"{details}.querySelector('summary').click()")
            assert await shown.js(f"{details}.open") is True
            assert await shown.js(f"{details}.querySelector('pre.curl').checkVisibility()") is True
            assert await shown.js(f"{details}.querySelector('pre.curl').getBoundingClientRect().height") > 0
            curl = await shown.js(f"{details}.querySelector('pre.curl').textContent")
            assert curl.startswith("curl -sS ") and json.loads(await shown.js(
                f"{details}.querySelector('pre.request').textContent"))["model"]
