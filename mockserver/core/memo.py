"""A bounded memo for work that is a pure function of a request's bytes.

Validating a body, counting its prompt and planning its reply depend on the body and the server's
settings alone, so a load test or an agent that sends the same body again can be answered from what the
first one worked out, with the parts that belong to each request (ids, `created`, the controls' say)
made afresh. The memo keeps the newest entries within a count and a total of key bytes, so a stream of
distinct bodies holds bounded memory.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

Value = TypeVar("Value")

ENTRIES = 1024
KEY_BYTES = 4 * 1024 * 1024
LARGEST_KEY = 16 * 1024
"""Bodies longer than this are never kept: they are rare in a load test and would crowd out the rest."""


class Memo(Generic[Value]):
    """Least recently used first out, by entry count and by the bytes of the keys (request bodies)."""

    __slots__ = ("_entries", "_held", "_key_bytes", "_limit")

    def __init__(self, entries: int = ENTRIES, key_bytes: int = KEY_BYTES) -> None:
        # An OrderedDict drops its oldest entry in constant time; a plain dict's first entry is found by
        # walking past the slots of every entry deleted before it, which a stream of distinct bodies piles up.
        self._entries: OrderedDict[bytes, Value] = OrderedDict()
        self._limit = entries
        self._key_bytes = key_bytes
        self._held = 0

    def get(self, key: bytes) -> Value | None:
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: bytes, value: Value) -> None:
        if len(key) > LARGEST_KEY or self._limit == 0:
            return
        entries = self._entries
        if entries.pop(key, None) is None:
            self._held += len(key)
        entries[key] = value
        while len(entries) > self._limit or self._held > self._key_bytes:
            oldest, _ = entries.popitem(last=False)
            self._held -= len(oldest)
