"""A refused body is shrunk before it is explained: the explanation costs what a small body costs, names
the real place of the error, and shrinking takes a few dozen checks however many lists the body holds."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.contract.errors import ApiError
from mockserver.core.validate import schema as request_schema
from mockserver.core.validate.request import validate_request

USER = {"role": "user", "content": "x"}
PART = {"type": "text", "text": "x"}


def _refusal(body: dict[str, Any]) -> ApiError:
    with pytest.raises(ApiError) as caught:
        validate_request(body)
    return caught.value


def _counting_checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    valid = request_schema._fast_check(request_schema.REQUEST)

    def counted(body: Any) -> bool:
        calls[0] += 1
        return valid(body)

    monkeypatch.setattr(request_schema, "_fast_check", lambda key: counted)
    return calls


@pytest.mark.parametrize(("body", "param"), [
    ({"model": "m", "messages": [{"role": "user", "content": [PART] * 9}] * 9_999
      + [{"role": "user", "content": [PART] * 8 + [{"type": "text"}]}]}, "messages.[9999].content.[8].text"),
    ({"model": "m", "messages": [USER], "temperature": "hot", "tools": [{"type": "function", "function": {
        "name": "f", "parameters": {"type": "object", "x-lists": {f"k{i}": list(range(9)) for i in range(20_000)}}}}]},
     "temperature"),
    ({"model": "m", "messages": [{"role": "user", "content": [PART] * 50_000 + [{"type": "image_url"}]}]},
     "messages.[0].content.[50000].image_url"),
])
def test_thousands_of_lists_cost_a_few_dozen_checks(monkeypatch: pytest.MonkeyPatch, body: dict[str, Any],
                                                    param: str) -> None:
    calls = _counting_checks(monkeypatch)
    assert _refusal(body).param == param
    assert calls[0] <= 64, calls[0]


def test_a_length_error_keeps_the_whole_list() -> None:
    error = _refusal({"model": "m", "messages": [USER], "stop": ["a"] * 10_000})
    assert error.param == "stop" and "length 10000" in error.message
