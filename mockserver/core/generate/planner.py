"""The deterministic generator: a validated request and a context in, a `CompletionPlan` out.

Pure and synchronous. The HTTP layer, the streaming writer, scenarios and the conformance suite's
self-tests all call `plan_completion` and only differ in how they write the plan out.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from mockserver.contract import FINISH_LENGTH, FINISH_STOP, model_info, served_tier
from mockserver.contract.request import completion_limit
from mockserver.core.generate import prose
from mockserver.core.generate.audio import audio_message, audio_tokens
from mockserver.core.generate.budget import PLAN_STEPS, Budget
from mockserver.core.generate.logprobs import token_logprobs
from mockserver.core.generate.seeding import content_digest, rng_for, short_id, system_fingerprint
from mockserver.core.generate.structured import structured_tokens
from mockserver.core.generate.tokenizer import (
    REFUSAL_FRAMING,
    call_leads,
    calls_tokens,
    count,
    encoding_of,
    is_token,
    piece_ids,
    prompt_audio_tokens,
    prompt_tokens,
    tokenize,
)
from mockserver.core.generate.tools import plan_tool_reply, tool_result_preamble
from mockserver.core.generate.vendor import (
    vllm_allowed_tokens,
    vllm_banned,
    vllm_completion_id,
    vllm_floor,
    vllm_prompt_ids,
    vllm_reasoning_requested,
    vllm_text,
)
from mockserver.core.plan import ChoicePlan, CompletionPlan, ToolCallPlan

_NATURAL_LENGTH = (16, 64)
_REASONING_BASE = {"none": 0, "minimal": 0, "low": 64, "medium": 192, "high": 512, "xhigh": 1024}
_DEFAULT_EFFORT = "medium"
DEFAULT_REFUSAL = "I'm sorry, but I can't help with that request."


@dataclass(frozen=True, slots=True)
class Context:
    """What the generator needs from the server beyond the request: its seed, the request's place in
    the server's sequence (for unique ids) and the `created` timestamp."""

    server_seed: int = 0
    sequence: int = 0
    created: int = 0
    refusal: str | None = None
    """When set, every choice refuses with this text (the test switch for refusals)."""
    prompt_tokens: int | None = None
    """The request's prompt size when the caller has already counted it (the server counts once for
    the rate limiter and usage alike); None counts it here."""
    recalled: Any = None
    """What validation found in the server's stored state for this request (`Validated.recalled`)."""


def _bias(request: Mapping[str, Any], encoding: str) -> tuple[frozenset[int], int | None]:
    """Token ids that logit_bias bans (-100) and the token it forces (+100), if any: ids of the model's own
    encoding, so the ids every tokenizer guide shows work as they do against the real API."""
    bias = request.get("logit_bias")
    if not bias:
        return frozenset(), None
    banned = frozenset(int(key) for key, value in bias.items() if value <= -100)
    forced_ids = sorted(int(key) for key, value in bias.items() if value >= 100)
    forced = next((i for i in forced_ids if is_token(i, encoding)), None)
    return banned, forced


def _occurrences(text: str, stops: Sequence[str], floor: int) -> list[tuple[int, int, str]]:
    """(start, end, stop) for each stop sequence's first occurrence in `text` that ends past `floor`
    characters."""
    found = []
    for stop in stops:
        position = text.find(stop, max(0, floor - len(stop) + 1)) if stop else -1
        if position >= 0:
            found.append((position, position + len(stop), stop))
    return found


