"""What vendor extensions (accepted only under their compatibility profile) change in a reply.

vLLM's `continue_final_message` and `echo` shape the text, `include_reasoning` shows reasoning, and
`request_id` names the completion. Under the `openai` profile none of these parameters gets past
validation, so these functions leave such requests alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mockserver.contract.request import content_text
from mockserver.core.generate.tokenizer import tokenize


def vllm_text(request: Mapping[str, Any], tokens: Sequence[str]) -> list[str]:
    """`continue_final_message` continues the last assistant message; `echo` repeats it in front."""
    last = (request.get("messages") or [{}])[-1]
    tokens = list(tokens)
    if last.get("role") != "assistant":
        return tokens
    previous = content_text(last.get("content")) or ""
    if request.get("continue_final_message") and tokens and previous and not previous[-1].isspace():
        tokens = [" " + tokens[0].lstrip(), *tokens[1:]]
    if request.get("echo") and previous:
        tokens = tokenize(previous) + tokens
    return tokens


def vllm_reasoning_requested(request: Mapping[str, Any]) -> bool:
    """Reasoning is shown when asked for: `include_reasoning`, or the chat template's thinking switch."""
    kwargs = request.get("chat_template_kwargs") or {}
    return bool(request.get("include_reasoning") or kwargs.get("enable_thinking") or kwargs.get("thinking"))


def vllm_completion_id(request: Mapping[str, Any]) -> str | None:
    """vLLM names the completion after the caller's `request_id`."""
    request_id = request.get("request_id")
    return f"chatcmpl-{request_id}" if request_id else None
