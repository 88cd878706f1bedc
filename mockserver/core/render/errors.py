"""An error as the bytes a client receives: the envelope in the profile's style, bent by the active quirks.

OpenAI's envelope is `{"error": {"message", "type", "param", "code"}}`. vLLM keeps the envelope but names
the type after the status (`BadRequestError`, `NotFoundError`) and puts the status in `code`; watsonx.ai
answers `{"errors": [{"code", "message"}], "trace", "status_code"}`, which its SDKs read the message from.
A profile's extra fields (the detections beside a guardrail's refusal) go beside the envelope.
"""

from __future__ import annotations

from typing import Any

import orjson

from mockserver.contract.errors import ApiError
from mockserver.contract.profiles import DEFAULT_PROFILE, profile
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


def _styled(error: ApiError, profile_name: str, trace: str) -> dict[str, Any]:
    table = profile(profile_name)
    if table.error_style == "vllm":
        kind = table.error_types.get(error.status, "InternalServerError" if error.status >= 500 else "BadRequestError")
        return {"error": {"message": error.message, "type": kind, "param": error.param, "code": error.status}}
    if table.error_style == "watsonx":
        entry = {"code": error.code or error.kind, "message": error.message}
        if error.param is not None:
            entry["target"] = {"type": "field", "name": error.param}
        return {"errors": [entry], "trace": trace, "status_code": error.status}
    return error.envelope()


def render_error(error: ApiError, quirk_names: tuple[str, ...], profile_name: str = DEFAULT_PROFILE,
                 trace: str = "") -> tuple[int, bytes]:
    """The status and body; `trace` is the request's id, which watsonx.ai's errors repeat."""
    status, body = quirks.apply_error(quirk_names, error.status, {**_styled(error, profile_name, trace), **error.extra})
    try:
        return status, orjson.dumps(body)
    except orjson.JSONEncodeError:
        return status, orjson.dumps(_encodable(body))
