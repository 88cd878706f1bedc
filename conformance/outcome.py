"""What a check produces: a violation says what the contract expected and what the server did."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Violation:
    check: str
    expected: str
    seen: str
    request: Any = None
    """The request that showed it, when it is not the example itself (the streamed twin of a request)."""


class CheckFailed(AssertionError):
    """Raised by a check; an AssertionError so the checks read naturally inside anyone's pytest tests."""

    def __init__(self, check: str, expected: str, seen: str) -> None:
        super().__init__(f"{check}: expected {expected}; seen {seen}")
        self.violation = Violation(check, expected, seen)


@functools.cache
def failure_type(check: str) -> type[CheckFailed]:
    """One exception class per check, so Hypothesis treats each check's failure as a distinct bug and
    shrinks a minimal request for every one of them instead of only the first it meets."""
    return type(f"CheckFailed[{check}]", (CheckFailed,), {})


def clip(value: object, limit: int = 300) -> str:
    """A short printable form of what was seen, for reports that people read."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
