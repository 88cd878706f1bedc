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
    exchange: str = ""
    """The start of the reply that showed it, as received; the engine fills it in."""


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


def fail(check: str, expected: str, seen: Any) -> CheckFailed:
    """The failure of `check`, with what was seen clipped for reading."""
    return CheckFailed(check, expected, clip(seen))


def seen_status(status: int) -> str:
    """How a status is reported; 0 stands for no HTTP reply at all."""
    return "no reply (timeout or dropped connection)" if status == 0 else f"status {status}"


def _printable(text: str) -> str:
    """Control characters escaped: what a server sent ends up on terminals and in reports."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def clip(value: object, limit: int = 300) -> str:
    """A short printable form of what was seen, for reports that people read."""
    text = value if isinstance(value, str) else repr(value)
    return _printable(text if len(text) <= limit else text[: limit - 3] + "...")
