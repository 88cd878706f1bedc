"""The real API's completion count for a reply, from its visible output alone, counted with bpe-openai
directly in the encoding the model table names (independently of the mock's own accounting).

Text and JSON count token for token; a refusal counts one more than its text; a single tool call counts
its arguments, its name and `TOOL_CALL_FRAMING` more; parallel calls are billed as the compact JSON of the
`multi_tool_use.parallel` wrapper the model writes, and `PARALLEL_FRAMING` more; a choice cut by the token
limit costs the limit.

Counts come from bpe-openai's compiled tokenizer (the one the mock loads) in one call over the whole text,
where the mock encodes long texts in parts, so they also check how the mock splits long texts.
"""

from __future__ import annotations

import json
from typing import Any

from mockserver.contract import model_info
from mockserver.core.generate.tokenizer import PARALLEL_FRAMING, REFUSAL_FRAMING, TOOL_CALL_FRAMING
from mockserver.core.generate.vocabulary import vocabulary


def count(text: str, model: str) -> int:
    return vocabulary(model_info(model).encoding).encoder.count(text)


def calls_cost(calls: list[dict[str, Any]], model: str) -> int:
    functions = [call["function"] for call in calls]
    if len(functions) == 1:
        return count(functions[0]["arguments"], model) + count(functions[0]["name"], model) + TOOL_CALL_FRAMING
    uses = [{"recipient_name": "functions." + f["name"], "parameters": json.loads(f["arguments"])} for f in functions]
    wrapper = json.dumps({"tool_uses": uses}, separators=(",", ":"), ensure_ascii=False)
    return count(wrapper, model) + PARALLEL_FRAMING


def completion_cost(request: dict[str, Any], reply: dict[str, Any]) -> int:
    model = request["model"]
    total = 0
    for choice in reply["choices"]:
        message = choice["message"]
        if choice["finish_reason"] == "length":
            total += request.get("max_completion_tokens") or request["max_tokens"]
            continue
        if message.get("refusal") is not None:
            total += count(message["refusal"], model) + REFUSAL_FRAMING
        total += count(message.get("content") or "", model)
        if message.get("tool_calls"):
            total += calls_cost(message["tool_calls"], model)
    return total
