"""What vendor extensions (accepted only under their compatibility profile) change in a reply.

vLLM's `continue_final_message` and `echo` shape the text, `include_reasoning` shows reasoning,
`request_id` names the completion, and its sampling extensions bend the text the way they bend a real
model's: `allowed_token_ids` and `bad_words` choose the tokens, `min_tokens` and `ignore_eos` move the
natural end. Under the `openai` profile none of these parameters gets past validation, so these
functions leave such requests alone.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from mockserver.contract.models import model_info
from mockserver.contract.request import completion_limit, content_text
from mockserver.core.generate.tokenizer import documents_tokens, encode, encoding_of, pieces, prompt_ids, tokenize


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
        tokens = tokenize(previous, encoding_of(request["model"])) + tokens
    return tokens


def vllm_reasoning_requested(request: Mapping[str, Any]) -> bool:
    """Reasoning is shown when asked for: `include_reasoning`, or the chat template's thinking switch."""
    kwargs = request.get("chat_template_kwargs") or {}
    return bool(request.get("include_reasoning") or kwargs.get("enable_thinking") or kwargs.get("thinking"))


def vllm_completion_id(request: Mapping[str, Any]) -> str | None:
    """vLLM names the completion after the caller's `request_id`."""
    request_id = request.get("request_id")
    return f"chatcmpl-{request_id}" if request_id else None


def vllm_banned(request: Mapping[str, Any], encoding: str) -> frozenset[int]:
    """The tokens of `bad_words`, in every form a word takes in prose (capitalised or not, after a space
    or not), which the generator then never writes."""
    banned: set[int] = set()
    for word in request.get("bad_words") or ():
        for form in (word, word.capitalize(), " " + word, " " + word.capitalize()):
            banned.update(encode(form, encoding))
    return frozenset(banned)


def vllm_allowed_tokens(request: Mapping[str, Any], rng: random.Random, length: int, encoding: str) -> list[str] | None:
    """With `allowed_token_ids`, a reply made of those tokens only, drawn from the reply's random source."""
    allowed = request.get("allowed_token_ids")
    if not allowed:
        return None
    return pieces([allowed[rng.randrange(len(allowed))] for _ in range(length)], encoding)


def vllm_floor(request: Mapping[str, Any], natural: int) -> int:
    """How long the reply runs before it may end by itself: `min_tokens`, or with `ignore_eos` up to the
    limit (the model's output cap when none is asked), past its natural length."""
    if request.get("ignore_eos"):
        limit = completion_limit(request)
        return limit if limit is not None else model_info(request["model"]).max_output_tokens
    return max(natural, request.get("min_tokens") or 0)


def vllm_prompt_ids(request: Mapping[str, Any]) -> tuple[int, ...] | None:
    """With `return_token_ids`, the prompt's token ids (its last `truncate_prompt_tokens` of them)."""
    if not request.get("return_token_ids"):
        return None
    ids = prompt_ids(request)
    keep = request.get("truncate_prompt_tokens")
    return tuple(ids[-keep:] if keep else ids)


def vllm_prompt_tokens(request: Mapping[str, Any], counted: int) -> int:
    """The prompt the model reads: the messages as counted, the RAG `documents` the template renders, and
    no more than `truncate_prompt_tokens` of it."""
    counted += documents_tokens(request.get("documents"), encoding_of(request["model"]))
    keep = request.get("truncate_prompt_tokens")
    return min(counted, keep) if keep else counted
