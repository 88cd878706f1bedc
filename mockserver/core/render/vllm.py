"""A `CompletionPlan` written the way vLLM's OpenAI-compatible server writes chat completions (0.32).

The same reply as the OpenAI writers, in vLLM's field set (checked against replies of a real vLLM
server in `tests/http/test_vllm_samples.py`): nulls where OpenAI writes empty lists or details
(`annotations`, `usage.*_details`, `service_tier`), its own fields on every choice (`stop_reason`,
`token_ids`) and on the reply (`prompt_token_ids`, ...), `reasoning` for shown reasoning, and log
probabilities without a `refusal` list. Streams put the finish reason on the last content chunk
instead of a chunk of its own, send no obfuscation, and repeat `system_fingerprint` only on the usage
chunk. The fields that are null by default come from `fixtures/profiles.json`.

Pure: a plan (and the request's stream options) in, plain dicts out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.contract.profiles import profile
from mockserver.core.generate.tokenizer import encoding_of, piece_ids
from mockserver.core.plan import ChoicePlan, CompletionPlan
from mockserver.core.render.body import tool_call
from mockserver.core.render.stream import StreamOptions, choice_deltas

ROUTE = "/chat/completions"
VERSION = "0.32.0"


def _fields(level: str) -> dict[str, Any]:
    return dict(profile("vllm").reply_fields(ROUTE, level))


def system_fingerprint(plan: CompletionPlan) -> str:
    return f"vllm-{VERSION}-{plan.system_fingerprint.removeprefix('fp_')[:8]}"


def _usage(plan: CompletionPlan, details: bool) -> dict[str, Any]:
    usage = {"prompt_tokens": plan.usage["prompt_tokens"], "total_tokens": plan.usage["total_tokens"],
             "completion_tokens": plan.usage["completion_tokens"]}
    return {**usage, **_fields("usage")} if details else usage


def _token_ids(choice: ChoicePlan, encoding: str) -> list[int]:
    """Every token the choice generated: its reasoning, its text, its calls' arguments."""
    generated = [*(choice.reasoning_content_tokens or ()), *(choice.content_tokens or ())]
    for call in (*choice.tool_calls, *((choice.function_call,) if choice.function_call else ())):
        generated += call.argument_tokens
    return piece_ids(generated, encoding)


def _message(choice: ChoicePlan) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": choice.content, **_fields("message")}
    if choice.refusal_tokens is not None:
        message["refusal"] = choice.refusal
    if choice.reasoning_content_tokens is not None:
        message["reasoning"] = choice.reasoning_content
    if choice.audio is not None:
        message["audio"] = choice.audio
    if choice.function_call is not None:
        message["function_call"] = {"name": choice.function_call.name, "arguments": choice.function_call.arguments}
    if choice.tool_calls:
        message["tool_calls"] = [tool_call(call) for call in choice.tool_calls]
    return message


def _logprobs(choice: ChoicePlan) -> dict[str, Any] | None:
    return None if choice.logprobs is None else {"content": list(choice.logprobs)}


def completion_body(plan: CompletionPlan) -> dict[str, Any]:
    encoding = encoding_of(plan.model)
    with_ids = plan.prompt_token_ids is not None
    choices = [{
        "index": choice.index,
        "message": _message(choice),
        "logprobs": _logprobs(choice),
        "finish_reason": choice.finish_reason,
        **_fields("choice"),
        "stop_reason": choice.stop_reason,
        "token_ids": _token_ids(choice, encoding) if with_ids else None,
    } for choice in plan.choices]
    top = _fields("top")
    return {
        "id": plan.id,
        "object": "chat.completion",
        "created": plan.created,
        "model": plan.model,
        "choices": choices,
        "service_tier": top.pop("service_tier"),
        "system_fingerprint": system_fingerprint(plan),
        "usage": _usage(plan, details=True),
        **top,
        "prompt_token_ids": list(plan.prompt_token_ids) if with_ids else None,
    }


def _head(plan: CompletionPlan) -> dict[str, Any]:
    return {"id": plan.id, "object": "chat.completion.chunk", "created": plan.created, "model": plan.model}


def _vllm_delta(delta: Mapping[str, Any]) -> dict[str, Any]:
    """An OpenAI delta in vLLM's words: no `refusal: null` beside the content."""
    return {key: value for key, value in delta.items() if not (key == "refusal" and value is None)}


def _logprobs_slot(slot: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if slot is None:
        return None
    return {"content": slot["content"] if slot["content"] is not None else slot["refusal"]}


def _delta_ids(delta: Mapping[str, Any], encoding: str) -> list[int]:
    """The ids of the tokens one delta carries."""
    text = delta.get("content") or delta.get("reasoning") or delta.get("refusal") or ""
    for call in delta.get("tool_calls") or ():
        text += (call.get("function") or {}).get("arguments", "") + (call.get("custom") or {}).get("input", "")
    text += (delta.get("function_call") or {}).get("arguments", "")
    return piece_ids([text], encoding) if text else []


def _choice_entries(choice: ChoicePlan, encoding: str, with_ids: bool) -> list[dict[str, Any]]:
    """The `choices` entries of one choice's chunks: its role delta, then one per token (a call's header
    in a delta of its own), the last carrying the finish and stop reasons (an empty content delta when
    the choice wrote nothing)."""
    role, *rest = choice_deltas(choice, encoding)
    for key in ("function_call", "tool_calls"):
        if key in role[0]:
            rest.insert(0, ({key: role[0][key]}, None))
    rest = rest or [({"content": ""}, None)]
    entries = [{"index": choice.index, "delta": {"role": "assistant", "content": ""}, "logprobs": None,
                "finish_reason": None}]
    for position, (delta, logprobs) in enumerate(rest):
        entry: dict[str, Any] = {"index": choice.index, "delta": _vllm_delta(delta),
                                 "logprobs": _logprobs_slot(logprobs), "finish_reason": None}
        if position == len(rest) - 1:
            entry["finish_reason"] = choice.finish_reason
            entry["stop_reason"] = choice.stop_reason
        entry["token_ids"] = _delta_ids(delta, encoding) if with_ids else None
        entries.append(entry)
    return entries


def stream_chunks(plan: CompletionPlan, request: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The whole stream as chunk objects: every choice's role chunk first (with `prompt_token_ids`), then
    the choices' tokens in turn, then the usage chunk when `include_usage` asks for it."""
    encoding = encoding_of(plan.model)
    with_ids = plan.prompt_token_ids is not None
    head = _head(plan)
    per_choice = [_choice_entries(choice, encoding, with_ids) for choice in plan.choices]
    prompt_ids = list(plan.prompt_token_ids) if with_ids else None
    chunks = [{**head, "choices": [entries[0]], "prompt_token_ids": prompt_ids, "prompt_text": None}
              for entries in per_choice]
    for position in range(1, max(len(entries) for entries in per_choice)):
        for entries in per_choice:
            if position < len(entries):
                chunks.append({**head, "choices": [entries[position]]})
    if StreamOptions.from_request(request).include_usage:
        chunks.append({**head, "choices": [], "usage": _usage(plan, details=False),
                       "system_fingerprint": system_fingerprint(plan)})
    return chunks
