"""The numbers a server gives its requests in turn: arrivals (for `x-request-id`) and decisions (for
completion ids and chaos rolls).

One process counts in its own memory. Worker processes serving one port (`mockserver --workers N`) draw
from one count in shared memory instead, so N workers number a run's requests exactly as one process
would, and their replies are the same bytes.
"""

from __future__ import annotations

import multiprocessing
from typing import Protocol


class Counters(Protocol):
    def arrive(self) -> int:
        """The next arrival number, from 1."""

    def decide(self) -> int:
        """The next decision's sequence number, from 0."""


class SharedCounters:
    """Counters in memory shared with the processes forked after it is made; a lock makes each draw atomic
    (a draw costs about a microsecond, against tens for a request)."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("fork")
        self._values = context.RawArray("q", 2)
        self._lock = context.Lock()

    def _draw(self, slot: int) -> int:
        with self._lock:
            self._values[slot] += 1
            return self._values[slot]

    def arrive(self) -> int:
        return self._draw(0)

    def decide(self) -> int:
        return self._draw(1) - 1
