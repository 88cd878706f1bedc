"""What every stream judge shares: violations recorded once per check, the content type, and lines read
into events by the project's one SSE reader, with framing errors named the same way for every endpoint.

`EventJudge` hands each event to `_event`; `ChunkJudge` is for the streams of JSON chunks ended by
`data: [DONE]` (chat completions, legacy completions) and hands each decoded chunk to `_chunk`.
"""

from __future__ import annotations

import json
from typing import Any

from conformance.checks.outcome import Violation, clip
from mockserver.contract.sse import Event, EventReader, Malformed


class EventJudge:
    FIELD_LINES = "SSE field lines (`data: ...`)"
    """What a malformed line should have been, as the framing violation says."""

    def __init__(self) -> None:
        self.violations: list[Violation] = []
        self._reader = EventReader()

    def _fail(self, check: str, expected: str, seen: Any) -> None:
        if all(v.check != check for v in self.violations):
            self.violations.append(Violation(check, expected, clip(seen)))

    def start(self, content_type: str | None) -> None:
        if (content_type or "").split(";", 1)[0].strip().lower() != "text/event-stream":
            self._fail("stream_content_type", "Content-Type: text/event-stream", content_type or "no Content-Type")

    def feed_line(self, line: str) -> None:
        self._take(self._reader.feed_line(line))

    def _take(self, found: Event | Malformed | None) -> None:
        if isinstance(found, Malformed):
            self._fail("stream_framing", self.FIELD_LINES, found.line)
        elif found is not None:
            self._event(found)

    def _event(self, event: Event) -> None:
        raise NotImplementedError

    def _end(self) -> None:
        """An event left unterminated at the end of the body is framing gone wrong, yet still read."""
        unterminated = self._reader.flush()
        if unterminated is not None:
            self._fail("stream_framing", "every event terminated by a blank line", "data at end of body")
            self._take(unterminated)

    def _decoded(self, event: Event) -> tuple[bool, Any]:
        """The event's JSON, or a framing violation (and False) when it holds none."""
        try:
            return True, json.loads(event.data)
        except (ValueError, RecursionError):
            self._fail("stream_framing", "a JSON object in every data field", event.data)
            return False, None


class ChunkJudge(EventJudge):
    def __init__(self) -> None:
        super().__init__()
        self._done = False

    def _event(self, event: Event) -> None:
        if self._done:
            self._fail("stream_nothing_after_done", "no events after [DONE]", event.data)
            return
        if event.done:
            self._done = True
            return
        decoded, chunk = self._decoded(event)
        if decoded:
            self._chunk(chunk)

    def _chunk(self, chunk: Any) -> None:
        raise NotImplementedError

    def _end_chunks(self, cut_short: str | None) -> None:
        self._end()
        if not self._done:
            self._fail("stream_done", "data: [DONE] at the end of the stream", cut_short or "the body ended without it")
