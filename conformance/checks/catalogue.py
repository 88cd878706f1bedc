"""The list of checks: every rule the suite judges, by name, with the area of the contract it belongs to.

Streaming rules are judged inside the stream state machine; every other check is a function that
registers itself here, so reports, the pytest plugin and the runner all read one list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from conformance.checks.stream import STREAM_RULES

Check = Callable[..., bool]


@dataclass(frozen=True, slots=True)
class CheckInfo:
    name: str
    area: str
    doc: str
    on_stream: bool
    function: Check | None = None
    """None for the streaming rules, which the stream state machine applies."""
    profiles: tuple[str, ...] | None = None
    """The compatibility profiles whose runs judge it; None: every run."""

    def judged_under(self, profile: str) -> bool:
        return self.profiles is None or profile in self.profiles


CATALOGUE: dict[str, CheckInfo] = {
    name: CheckInfo(name, "streaming", doc, True) for name, doc in STREAM_RULES.items()
}


def register(area: str, on_stream: bool = True, profiles: tuple[str, ...] | None = None) -> Callable[[Check], Check]:
    """Enter a check function in the catalogue under its own name, described by its docstring's first
    paragraph; `profiles` limits it to runs under those compatibility profiles."""
    def wrap(function: Check) -> Check:
        doc = " ".join((function.__doc__ or "").strip().split("\n\n")[0].split())
        CATALOGUE[function.__name__] = CheckInfo(function.__name__, area, doc, on_stream, function, profiles)
        return function
    return wrap
