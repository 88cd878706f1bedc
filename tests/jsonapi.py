"""JSON-level helpers for behaviour tests: post a body to `{base_url}/chat/completions`, get status and JSON."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import jsonschema

from mockserver.contract import schema

RESPONSE = jsonschema.Draft202012Validator(schema("chat_completion"))


def post(base_url: str, body: dict, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(base_url + "/chat/completions", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request) as reply:
            return reply.status, json.load(reply)
    except urllib.error.HTTPError as failure:
        return failure.code, json.load(failure)


def ok(base_url: str, body: dict, headers: dict[str, str] | None = None) -> dict:
    """The reply to a request that must succeed, checked against the response schema."""
    status, reply = post(base_url, body, headers)
    assert status == 200, reply
    RESPONSE.validate(reply)
    return reply
