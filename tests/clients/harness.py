"""What every Python client program shares: the mock's admin API, the list of cases, the results file.

Each client program runs in its own virtual environment, next to a client library whose dependencies may
conflict with the project's, so this module uses the standard library only and imports nothing from the
project. A program registers its cases with `@case(...)` and calls `main(library, distribution)`:

    python client_x.py MOCK_ROOT RESULTS_JSON

MOCK_ROOT is the mock's root URL (the API is under `/v1`, the admin API under `/_mock`). Every case runs
against a reset mock, so one case's rules and journal never leak into the next.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import platform
import sys
import traceback
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

API_KEY = "sk-chatdouble-clients"
MODEL = "gpt-4o-mini"


class Mock:
    """The admin API of the mock under test, as the cases use it."""

    def __init__(self, root: str) -> None:
        self.root = root.rstrip("/")
        self.base_url = f"{self.root}/v1"

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.root}/_mock/{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def rules(self, *rules: dict[str, Any]) -> None:
        """Script the next replies (first match wins); the rule syntax is the README's."""
        self._call("POST", "rules", {"rules": list(rules)})

    def reset(self) -> None:
        self._call("POST", "reset")

    def completions(self) -> list[dict[str, Any]]:
        """The journal's chat-completion requests, oldest first: method, path, headers, body, rule, status."""
        return self.journal("/chat/completions")

    def journal(self, route: str) -> list[dict[str, Any]]:
        """The journal's requests to one route (`/responses`, `/embeddings`), oldest first."""
        entries = self._call("GET", "journal")["data"]
        return [entry for entry in entries if entry["path"].endswith(route)]

    def statuses(self) -> list[int]:
        return [entry["status"] for entry in self.completions()]


@dataclass(frozen=True)
class Case:
    feature: str
    run: Callable[[Mock], Any]
    xfail: str | None


CASES: list[Case] = []


def case(feature: str, *, xfail: str | None = None) -> Callable[[Callable[[Mock], Any]], Callable[[Mock], Any]]:
    """Register a case; `xfail` names whose fault a known failure is, and the case still runs, so a fix shows
    up as an unexpected pass and the mark gets removed."""
    def register(function: Callable[[Mock], Any]) -> Callable[[Mock], Any]:
        CASES.append(Case(feature, function, xfail))
        return function
    return register


def _describe(exc: BaseException) -> str:
    """The exception and the frames closest to it: enough to tell a library's complaint from a broken case."""
    frames = traceback.format_tb(exc.__traceback__)[-3:]
    text = "".join(frames) + "".join(traceback.format_exception_only(type(exc), exc))
    return text[-3000:]


def _outcome(entry: Case, mock: Mock) -> dict[str, Any]:
    mock.reset()
    try:
        result = entry.run(mock)
        if inspect.iscoroutine(result):
            asyncio.run(result)
    except Exception as exc:  # every failure of a case is data for the matrix, not a crash of the program
        outcome, detail = ("xfailed" if entry.xfail else "failed"), _describe(exc)
    else:
        outcome, detail = ("xpassed" if entry.xfail else "passed"), ""
    return {"feature": entry.feature, "outcome": outcome, "reason": entry.xfail or "", "detail": detail}


def main(library: str, distribution: str) -> None:
    root, results_path = sys.argv[1], sys.argv[2]
    only = set(sys.argv[3:])
    mock = Mock(root)
    results = [_outcome(entry, mock) for entry in CASES if not only or entry.feature in only]
    report = {"library": library, "distribution": distribution, "version": metadata.version(distribution),
              "runtime": f"Python {platform.python_version()}", "results": results}
    with open(results_path, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2)
    for result in results:
        print(f"{result['outcome']:8} {library} {result['feature']}", flush=True)
        if result["outcome"] in ("failed", "xfailed"):
            print("    " + result["detail"].replace("\n", "\n    "), flush=True)
