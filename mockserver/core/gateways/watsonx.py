"""IBM watsonx.ai's Model Gateway in front of the model: its replies say whether its cache answered.

The cache itself is server state (the controls keep it, so `reset` empties it): a request that enables
it is looked up under its key before the model is asked (`mockserver.controls.decide`), and a fresh reply
is stored under it. What is pure is the key and the reply: a fresh one says `cached: false`, a stored one
served again says `cached: true`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from mockserver.contract.profiles import profile
from mockserver.core.render.additions import with_fields

NAME = "watsonx-gateway"


def finish(admission: Any, rendered: bytes | Sequence[bytes], route: str) -> bytes | Sequence[bytes]:
    """A fresh non-streamed reply with the gateway's fields for its route (`cached: false`); streams,
    which the cache does not serve, are sent as the model wrote them."""
    fields = profile(NAME).reply_fields(route, "top")
    if not fields or not isinstance(rendered, bytes):
        return rendered
    return with_fields(rendered, fields)


def served_from_cache(stored: bytes) -> bytes:
    return with_fields(stored, {"cached": True})


def cache_key(request: Mapping[str, Any]) -> bytes | None:
    """The cache's key for a request that enables the cache: everything it asks but the cache settings,
    and the cache's `filter`, which scopes the entries a request may be served from."""
    cache = request.get("cache") or {}
    if not cache.get("enabled"):
        return None
    asked = {k: v for k, v in request.items() if k != "cache"}
    material = orjson.dumps([asked, cache.get("filter")], option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(material, digest_size=16).digest()
