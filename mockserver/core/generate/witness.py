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

import functools
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


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _cached_instance(canonical: bytes) -> Outcome:
    value, error, spent = _outcome(_find_instance, canonical)
    return (orjson.dumps(value) if error is None else None), error, spent


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _cached_string(pattern: str) -> Outcome:
    return _outcome(_find_string, pattern)


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
    return orjson.loads(_charged(_cached_instance(canonical), budget))


def string(pattern: str, budget: Budget | None = None) -> str:
    """A string `re.search(pattern, ...)` accepts; raises `PatternError` when none can be made, or
    `BudgetExceeded` when finding one takes more than `budget` has left."""
    budget = budget or Budget()
    if len(pattern) > _CACHED_BYTES:
        return _find_string(pattern, budget)
    return _charged(_cached_string(pattern), budget)
