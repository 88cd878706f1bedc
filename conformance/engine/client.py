"""A small blocking HTTP client with a request budget: the only code that talks to the server.

The stdlib is enough here and keeps the suite's own behaviour easy to reason about: one request at a
time, streamed bodies read as they arrive straight into the stream state machine. A server under test
may be broken in any way, so every request has a total deadline (a watchdog hangs up when it passes,
however slowly the bytes drip), the client reads at most `MAX_BODY` bytes of any reply, sends
`Accept-Encoding: identity` and never inflates, and follows no redirect.
"""

from __future__ import annotations

import http.client
import json
import shlex
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from conformance.checks.outcome import clip
from conformance.checks.stream import StreamChecker, StreamResult
from mockserver.contract.profiles import DEFAULT_PROFILE, profile

MAX_BODY = 8 * 1024 * 1024
"""Bytes read of one reply at most; a chat completion this suite asks for is a few kilobytes."""
STRIKES = 3
"""Requests in a row without a complete reply after which the run stops: the server stopped answering."""
_KEPT_TEXT = 64 * 1024
_READ_SIZE = 64 * 1024


CHAT_PATH = "/chat/completions"


class Checker(Protocol):
    """A stream state machine: fed the content type, then each line as it arrives."""

    def start(self, content_type: str | None) -> None: ...

    def feed_line(self, line: str) -> None: ...

    def finish(self, cut_short: str | None = None) -> Any: ...


class BudgetExhausted(Exception):
    """The run reached `--max-requests`; no more requests are sent."""


class ServerUnreachable(Exception):
    """The server could not be connected to at all (a usage problem, not a conformance failure)."""


class ServerUnresponsive(Exception):
    """Several requests in a row got no complete reply: going on would only wait out more timeouts."""


@dataclass
class Reply:
    """One HTTP answer. `body` is the parsed JSON (None if it was not JSON); `stream` is set when the
    reply was read as an event stream; `problem` says why the reply is incomplete (no answer, the
    deadline, the size cap), and is None when it arrived whole."""

    status: int
    headers: dict[str, str]
    text: str = ""
    body: Any = None
    stream: StreamResult | None = None
    problem: str | None = None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


class _Cut(Exception):
    """Reading stopped early, for the reason given."""


def _hang_up(sockets: list[socket.socket]) -> None:
    """Shut the request's socket, which wakes a read blocked on it; the socket is held here because the
    connection object lets go of it once a reply says `Connection: close`."""
    for sock in sockets:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MiB"