def _cut_at_stop(tokens: list[str], stops: Sequence[str], encoding: str, budget: int | None, *,
                 floor: int = 0, keep_stop: bool = False) -> tuple[list[str], int | None, str | None]:
    """The reply a stop sequence ends, the tokens written by then (None: no stop sequence within the
    budget) and that sequence. The model stops at the first token that completes a stop sequence (none
    before its `floor`-th token counts), and the text is cut before the earliest sequence it holds by then
    (after it with `keep_stop`); a token the cut falls inside keeps its text before it."""
    text = "".join(tokens)
    found = _occurrences(text, stops, len("".join(tokens[:max(0, floor - 1)])))
    if not found:
        return tokens, None, None
    first_end = min(end for _, end, _ in found)
    written = offset = 0
    while offset < first_end:
        offset += len(tokens[written])
        written += 1
    if budget is not None and written > budget:
        return tokens, None, None
    start, end, stop = min(occurrence for occurrence in found if occurrence[1] <= offset)
    cut = end if keep_stop else start
    kept: list[str] = []
    offset = 0
    for token in tokens:
        if offset + len(token) <= cut:
            kept.append(token)
            offset += len(token)
            continue
        if cut > offset:
            kept += tokenize(token[: cut - offset], encoding)
        break
    return kept, written, stop


def _stops(request: Mapping[str, Any]) -> list[str]:
    stop = request.get("stop")
    if stop is None:
        return []
    return [stop] if isinstance(stop, str) else list(stop)


