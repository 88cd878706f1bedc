"""OpenAI error envelopes. Every rejection the mock makes is an `ApiError` turned into one envelope.

The kinds of error (status, type, code and the real API's wording) are the table `fixtures/errors.json`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from mockserver.contract.fixtures import load_json


@dataclass(frozen=True, slots=True)
class ErrorKind:
    name: str
    status: int
    type: str
    code: str | None
    message: str | None = None
    """The real API's wording, used when a scripted error gives none."""


@functools.cache
def error_kinds() -> dict[str, ErrorKind]:
    table = load_json("errors.json")
    return {name: ErrorKind(name=name, **row) for name, row in table.items()}


def error_kind(name: str) -> ErrorKind:
    return error_kinds()[name]


class ApiError(Exception):
    """A failure the client should see as an HTTP status with the OpenAI error envelope."""

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        param: str | None = None,
        headers: dict[str, str] | None = None,
        status: int | None = None,
        type: str | None = None,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        known = error_kind(kind)
        self.kind = kind
        self.message = message
        self.param = param
        self.status = status if status is not None else known.status
        self.type = type if type is not None else known.type
        self.code = code if code is not None else known.code
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})
        """Fields the body carries beside the envelope (a guardrail proxy's detections)."""

    def envelope(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


def invalid_request(message: str, param: str | None = None, kind: str = "invalid_request") -> ApiError:
    return ApiError(kind, message, param=param)


def unknown_parameter(name: str) -> ApiError:
    return ApiError("invalid_request", f"Unrecognized request argument supplied: {name}")


def invalid_json() -> ApiError:
    return ApiError(
        "invalid_request",
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
        "HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
    )


def model_not_found(model: str) -> ApiError:
    return ApiError("model_not_found", f"The model `{model}` does not exist or you do not have access to it.")


def missing_api_key(header: str = "Authorization") -> ApiError:
    if header != "Authorization":
        return ApiError("invalid_api_key", f"No API key found in request: send your key in the '{header}' header.")
    return ApiError(
        "invalid_api_key",
        "You didn't provide an API key. You need to provide your API key in an Authorization header using "
        "Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
    )


def wrong_api_key(key: str) -> ApiError:
    shown = key[:3] + "*" * max(0, len(key) - 7) + key[-4:] if len(key) > 8 else "*" * len(key)
    return ApiError("invalid_api_key", f"Incorrect API key provided: {shown}.")
