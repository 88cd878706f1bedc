"""A small blocking HTTP client with a request budget: the only code that talks to the server.

The stdlib is enough here and keeps the suite's own behaviour easy to reason about: one request at a
time, a timeout on each, streamed bodies read line by line straight into the stream state machine.
"""

from __future__ import annotations

import http.client
import json
import shlex
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .stream_checker import StreamChecker, StreamResult

_MAX_TEXT = 64 * 1024


class BudgetExhausted(Exception):
    """The run reached `--max-requests`; no more requests are sent."""


class ServerUnreachable(Exception):
    """The server could not be connected to at all (a usage problem, not a conformance failure)."""


@dataclass
class Reply:
    """One HTTP answer. `body` is the parsed JSON (None if it was not JSON); `stream` is set when the
    reply was read as an event stream."""

    status: int
    headers: dict[str, str]
    text: str = ""
    body: Any = None
    stream: StreamResult | None = None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


@dataclass
class Client:
    base_url: str
    api_key: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 60.0
    max_requests: int = 400
    sent: int = 0

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"--base-url must be an http(s) URL, got {self.base_url!r}")
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._path = parts.path

    @property
    def completions_url(self) -> str:
        return self.base_url.rstrip("/") + "/chat/completions"

    def _connection(self) -> http.client.HTTPConnection:
        kind = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
        return kind(self._host, self._port, timeout=self.timeout)

    def _headers(self, auth: str | None) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        key = self.api_key if auth is None else auth
        if key:
            headers["Authorization"] = f"Bearer {key}"
        headers.update(self.headers)
        return headers

    def request(self, method: str, path: str, body: bytes | None = None, *, auth: str | None = None,
                stream_request: Mapping[str, Any] | None = None, omit_auth: bool = False) -> Reply:
        """Send one request within the budget. `auth` replaces the configured key ("" sends none when
        `omit_auth`); `stream_request` makes a 200 reply be read as an event stream for that request."""
        if self.sent >= self.max_requests:
            raise BudgetExhausted(f"request budget of {self.max_requests} reached")
        self.sent += 1
        headers = self._headers(auth)
        if omit_auth:
            headers.pop("Authorization", None)
        connection = self._connection()
        try:
            connection.request(method, self._path + path, body=body, headers=headers)
            response = connection.getresponse()
            reply_headers = {k.lower(): v for k, v in response.getheaders()}
            if stream_request is not None and response.status == 200:
                return self._read_stream(response, reply_headers, stream_request)
            text = response.read(_MAX_TEXT).decode("utf-8", "replace")
            return Reply(response.status, reply_headers, text, _json_or_none(text))
        except (ConnectionRefusedError, socket.gaierror) as exc:
            raise ServerUnreachable(f"cannot connect to {self.base_url}: {exc}") from exc
        except (TimeoutError, socket.timeout):
            return Reply(0, {}, f"no complete reply within {self.timeout:g} s")
        except (http.client.HTTPException, OSError) as exc:
            return Reply(0, {}, f"connection failed mid-request: {exc!r}")
        finally:
            connection.close()

    def _read_stream(self, response: http.client.HTTPResponse, headers: dict[str, str],
                     request: Mapping[str, Any]) -> Reply:
        checker = StreamChecker(request)
        checker.start(headers.get("content-type"))
        kept: list[str] = []
        size = 0
        try:
            for raw in iter(response.readline, b""):
                line = raw.decode("utf-8", "replace")
                if size < _MAX_TEXT:
                    kept.append(line)
                    size += len(line)
                checker.feed_line(line)
        except (TimeoutError, socket.timeout):
            result = checker.finish(cut_short=f"no more data for {self.timeout:g} s (timeout)")
            return Reply(200, headers, "".join(kept), stream=result)
        return Reply(200, headers, "".join(kept), stream=checker.finish())

    def post_json(self, payload: Any, **options: Any) -> Reply:
        stream = payload if isinstance(payload, dict) and payload.get("stream") is True else None
        return self.request("POST", "/chat/completions", json.dumps(payload).encode(), stream_request=stream,
                            **options)

    def post_raw(self, raw: bytes, **options: Any) -> Reply:
        return self.request("POST", "/chat/completions", raw, **options)

    def curl(self, payload: Any, raw: bytes | None = None) -> str:
        """A ready-to-run command that reproduces a request (the key stays in the environment)."""
        data = raw.decode("utf-8", "replace") if raw is not None else json.dumps(payload, separators=(",", ":"))
        parts = ["curl", "-sS"]
        if isinstance(payload, dict) and payload.get("stream") is True:
            parts.append("-N")
        parts += [self.completions_url, "-H", "Content-Type: application/json"]
        if self.api_key:
            parts += ["-H", "Authorization: Bearer $OPENAI_API_KEY"]
        for name, value in self.headers.items():
            parts += ["-H", f"{name}: {value}"]
        parts += ["-d", data]
        return " ".join(_quote(part) for part in parts)


def _quote(part: str) -> str:
    if "$OPENAI_API_KEY" in part:
        return '"' + part.replace('"', '\\"') + '"'
    return shlex.quote(part)


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