def _reasoning_tokens(request: Mapping[str, Any], rng: random.Random) -> int:
    if not model_info(request["model"]).reasoning:
        return 0
    base = _REASONING_BASE.get(request.get("reasoning_effort") or _DEFAULT_EFFORT, 0)
    return base + (rng.randrange(base // 4 + 1) if base else 0)


def _text_tokens(request: Mapping[str, Any], rng: random.Random, encoding: str, work: Budget) -> list[str]:
    shaped = structured_tokens(request, rng, work)
    if shaped is not None:
        return vllm_text(request, shaped)
    length = vllm_floor(request, rng.randint(*_NATURAL_LENGTH))
    allowed = vllm_allowed_tokens(request, rng, length, encoding)
    if allowed is not None:
        return vllm_text(request, allowed)
    banned, forced = _bias(request, encoding)
    preamble = tool_result_preamble(request)
    opening = tokenize(preamble, encoding) if preamble else []
    return vllm_text(request, opening + prose.generate_tokens(rng, length, encoding, banned | vllm_banned(request, encoding),
                                                              forced, continuing=bool(opening)))


def _budget(request: Mapping[str, Any], reasoning: int, shown: int = 0) -> tuple[int | None, int]:
    """Visible tokens max_tokens leaves after hidden `reasoning` and `shown` reasoning (None: unlimited),
    and the hidden reasoning kept."""
    limit = completion_limit(request)
    if limit is None:
        return None, reasoning
    return max(0, limit - reasoning - shown), min(reasoning, limit - shown)


def _cut_at_stop_token(tokens: list[str], request: Mapping[str, Any], encoding: str,
                       written: int | None) -> tuple[list[str], int | None, int | None]:
    """vLLM's `stop_token_ids`: generation ends at the first of them (kept in the text, and not before
    `min_tokens`) unless a stop sequence ended it earlier; the reply, the tokens written, and the id."""
    stop_ids = frozenset(request.get("stop_token_ids") or ())
    if not stop_ids:
        return tokens, written, None
    floor = request.get("min_tokens") or 0
    for position, token_id in enumerate(piece_ids(tokens, encoding)):
        if written is not None and position >= written:
            break
        if token_id in stop_ids and position + 1 >= floor:
            return tokens[:position + 1], position + 1, token_id
    return tokens, written, None


def _cut_calls(calls: Sequence[ToolCallPlan], budget: int | None,
               encoding: str) -> tuple[tuple[ToolCallPlan, ...], bool]:
    """The calls a token budget leaves: each call spends its framing before its arguments, and what is
    past the budget is cut, as a real model's output is. The first call always stays, with no arguments
    when the budget ends inside its framing."""
    if budget is None or calls_tokens(calls, encoding) <= budget:
        return tuple(calls), False
    kept: list[ToolCallPlan] = []
    left = budget
    for call, lead in zip(calls, call_leads(calls, encoding)):
        left -= lead
        if left < 0 and kept:
            break
        arguments = call.argument_tokens[:max(0, left)]
        kept.append(ToolCallPlan(call.id, call.name, arguments, call.kind))
        left -= len(arguments)
        if len(arguments) < len(call.argument_tokens):
            break
    return tuple(kept), True


def _choice_logprobs(request: Mapping[str, Any], digest: bytes, index: int,
                     tokens: Sequence[str]) -> tuple[dict[str, Any], ...] | None:
    if not request.get("logprobs"):
        return None
    top = request.get("top_logprobs") or 0
    return tuple(token_logprobs(rng_for(digest, "logprobs", index), tokens, top, encoding_of(request["model"])))


def _choice(request: Mapping[str, Any], digest: bytes, index: int, context: Context,
            work: Budget) -> tuple[ChoicePlan, int]:
    """One choice and the reasoning tokens spent on it, with that reasoning shown when a profile asks. Shown
    reasoning comes first and spends from the same token limit as the answer, as a model thinks before it
    answers: a limit it reaches leaves no answer."""
    if context.refusal is not None or not vllm_reasoning_requested(request):
        return _answer(request, digest, index, context, work)
    rng = rng_for(digest, "reasoning", index)
    thoughts = prose.generate_tokens(rng, rng.randint(*_NATURAL_LENGTH), encoding_of(request["model"]))
    limit = completion_limit(request)
    thoughts = thoughts[:limit] if limit is not None else thoughts
    choice, spent = _answer(request, digest, index, context, work, len(thoughts))
    if limit is not None and len(thoughts) >= limit and choice.content_tokens is not None:
        choice = replace(choice, content_tokens=None, logprobs=None)
    return replace(choice, reasoning_content_tokens=tuple(thoughts)), spent + len(thoughts)


def _answer(request: Mapping[str, Any], digest: bytes, index: int, context: Context,
            work: Budget, shown: int = 0) -> tuple[ChoicePlan, int]:
    """One choice (text, tool calls or refusal) and the reasoning tokens spent on it.

    What the choice generates depends only on what shapes sampling: its random source is the same whatever
    the limits, stop sequences, `n` or logprobs, so a limit keeps the first tokens of the unlimited reply
    and a stop sequence cuts that same reply. A choice cut by the limit costs exactly the tokens left."""
    rng = rng_for(digest, "choice", index)
    encoding = encoding_of(request["model"])
    budget, reasoning = _budget(request, _reasoning_tokens(request, rng), shown)
    if context.refusal is not None:
        tokens = tokenize(context.refusal, encoding)
        if budget is not None and len(tokens) + REFUSAL_FRAMING > budget:
            tokens = tokens[:budget]
            return ChoicePlan(index=index, finish_reason=FINISH_LENGTH, refusal_tokens=tuple(tokens), cost=budget,
                              logprobs=_choice_logprobs(request, digest, index, tokens)), reasoning
        return ChoicePlan(index=index, finish_reason=FINISH_STOP, refusal_tokens=tuple(tokens),
                          logprobs=_choice_logprobs(request, digest, index, tokens)), reasoning
    reply = plan_tool_reply(request, digest, index, work)
    if reply is not None:
        calls, cut = _cut_calls(reply.calls, budget, encoding)
        finish = FINISH_LENGTH if cut else reply.finish_reason
        cost = budget if cut else None
        if reply.legacy:
            return ChoicePlan(index=index, finish_reason=finish, function_call=calls[0], cost=cost), reasoning
        return ChoicePlan(index=index, finish_reason=finish, tool_calls=calls, cost=cost), reasoning
    if budget is None and request.get("ignore_eos"):
        budget = model_info(request["model"]).max_output_tokens
    tokens, written, stop = _cut_at_stop(_text_tokens(request, rng, encoding, work), _stops(request), encoding,
                                         budget, floor=request.get("min_tokens") or 0,
                                         keep_stop=bool(request.get("include_stop_str_in_output")))
    tokens, written, stop_id = _cut_at_stop_token(tokens, request, encoding, written)
    stop_reason = stop_id if stop_id is not None else stop
    finish = FINISH_STOP
    if written is None and budget is not None and len(tokens) > budget:
        tokens, finish = tokens[:budget], FINISH_LENGTH
    if "audio" in (request.get("modalities") or ()):
        spoken = _spoken(request, digest, index, tokens, context)
        return ChoicePlan(index=index, finish_reason=finish, audio=spoken), reasoning
    return ChoicePlan(index=index, finish_reason=finish, content_tokens=tuple(tokens), cost=written,
                      logprobs=_choice_logprobs(request, digest, index, tokens), stop_reason=stop_reason), reasoning


def _spoken(request: Mapping[str, Any], digest: bytes, index: int, tokens: Sequence[str],
            context: Context) -> dict[str, Any]:
    """With audio output the text becomes the transcript and `content` stays null, as in the real API."""
    options = request["audio"]
    voice = options["voice"] if isinstance(options["voice"], str) else options["voice"].get("id", "")
    audio_id = "audio_" + hashlib.blake2b(digest + f"|audio|{index}".encode(), digest_size=16).hexdigest()
    return audio_message(audio_id, tokens, voice, options["format"], context.created)


def _choice_cost(choice: ChoicePlan, encoding: str) -> int:
    """Completion tokens of one choice beyond reasoning, as the real API counts them: text token for
    token, a refusal's text and one more, tool calls with their names and framing."""
    if choice.cost is not None:
        return choice.cost
    cost = len(choice.content_tokens or ())
    if choice.refusal_tokens is not None:
        cost += len(choice.refusal_tokens) + REFUSAL_FRAMING
    calls = (*choice.tool_calls, *((choice.function_call,) if choice.function_call is not None else ()))
    return cost + calls_tokens(calls, encoding)


def usage(request: Mapping[str, Any], choices: Sequence[ChoicePlan], reasoning: int,
          prompt: int | None = None) -> dict[str, Any]:
    encoding = encoding_of(request["model"])
    visible = spoken = 0
    for choice in choices:
        visible += _choice_cost(choice, encoding)
        if choice.audio is not None:
            transcript = count(choice.audio["transcript"], encoding)
            visible += transcript
            spoken += audio_tokens(transcript)
    completion = visible + reasoning + spoken
    if prompt is None:
        prompt = prompt_tokens(request)
    prediction = request.get("prediction") or {}
    rejected = 0
    if prediction:
        content = prediction.get("content")
        rejected = count(content, encoding) if isinstance(content, str) else sum(
            count(part.get("text", ""), encoding) for part in content or ())
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": prompt_audio_tokens(request)},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": spoken,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": rejected,
        },
    }


