"""The request journal: what each request sent and what it got, for assertions in tests.

Entries are plain frozen data; secrets in headers are redacted when the entry is made, so neither the
admin API nor a test report can leak them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "api-key", "x-api-key", "cookie",
                            "openai-organization", "openai-project"})
REDACTED = "[redacted]"


def redact(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Header names lowercased; secret values replaced, keeping an Authorization scheme readable."""
    out: dict[str, str] = {}
    for name, value in headers:
        lowered = name.lower()
        if lowered in SECRET_HEADERS:
            scheme, _, rest = value.partition(" ")
            value = f"{scheme} {REDACTED}" if rest and lowered.endswith("authorization") else REDACTED
        out[lowered] = value
    return out


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


class Journal:
    """The newest `capacity` entries, oldest first."""

    def __init__(self, capacity: int) -> None:
        self._entries: deque[Entry] = deque(maxlen=capacity)

    def add(self, entry: Entry) -> None:
        self._entries.append(entry)

    def entries(self) -> list[Entry]:
        return list(self._entries)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
