"""The request journal: what each request sent and what it got, for assertions in tests.

Serving a request only notes raw facts (the header and URL objects aiohttp already made, the body
bytes it already read); the `Entry` a reader sees, with secrets redacted and the body parsed, is made
from them when the journal is read. Tests read the journal a few times while a load test fills it
thousands of times, so the work belongs on the reading side. Redaction happens before any entry
leaves this module, so neither the admin API nor a test report can leak a secret.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import orjson
from yarl import URL

SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "api-key", "x-api-key", "apikey", "cookie",
                            "openai-organization", "openai-project"})
REDACTED = "[redacted]"


def redact(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Header names lowercased; secret values replaced, keeping an Authorization scheme readable. Bytes
    that were not UTF-8 (aiohttp keeps them as surrogate escapes) become backslash escapes, so an entry
    can always be written as JSON."""
    out: dict[str, str] = {}
    for name, value in headers:
        lowered = name.lower()
        if not value.isascii():
            value = value.encode("utf-8", "backslashreplace").decode("utf-8")
        if lowered in SECRET_HEADERS:
            scheme, _, rest = value.partition(" ")
            value = f"{scheme} {REDACTED}" if rest and lowered.endswith("authorization") else REDACTED
        out[lowered] = value
    return out


def parse_body(raw: bytes | None) -> Any:
    """JSON when the body is JSON, its text when it is not, None when there was none."""
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw.decode("utf-8", errors="replace")


@dataclass(frozen=True, slots=True)
class Entry:
    number: int
    request_id: str
    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: Any
    rule: str | None
    status: int
    duration_ms: float

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class Arrival(NamedTuple):
    """One served request as noted on the hot path (a tuple: the cheapest record Python builds);
    `entry()` turns it into what readers see."""

    number: int
    request_id: str
    method: str
    url: URL
    headers: Mapping[str, str]
    """aiohttp's request headers, an immutable view, so holding them costs no copy."""
    body: bytes | None
    rule: str | None
    status: int
    duration_ms: float

    def entry(self) -> Entry:
        return Entry(number=self.number, request_id=self.request_id, method=self.method, path=self.url.path,
                     query=dict(self.url.query), headers=redact(self.headers.items()), body=parse_body(self.body),
                     rule=self.rule, status=self.status, duration_ms=self.duration_ms)


BODY_BYTES = 64 * 1024 * 1024
"""Request bodies the journal keeps in all; past it, the oldest entries lose their body (shown as null)."""


class Journal:
    """The newest `capacity` requests, oldest first, holding at most `body_bytes` of their bodies."""

    def __init__(self, capacity: int, body_bytes: int = BODY_BYTES) -> None:
        self._arrivals: deque[Arrival] = deque(maxlen=capacity)
        self._body_bytes = body_bytes
        self._held = 0
        self._first_with_body = 0
        """Entries before this index have had their bodies dropped."""

    def add(self, arrival: Arrival) -> None:
        arrivals = self._arrivals
        if len(arrivals) == arrivals.maxlen:
            self._held -= len(arrivals[0].body or b"")
            self._first_with_body = max(0, self._first_with_body - 1)
        arrivals.append(arrival)
        self._held += len(arrival.body or b"")
        while self._held > self._body_bytes and self._first_with_body < len(arrivals):
            oldest = arrivals[self._first_with_body]
            self._held -= len(oldest.body or b"")
            arrivals[self._first_with_body] = oldest._replace(body=None)
            self._first_with_body += 1

    def entries(self) -> list[Entry]:
        return [arrival.entry() for arrival in self._arrivals]

    def clear(self) -> None:
        self._arrivals.clear()
        self._held = self._first_with_body = 0

    def __len__(self) -> int:
        return len(self._arrivals)
