"""Reading what a client sent: its key and its JSON body, with the real API's answers to bad ones."""

from __future__ import annotations

import re
from typing import Any

import orjson
from aiohttp import web

from mockserver.contract.errors import ApiError, invalid_json, missing_api_key, wrong_api_key
from mockserver.contract.profiles import Auth, Profile
from mockserver.controls.config import Config

ANONYMOUS_KEY = "anonymous"
_MAX_DEPTH = 200
"""orjson reads 1024 levels but writes only about 250: a body must stay writable to be hashed and echoed."""
MAX_VALUES = 1_000_000
"""JSON values one body may hold. Parsed, a value costs tens of bytes however few bytes it took on the
wire (`{},` is three bytes and a 64-byte dict), so this, not the body's size, bounds what one request
makes the server hold: about a hundred megabytes at worst."""
_COUNTED_BYTES = 256 * 1024


def api_key(request: web.Request, auth: Auth) -> str:
    """The key in the profile's header, which also names the rate-limit bucket; requests without one share
    a bucket."""
    return auth.key(request.headers) or ANONYMOUS_KEY


def check_auth(request: web.Request, config: Config, auth: Auth) -> None:
    if not config.api_keys:
        return
    key = auth.key(request.headers)
    if key is None:
        raise missing_api_key(auth.header)
    if key not in config.api_keys:
        raise wrong_api_key(key)


def check_headers(request: web.Request, profile: Profile) -> None:
    """The headers a profile requires, and the values it allows, as its server checks them."""
    for name, header in profile.headers.items():
        value = request.headers.get(name)
        if value is None:
            if header.required:
                raise ApiError("invalid_request", f"Missing required header: '{name}' ({header.doc}).", param=name,
                               code="missing_required_header")
            continue
        if (header.enum is not None and value not in header.enum) or (
                header.pattern is not None and re.fullmatch(header.pattern, value) is None):
            wanted = f"one of {', '.join(header.enum)}" if header.enum is not None else header.doc
            raise ApiError("invalid_request", f"Invalid value for header '{name}': {value!r}; expected {wanted}.",
                           param=name, code="invalid_value")


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


async def read_body(request: web.Request, config: Config) -> bytes:
    """The body's bytes, once its type, size and framing are known to be acceptable."""
    content_type = request.headers.get("Content-Type")
    if content_type is not None:
        mime = content_type.split(";", 1)[0].strip().lower()
        if mime != "application/json" and not mime.endswith("+json"):
            raise ApiError("unsupported_media_type", f"Invalid Content-Type header ({content_type}): send the "
                           "body as JSON with 'Content-Type: application/json'.")
    if request.content_length is not None and request.content_length > config.max_body_bytes:
        raise ApiError("request_too_large", f"The request body is too large: {request.content_length} bytes, "
                       f"at most {config.max_body_bytes} are accepted.")
    try:
        raw = await request.read()
    except web.RequestPayloadError as exc:
        # The framing or Content-Encoding broke part-way through the body (bad chunks, invalid gzip).
        reason = " ".join(str(exc).split())
        raise ApiError("invalid_request", f"The request body could not be read: {reason}.") from None
    if len(raw) > _COUNTED_BYTES and raw.count(b",") + raw.count(b"{") + raw.count(b"[") > MAX_VALUES:
        # Commas and brackets bound the values from above (those inside strings count too): cheap, and
        # only bodies built of millions of tiny values reach it.
        raise ApiError("request_too_large", f"The request body holds more than {MAX_VALUES:,} JSON values.")
    return raw


def parse_json(raw: bytes) -> Any:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise invalid_json() from None
    if _nested_deeper_than(_MAX_DEPTH, raw, body):
        raise ApiError("invalid_request", f"The JSON body nests more than {_MAX_DEPTH} levels deep.")
    return body
