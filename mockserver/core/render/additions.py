"""Fields a gateway adds to whatever an endpoint wrote, and the text it reads back out of it.

A gateway in front of a model adds to the model's reply without knowing which endpoint wrote it (a
cache's `cached` flag, a guardrail proxy's detections), and judges the text the reply carries. Working on
the written reply, a non-streamed body or a stream's events, lets one gateway serve every endpoint it
routes to. Only gateway profiles pay for the extra parse.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from mockserver.contract.sse import DONE_EVENT, encode_event, read_events


def with_fields(body: bytes, fields: Mapping[str, Any]) -> bytes:
    """A JSON object's bytes with more top-level fields (a field it has is given the new value)."""
    return orjson.dumps({**orjson.loads(body), **fields})


def stream_with_fields(events: Sequence[bytes], fields: Mapping[str, Any]) -> list[bytes]:
    """The stream with the fields on its last chunk, the one right before `[DONE]`."""
    last = max((i for i, event in enumerate(events) if event != DONE_EVENT and event.startswith(b"data: {")),
               default=None)
    if last is None:
        return list(events)
    (event,) = list(read_events(events[last]))
    return [*events[:last], encode_event({**event.json(), **fields}), *events[last + 1:]]


def _choice_text(choice: Mapping[str, Any], key: str) -> str:
    part = choice.get(key)
    if isinstance(part, Mapping):
        return part.get("content") or ""
    return choice.get("text") or ""


def reply_text(rendered: bytes | Sequence[bytes]) -> str:
    """The text the reply's choices carry, the choices one after another: a message's content or a text
    completion's text, or their deltas gathered from a stream."""
    if isinstance(rendered, bytes):
        body = orjson.loads(rendered)
        return "\n".join(_choice_text(choice, "message") for choice in body.get("choices") or ())
    parts: dict[int, list[str]] = {}
    for raw in rendered:
        for event in read_events(raw):
            if getattr(event, "done", True):
                continue
            for choice in event.json().get("choices") or ():
                parts.setdefault(choice.get("index", 0), []).append(_choice_text(choice, "delta"))
    return "\n".join("".join(parts[index]) for index in sorted(parts))
