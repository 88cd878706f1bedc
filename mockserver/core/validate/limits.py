"""The model table's limits, with the real API's answers: the output cap, and the context window that the
prompt and the completion it asks room for must share.

Wording as the API words it (2024-2025): `max_tokens is too large: 20000. This model supports at most 16384
completion tokens, whereas you provided 20000.` (param `max_tokens`, code `invalid_value`), and `This model's
maximum context length is 8192 tokens. However, you requested 8256 tokens (64 in the messages, 8192 in the
completion). Please reduce the length of the messages or completion.` (param `messages`, code
`context_length_exceeded`), or `... However, your messages resulted in N tokens. Please reduce the length of
the messages.` when no completion size was asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.contract import model_info
from mockserver.contract.errors import ApiError

_LIMITS = ("max_completion_tokens", "max_tokens")


def check_output_limit(body: Mapping[str, Any]) -> None:
    ceiling = model_info(body["model"]).max_output_tokens
    for name in _LIMITS:
        value = body.get(name)
        if value is not None and value > ceiling:
            raise ApiError("invalid_request", f"{name} is too large: {value}. This model supports at most {ceiling} "
                           f"completion tokens, whereas you provided {value}.", param=name, code="invalid_value")


def check_room(prompt: int, completion: int | None, window: int) -> None:
    if completion is None:
        if prompt > window:
            raise ApiError("context_length_exceeded", f"This model's maximum context length is {window} tokens. "
                           f"However, your messages resulted in {prompt} tokens. Please reduce the length of the "
                           "messages.", param="messages")
        return
    if prompt + completion > window:
        raise ApiError("context_length_exceeded", f"This model's maximum context length is {window} tokens. However, "
                       f"you requested {prompt + completion} tokens ({prompt} in the messages, {completion} in the "
                       "completion). Please reduce the length of the messages or completion.", param="messages")
