"""Writes a `CompletionPlan` as the non-streamed `chat.completion` object."""

from __future__ import annotations

from typing import Any

from mockserver.core.plan import ChoicePlan, CompletionPlan, ToolCallPlan


def tool_call(call: ToolCallPlan) -> dict[str, Any]:
    if call.kind == "custom":
        return {"id": call.id, "type": "custom", "custom": {"name": call.name, "input": call.arguments}}
    return {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}


def message(choice: ChoicePlan) -> dict[str, Any]:
    body: dict[str, Any] = {"role": "assistant", "content": choice.content, "refusal": choice.refusal}
    if choice.tool_calls:
        body["tool_calls"] = [tool_call(call) for call in choice.tool_calls]
    if choice.function_call is not None:
        body["function_call"] = {"name": choice.function_call.name, "arguments": choice.function_call.arguments}
    if choice.audio is not None:
        body["audio"] = choice.audio
    body["annotations"] = []
    return body


def choice_logprobs(choice: ChoicePlan) -> dict[str, Any] | None:
    if choice.logprobs is None:
        return None
    if choice.refusal_tokens is not None:
        return {"content": None, "refusal": list(choice.logprobs)}
    return {"content": list(choice.logprobs), "refusal": None}


def completion_body(plan: CompletionPlan) -> dict[str, Any]:
    return {
        "id": plan.id,
        "object": "chat.completion",
        "created": plan.created,
        "model": plan.model,
        "choices": [
            {
                "index": choice.index,
                "message": message(choice),
                "logprobs": choice_logprobs(choice),
                "finish_reason": choice.finish_reason,
            }
            for choice in plan.choices
        ],
        "usage": plan.usage,
        "service_tier": plan.service_tier,
        "system_fingerprint": plan.system_fingerprint,
    }
