"""Witnesses: one value per schema or pattern, proven to exist before any reply is planned.

Validation asks for a witness of every schema and pattern a request carries; a schema without one gets
the real API's 400 there, before scenario rules or the generator see the request. The generator draws
its own seeded values first and falls back to the witness when its draw cannot be completed (a random
branch may pick an optional property whose schema accepts nothing, or grow past the size cap), so
planning a validated request never fails. A witness takes the smallest way through the schema from a
fixed source, so it is the same for the same schema, and it is cached: clients resend the same tools
and formats on every turn.
"""

from __future__ import annotations

import functools
from typing import Any

import orjson

from mockserver.core.generate.instances import generate
from mockserver.core.generate.patterns import matching_string
from mockserver.core.generate.seeding import DigestRandom

_SOURCE = b"witness"
_CACHE_SIZE = 1024


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _instance(canonical: bytes) -> bytes:
    return orjson.dumps(generate(orjson.loads(canonical), DigestRandom(_SOURCE), soft_depth=0))


def instance(schema: Any) -> Any:
    """A value valid against `schema`; raises `UnsatisfiableSchema` when there is none to be had."""
    return orjson.loads(_instance(orjson.dumps(schema, option=orjson.OPT_SORT_KEYS)))


@functools.lru_cache(maxsize=_CACHE_SIZE)
def string(pattern: str) -> str:
    """A string `re.search(pattern, ...)` accepts; raises `PatternError` when none can be made."""
    return matching_string(pattern, DigestRandom(_SOURCE))
