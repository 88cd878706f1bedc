"""Witnesses: one value per schema or pattern, proven to exist before any reply is planned.

Validation asks for a witness of every schema and pattern a request carries; a schema without one gets
the real API's 400 there, before scenario rules or the generator see the request. The generator draws
its own seeded values first and falls back to the witness when its draw cannot be completed (a random
branch may pick an optional property whose schema accepts nothing, grow past the size cap, or run out
of budget), so planning a validated request never fails. A witness takes the smallest way through the
schema from a fixed source, so it is the same for the same schema, and it is cached: clients resend the
same tools and formats on every turn.

Finding a witness costs steps from the request's `Budget`. A cached witness charges what it cost to
find, so whether a request fits its budget never depends on what earlier requests left in the cache.
Only small schemas and patterns are cached, so the cache holds at most a few megabytes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import orjson

from mockserver.core.generate.budget import REQUEST_STEPS, Budget, BudgetExceeded
from mockserver.core.generate.instances import UnsatisfiableSchema, generate
from mockserver.core.generate.patterns import PatternError, matching_string
from mockserver.core.generate.seeding import DigestRandom

_SOURCE = b"witness"
_CACHE_SIZE = 1024
_CACHED_BYTES = 16 * 1024
"""Schemas (as canonical JSON) and patterns longer than this are worked out afresh each time."""

Outcome = tuple[Any, Exception | None, int]
"""A witness (or the error saying why there is none) and the steps it took to find out."""


def _find_instance(canonical: bytes, budget: Budget) -> Any:
    return generate(orjson.loads(canonical), DigestRandom(_SOURCE), soft_depth=0, budget=budget)


def _find_string(pattern: str, budget: Budget) -> str:
    return matching_string(pattern, DigestRandom(_SOURCE), budget=budget)


def _outcome(find: Any, key: Any) -> Outcome:
    budget = Budget(REQUEST_STEPS)
    try:
        return find(key, budget), None, budget.spent
    except (UnsatisfiableSchema, PatternError, BudgetExceeded) as exc:
        return None, exc, budget.spent


class _Outcomes:
    """The most recently used outcomes, shared by the event loop and the worker thread; unlike
    `functools.lru_cache`, it tells whether a key is there without working it out."""

    def __init__(self, size: int) -> None:
        self._items: OrderedDict[Any, Outcome] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def __contains__(self, key: Any) -> bool:
        with self._lock:
            return key in self._items

    def get(self, key: Any, find: Any) -> Outcome:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        found = find(key)
        with self._lock:
            self._items[key] = found
            if len(self._items) > self._size:
                self._items.popitem(last=False)
        return found


_INSTANCES = _Outcomes(_CACHE_SIZE)
_STRINGS = _Outcomes(_CACHE_SIZE)


def _instance_outcome(canonical: bytes) -> Outcome:
    value, error, spent = _outcome(_find_instance, canonical)
    return (orjson.dumps(value) if error is None else None), error, spent


def _string_outcome(pattern: str) -> Outcome:
    return _outcome(_find_string, pattern)


def known(schema: Any) -> bool:
    """Whether `schema`'s witness is at hand, so asking for it again costs next to nothing."""
    try:
        canonical = orjson.dumps(schema, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return False
    return len(canonical) <= _CACHED_BYTES and canonical in _INSTANCES


def known_string(pattern: str) -> bool:
    """Whether `pattern`'s witness is at hand."""
    return len(pattern) <= _CACHED_BYTES and pattern in _STRINGS


def _charged(outcome: Outcome, budget: Budget) -> Any:
    value, error, spent = outcome
    try:
        budget.spend(spent)
    except BudgetExceeded as exc:
        raise (error if isinstance(error, BudgetExceeded) else exc).with_traceback(None) from None
    if error is not None:
        raise error.with_traceback(None)
    return value


def instance(schema: Any, budget: Budget | None = None) -> Any:
    """A value valid against `schema`; raises `UnsatisfiableSchema` when there is none to be had, or
    `BudgetExceeded` when finding one takes more than `budget` has left."""
    budget = budget or Budget()
    canonical = orjson.dumps(schema, option=orjson.OPT_SORT_KEYS)
    if len(canonical) > _CACHED_BYTES:
        return _find_instance(canonical, budget)
    return orjson.loads(_charged(_INSTANCES.get(canonical, _instance_outcome), budget))


def string(pattern: str, budget: Budget | None = None) -> str:
    """A string `re.search(pattern, ...)` accepts; raises `PatternError` when none can be made, or
    `BudgetExceeded` when finding one takes more than `budget` has left."""
    budget = budget or Budget()
    if len(pattern) > _CACHED_BYTES:
        return _find_string(pattern, budget)
    return _charged(_STRINGS.get(pattern, _string_outcome), budget)
