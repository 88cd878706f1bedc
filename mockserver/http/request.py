"""Reading what a client sent: its key and its JSON body, with the real API's answers to bad ones."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from mockserver.contract.errors import (
    ApiError,
    invalid_json,
    missing_api_key,
    wrong_api_key,
)
from mockserver.controls.config import Config

ANONYMOUS_KEY = "anonymous"
_MAX_DEPTH = 200
"""orjson reads 1024 levels but writes only about 250: a body must stay writable to be hashed and echoed."""


def api_key(request: web.Request) -> str:
    """The Bearer key, which also names the rate-limit bucket; requests without one share a bucket."""
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" and key.strip() else ANONYMOUS_KEY


def check_auth(request: web.Request, config: Config) -> None:
    if not config.api_keys:
        return
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise missing_api_key()
    if key.strip() not in config.api_keys:
        raise wrong_api_key(key.strip())


def _nested_deeper_than(limit: int, raw: bytes, body: Any) -> bool:
    """Counting brackets bounds the depth from above, so ordinary bodies are never walked."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    stack = [(body, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


async def read_json(request: web.Request, config: Config) -> Any:
    content_type = request.headers.get("Content-Type")
    if content_type is not None:
        mime = content_type.split(";", 1)[0].strip().lower()
        if mime != "application/json" and not mime.endswith("+json"):
            raise ApiError("unsupported_media_type", f"Invalid Content-Type header ({content_type}): send the "
                           "body as JSON with 'Content-Type: application/json'.")
    if request.content_length is not None and request.content_length > config.max_body_bytes:
        raise ApiError("request_too_large", f"The request body is too large: {request.content_length} bytes, "
                       f"at most {config.max_body_bytes} are accepted.")
    raw = await request.read()
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise invalid_json() from None
    if _nested_deeper_than(_MAX_DEPTH, raw, body):
        raise ApiError("invalid_request", f"The JSON body nests more than {_MAX_DEPTH} levels deep.")
    return body