@dataclass
class Client:
    base_url: str
    api_key: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 60.0
    """Seconds for a whole request, from connecting to the last byte."""
    max_requests: int = 400
    sent: int = 0
    max_body: int = MAX_BODY
    profile: str = DEFAULT_PROFILE
    """The compatibility profile the server is judged as: its key header, its schemas."""
    _strikes: int = field(default=0, init=False, repr=False)

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

    @property
    def key_header(self) -> str:
        return profile(self.profile).auth.header

    def _key_value(self, key: str) -> str:
        scheme = profile(self.profile).auth.scheme
        return f"{scheme} {key}" if scheme else key

    def _headers(self, auth: str | None) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        key = self.api_key if auth is None else auth
        if key:
            headers[self.key_header] = self._key_value(key)
        headers.update(self.headers)
        return headers

    def request(self, method: str, path: str, body: bytes | None = None, *, auth: str | None = None,
                stream_request: Mapping[str, Any] | None = None, omit_auth: bool = False,
                checker: Callable[[Mapping[str, Any]], Checker] | None = None) -> Reply:
        """Send one request within the budget. `auth` replaces the configured key ("" sends none when
        `omit_auth`); `stream_request` makes a 200 reply be read as an event stream for that request, by
        the state machine `checker` makes for it (by default the chat stream's, judged as the profile's).
        Raises `ServerUnresponsive` once `STRIKES` requests in a row got no complete reply."""
        if self.sent >= self.max_requests:
            raise BudgetExhausted(f"request budget of {self.max_requests} reached")
        self.sent += 1
        headers = self._headers(auth)
        if omit_auth:
            headers.pop(self.key_header, None)
        deadline = time.monotonic() + self.timeout
        connection = self._connection()
        sockets: list[socket.socket] = []
        watchdog = threading.Timer(self.timeout, _hang_up, (sockets,))
        watchdog.daemon = True
        watchdog.start()
        try:
            reply = self._exchange(connection, sockets, method, path, body, headers, stream_request, deadline,
                                   checker)
        except (ConnectionRefusedError, socket.gaierror) as exc:
            raise ServerUnreachable(f"cannot connect to {self.base_url}: {exc}") from exc
        finally:
            watchdog.cancel()
            connection.close()
        self._strikes = self._strikes + 1 if reply.problem is not None else 0
        if self._strikes >= STRIKES:
            raise ServerUnresponsive(f"{self._strikes} requests in a row got no complete reply from {self.base_url}; "
                                     f"the last: {reply.problem}")
        return reply

    def _late(self, deadline: float) -> bool:
        return time.monotonic() >= deadline - 0.01

    def _failure(self, exc: BaseException, deadline: float) -> str:
        if isinstance(exc, (TimeoutError, socket.timeout)) or self._late(deadline):
            return f"no complete reply within {self.timeout:g} s (timeout)"
        if isinstance(exc, http.client.RemoteDisconnected):
            return "the server closed the connection without a reply"
        if isinstance(exc, http.client.BadStatusLine):
            return f"a reply that is not HTTP, starting {clip(str(exc), 60)}"
        if isinstance(exc, ConnectionResetError):
            return "the server reset the connection"
        return f"the connection failed: {clip(repr(exc), 200)}"

    def _exchange(self, connection: http.client.HTTPConnection, sockets: list[socket.socket], method: str,
                  path: str, body: bytes | None, headers: dict[str, str], stream_request: Mapping[str, Any] | None,
                  deadline: float, checker: Callable[[Mapping[str, Any]], Checker] | None) -> Reply:
        try:
            connection.connect()
            sockets.append(connection.sock)
            connection.request(method, self._path + path, body=body, headers=headers)
            response = connection.getresponse()
        except (ConnectionRefusedError, socket.gaierror):
            raise
        except (http.client.HTTPException, OSError) as exc:
            return Reply(0, {}, problem=self._failure(exc, deadline))
        reply_headers = {k.lower(): v for k, v in response.getheaders()}
        if stream_request is not None and response.status == 200:
            machine = checker(stream_request) if checker is not None else StreamChecker(stream_request, self.profile)
            return self._read_stream(response, reply_headers, machine, deadline)
        data = bytearray()
        problem = None
        try:
            for piece in self._pieces(response, deadline):
                data += piece
        except _Cut as cut:
            problem = str(cut)
        text = data.decode("utf-8", "replace")
        return Reply(response.status, reply_headers, text[:_KEPT_TEXT],
                     _json_or_none(text) if problem is None else None, problem=problem)

    def _pieces(self, response: http.client.HTTPResponse, deadline: float) -> Any:
        """The body as it arrives, until it ends; raises `_Cut` at the deadline, at the size cap or when
        the connection drops."""
        size = 0
        while True:
            try:
                piece = response.read1(_READ_SIZE)
            except (http.client.HTTPException, OSError) as exc:
                raise _Cut(self._failure(exc, deadline)) from None
            if not piece:
                if self._late(deadline):
                    raise _Cut(f"no complete reply within {self.timeout:g} s (timeout)")
                return
            size += len(piece)
            if size > self.max_body:
                raise _Cut(f"a reply larger than {_megabytes(self.max_body)}; the client stopped reading there")
            yield piece

    def _read_stream(self, response: http.client.HTTPResponse, headers: dict[str, str], checker: Checker,
                     deadline: float) -> Reply:
        checker.start(headers.get("content-type"))
        kept = bytearray()
        pending = bytearray()
        problem = None
        try:
            for piece in self._pieces(response, deadline):
                if len(kept) < _KEPT_TEXT:
                    kept += piece[:_KEPT_TEXT - len(kept)]
                pending += piece
                if b"\n" in piece:
                    *lines, rest = pending.split(b"\n")
                    pending = bytearray(rest)
                    for line in lines:
                        checker.feed_line(line.decode("utf-8", "replace"))
        except _Cut as cut:
            problem = str(cut)
        if pending:
            checker.feed_line(pending.decode("utf-8", "replace"))
        text = kept.decode("utf-8", "replace")
        return Reply(200, headers, text, stream=checker.finish(cut_short=problem), problem=problem)

    def post_json(self, payload: Any, path: str = CHAT_PATH, **options: Any) -> Reply:
        stream = payload if isinstance(payload, dict) and payload.get("stream") is True else None
        return self.request("POST", path, json.dumps(payload).encode(), stream_request=stream, **options)

    def post_raw(self, raw: bytes, path: str = CHAT_PATH, **options: Any) -> Reply:
        return self.request("POST", path, raw, **options)

    def curl(self, payload: Any, raw: bytes | None = None, path: str = CHAT_PATH) -> str:
        """A ready-to-run command that reproduces a request (the key stays in the environment)."""
        data = raw.decode("utf-8", "replace") if raw is not None else json.dumps(payload, separators=(",", ":"))
        parts = ["curl", "-sS"]
        if isinstance(payload, dict) and payload.get("stream") is True:
            parts.append("-N")
        parts += [self.base_url.rstrip("/") + path, "-H", "Content-Type: application/json"]
        if self.api_key:
            parts += ["-H", f"{self.key_header}: {self._key_value('$OPENAI_API_KEY')}"]
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
    except (ValueError, RecursionError):
        return None
