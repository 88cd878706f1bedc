"""The tests' one HTTP helper: raw requests where every byte matters (no client library in between), JSON
posts to the API, and the SSE reader for streamed bodies."""

from __future__ import annotations

import functools
import http.client
import json
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jsonschema

from mockserver.contract.profiles import reply_schema
from mockserver.contract.sse import Event, read_events

CHAT = "/v1/chat/completions"
USER_TEXT = "Say something."
PLAIN = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": USER_TEXT}]}


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    raw: bytes

    def json(self) -> Any:
        return json.loads(self.raw)


@functools.cache
def validator(name: str, profile: str = "openai") -> jsonschema.Draft202012Validator:
    """One compiled validator per contract schema, as a profile's server keeps it (`jsonschema.validate`
    would re-check the schema itself on every call)."""
    return jsonschema.Draft202012Validator(reply_schema(profile, name))


def send(url: str, method: str, path: str, data: bytes | Iterable[bytes] | None = None,
         headers: dict[str, str] | None = None) -> Reply:
    """An iterable `data` is sent with chunked transfer encoding (no Content-Length)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request(method, path, body=data, headers=headers or {},
                           encode_chunked=data is not None and not isinstance(data, bytes))
        response = connection.getresponse()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()


def post_raw(url: str, data: bytes, content_type: str | None = "application/json",
             path: str = CHAT, headers: dict[str, str] | None = None) -> Reply:
    sent = dict(headers or {})
    if content_type is not None:
        sent["Content-Type"] = content_type
    return send(url, "POST", path, data, sent)


def post(url: str, body: Any, headers: dict[str, str] | None = None) -> Reply:
    """`url` is the server root (`MockServer.url`), so tests name the exact route they exercise."""
    return post_raw(url, json.dumps(body).encode(), headers=headers)


def chat(url: str, **fields: Any) -> Reply:
    """The plain request with `fields` added or replaced."""
    return post(url, {**PLAIN, **fields})


def assert_error(reply: Reply, status: int = 400, param: Any = ..., code: Any = ...) -> dict[str, Any]:
    """The reply is an OpenAI error envelope with this status (and param/code when given)."""
    assert reply.status == status, (reply.status, reply.raw[:500])
    assert reply.headers.get("content-type", "").startswith("application/json")
    envelope = reply.json()
    validator("error").validate(envelope)
    error = envelope["error"]
    if param is not ...:
        assert error["param"] == param, error
    if code is not ...:
        assert error["code"] == code, error
    return error


def assert_completion(reply: Reply) -> dict[str, Any]:
    """The reply is a 200 chat.completion that satisfies the response schema."""
    assert reply.status == 200, (reply.status, reply.raw[:500])
    body = reply.json()
    validator("chat_completion").validate(body)
    return body


def raw_post(port: int, body: Any, headers: dict[str, str]) -> tuple[int, bytes]:
    """Status and whatever body bytes arrived before the server ended or dropped the connection, for
    replies that are cut or spoiled on purpose."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("POST", "/v1/chat/completions", json.dumps(body),
                       {"Content-Type": "application/json", **headers})
    response = connection.getresponse()
    try:
        data = response.read()
    except http.client.IncompleteRead as partial:
        data = partial.partial
    connection.close()
    return response.status, data


def exchange(port: int, data: bytes, timeout: float = 10) -> Reply | None:
    """Writes `data` to a fresh connection as it is (no client library to tidy it up) and reads one
    response; None when nothing arrives within `timeout` (a request the server is still waiting on)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        try:
            connection.sendall(data)
        except OSError:
            pass  # the server may close on the first bad line while the rest is still being written
        received = b""
        while True:
            try:
                block = connection.recv(65536)
            except TimeoutError:
                return None
            except ConnectionResetError:
                break
            if not block:
                break
            received += block
            while received.startswith(b"HTTP/1.1 100 ") and b"\r\n\r\n" in received:
                received = received.partition(b"\r\n\r\n")[2]  # an interim 100 Continue
            head, separator, body = received.partition(b"\r\n\r\n")
            lengths = [int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")[1:]
                       if line.lower().startswith(b"content-length:")]
            if separator and lengths and len(body) >= lengths[0]:
                break
    assert received, "the server closed the connection without answering"
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    return Reply(int(lines[0].split()[1]), headers, body)


def api_post(base_url: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """Status and JSON of a chat completion posted under `base_url` (what a client takes: `.../v1`)."""
    parts = urlsplit(base_url)
    reply = post_raw(f"{parts.scheme}://{parts.netloc}", json.dumps(body).encode(),
                     path=parts.path + "/chat/completions", headers=headers)
    return reply.status, reply.json()


def ok(base_url: str, body: Any, headers: dict[str, str] | None = None, profile: str = "openai") -> dict[str, Any]:
    """The reply to a request that must succeed, checked against the response schema as the profile keeps it."""
    status, reply = api_post(base_url, body, headers)
    assert status == 200, reply
    validator("chat_completion", profile).validate(reply)
    return reply


def events(raw: bytes) -> list[Any]:
    """A streamed body's events as JSON (the `[DONE]` sentinel as the string itself), via the project's
    one SSE reader."""
    return [event.data if event.done else event.json() for event in read_events(raw)
            if isinstance(event, Event)]
