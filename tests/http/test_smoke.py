"""The mock answers a plain request with a well-formed completion and a bad one with the envelope."""

from __future__ import annotations

import json
import urllib.error
import urllib.request


def _post(base_url: str, body: object) -> tuple[int, dict]:
    request = urllib.request.Request(base_url + "/chat/completions", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request) as reply:
            return reply.status, json.load(reply)
    except urllib.error.HTTPError as failure:
        return failure.code, json.load(failure)


def test_plain_completion(base_url: str) -> None:
    status, body = _post(base_url, {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]})
    assert status == 200
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"]["content"]


def test_unknown_argument(base_url: str) -> None:
    status, body = _post(base_url, {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}], "foo": 1})
    assert status == 400
    assert body["error"]["message"] == "Unrecognized request argument supplied: foo"
