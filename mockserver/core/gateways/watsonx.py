"""IBM watsonx.ai's Model Gateway in front of the model: its replies say whether its cache answered.

The cache itself is server state (the controls keep it, so `reset` empties it): a request that enables
it is looked up before the model is asked (`mockserver.controls.decide`), and a fresh reply is stored
under the request's key (`mockserver.core.endpoints.profiled.cache_key`). What is pure is the reply:
a fresh one says `cached: false`, a stored one served again says `cached: true`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
