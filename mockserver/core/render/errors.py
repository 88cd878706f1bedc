"""An error as the bytes a client receives: the envelope, bent by the active quirks."""

from __future__ import annotations

from typing import Any

import orjson

from mockserver.contract.errors import ApiError
from mockserver.core.render import quirks


def _encodable(value: Any) -> Any:
    """Strings made valid UTF-8: a message may quote header bytes that were not (aiohttp decodes them
    with surrogate escapes, which no JSON encoder writes); they are shown as backslash escapes."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_encodable(key): _encodable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_encodable(item) for item in value]
    return value


def render_error(error: ApiError, quirk_names: tuple[str, ...]) -> tuple[int, bytes]:
    status, body = quirks.apply_error(quirk_names, error.status, error.envelope())
    try:
        return status, orjson.dumps(body)
    except orjson.JSONEncodeError:
        return status, orjson.dumps(_encodable(body))