def completion_id(context: Context, digest: bytes) -> str:
    return "chatcmpl-" + short_id(f"{context.server_seed}:{context.sequence}:".encode() + digest, 29)


def plan_completion(request: Mapping[str, Any], context: Context) -> CompletionPlan:
    """The whole reply to a validated request, as data. Its choices share one `Budget` for drawing
    arguments and structured content; what it cannot pay for takes the witnesses validation found."""
    digest = content_digest(request, context.server_seed)
    work = Budget(PLAN_STEPS)
    choices = []
    reasoning = 0
    for index in range(request.get("n") or 1):
        choice, spent = _choice(request, digest, index, context, work)
        choices.append(choice)
        reasoning += spent
    return CompletionPlan(
        id=vllm_completion_id(request) or completion_id(context, digest),
        created=context.created,
        model=request["model"],
        system_fingerprint=system_fingerprint(context.server_seed),
        service_tier=served_tier(request.get("service_tier")),
        choices=tuple(choices),
        usage=usage(request, choices, reasoning, context.prompt_tokens),
        prompt_token_ids=vllm_prompt_ids(request),
        digest=digest,
    )


def restamp_completion(plan: CompletionPlan, request: Mapping[str, Any], context: Context) -> CompletionPlan | None:
    """`plan` as `plan_completion` makes it for the same request in `context`: a new id and `created`. A
    spoken reply's audio expires relative to `created`, so it is planned afresh (None)."""
    if any(choice.audio is not None for choice in plan.choices):
        return None
    # Positional, which the hot path of a repeated body can tell from `dataclasses.replace`'s cost.
    return CompletionPlan(vllm_completion_id(request) or completion_id(context, plan.digest), context.created,
                          plan.model, plan.system_fingerprint, plan.service_tier, plan.choices, plan.usage,
                          plan.prompt_token_ids, plan.digest)
