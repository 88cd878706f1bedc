"""Server-sent events, written and read in one place: the mock's streams, cassettes and the suite.

Writing: one `data:` line per event (JSON never holds a raw newline), an optional `event:` name (the
Responses API types its events), a blank line after each. Reading follows the SSE specification's
field rules (`data` lines joined by newlines, comments ignored, `\\r\\n` accepted), line by line, so
a reader can judge a stream that never ends as far as it got.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

CONTENT_TYPE = "text/event-stream; charset=utf-8"
DONE = "[DONE]"
DONE_EVENT = b"data: [DONE]\n\n"
FIELDS = ("data", "event", "id", "retry")


def encode_event(payload: Any, event: str | None = None) -> bytes:
    """One event: `data: <JSON>` (after `event: <name>` when named) and the blank line."""
    head = b"event: " + event.encode() + b"\n" if event else b""
    return head + b"data: " + orjson.dumps(payload) + b"\n\n"


def encode_stream(payloads: Iterable[Any], done: bool = True) -> list[bytes]:
    events = [encode_event(payload) for payload in payloads]
    if done:
        events.append(DONE_EVENT)
    return events


@dataclass(frozen=True, slots=True)
class Event:
    data: str
    event: str | None = None

    @property
    def done(self) -> bool:
        return self.data.strip() == DONE

    def json(self) -> Any:
        return orjson.loads(self.data)


@dataclass(frozen=True, slots=True)
class Malformed:
    """A line that is not an SSE field: a framing error the reader reports and skips."""

    line: str


class EventReader:
    """Feed lines as they arrive; each call returns what the line completed (an event, a malformed
    line) or None."""

    def __init__(self) -> None:
        self._data: list[str] | None = None
        self._event: str | None = None

    def feed_line(self, line: str) -> Event | Malformed | None:
        line = line.rstrip("\r\n")
        if not line:
            return self.flush()
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if not colon or name not in FIELDS:
            return Malformed(line)
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            self._data = (self._data or []) + [value]
        elif name == "event":
            self._event = value
        return None

    def flush(self) -> Event | None:
        """The event gathered so far, at a blank line (or at the end of the body)."""
        if self._data is None:
            self._event = None
            return None
        event = Event("\n".join(self._data), self._event)
        self._data, self._event = None, None
        return event


def read_events(body: bytes | str) -> Iterator[Event | Malformed]:
    """Every event of a whole body, in order."""
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    reader = EventReader()
    for line in text.splitlines():
        found = reader.feed_line(line)
        if found is not None:
            yield found
    last = reader.flush()
    if last is not None:
        yield last


def split_events(buffer: bytes) -> tuple[list[str], bytes]:
    """The complete raw events in `buffer` (each without its blank line) and the incomplete rest, for
    relaying a stream event by event as it arrives."""
    normalised = buffer.replace(b"\r\n", b"\n")
    *complete, rest = normalised.split(b"\n\n")
    return [event.decode("utf-8") for event in complete if event.strip()], rest
