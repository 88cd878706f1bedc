"""How much work one request may ask the mock to do for its schemas and patterns.

A schema or a regular expression can ask for unbounded work: recursion that branches at every level,
`allOf` lists that multiply, nested repetitions, a `not` that rejects almost everything, a pattern that
makes a backtracking matcher run for minutes. The mock serves every client from one event loop, so one
such request would stall all the others. Work is counted in steps (a value drawn, a keyword checked, a
regex node walked, a schema node read), not in seconds, so the same request always ends the same way on
any machine: served, or refused with a 400 that names the place in the schema where the budget ran out.

Matching a candidate string against a client's pattern is the one piece of work that cannot be counted
from outside the matcher; it runs under a time limit instead (`MATCH_SECONDS`), far above what any
ordinary pattern takes, so only pathological backtracking reaches it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

REQUEST_STEPS = 250_000
"""Steps one request's schema checks may take (and, separately, its reply's generation). A step is
about a microsecond of one core (costlier work is charged several steps), so a request that runs out
has held a core for about a quarter of a second."""
PLAN_STEPS = 25_000
"""Steps one reply may spend drawing tool arguments and structured content, all choices together; past
them, values are the witnesses validation found. Realistic schemas take a few hundred to a thousand
steps per value, so replies keep their variety, while planning stays within milliseconds."""
MATCH_SECONDS = 0.05
"""Time one regular-expression match against a candidate may take."""


class BudgetExceeded(Exception):
    """The request asks for more work than the mock spends on one request."""

    def __init__(self, limit: int, path: Sequence[Any] | None = None) -> None:
        super().__init__(f"this needs more than the {limit:,} steps of work the mock spends on one request")
        self.limit = limit
        self.path = None if path is None else tuple(path)
        """Where in the schema the budget ran out; None where there is no schema (a bare pattern)."""

    def at(self, path: Sequence[Any]) -> BudgetExceeded:
        """The same exhaustion, located at `path` when it was not located yet."""
        return self if self.path is not None else BudgetExceeded(self.limit, path)

    @property
    def pointer(self) -> str:
        path = self.path or ()
        shown = path if len(path) <= 12 else (*path[:12], "...")
        return "#" + "".join(f"/{part}" for part in shown)

    def __str__(self) -> str:
        return self.args[0] if self.path is None else f"{self.args[0]} (at {self.pointer})"


class Budget:
    """Steps left for one request; every piece of schema-driven work spends from it."""

    __slots__ = ("limit", "spent")

    def __init__(self, limit: int = REQUEST_STEPS) -> None:
        self.limit = limit
        self.spent = 0

    def spend(self, steps: int = 1, path: Sequence[Any] | None = None) -> None:
        self.spent += steps
        if self.spent > self.limit:
            raise BudgetExceeded(self.limit, path)

    @property
    def left(self) -> int:
        return max(0, self.limit - self.spent)
