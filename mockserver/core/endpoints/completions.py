"""`POST /completions`: the legacy text completion endpoint, as gpt-3.5-turbo-instruct, davinci-002 and
babbage-002 serve it (and vLLM, llama.cpp and gateways that still speak `text_completion`).

Each prompt is continued by the chat generator, read as one user turn of the same model, so the text has
the same determinism and real-token semantics as chat: `max_tokens` (16 when unset, as the API
defaults) keeps the first tokens of the unlimited text, `stop` cuts it, choice i is the same text for
any `n` above i. What is particular to the endpoint is written here: prompts as text, token lists or
several of either (choices are numbered prompt by prompt), `echo`, `suffix`, `best_of` (the candidates
with the highest mean log-probability, all of them billed) and the legacy `logprobs` object.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import orjson

from mockserver.contract.errors import ApiError, invalid_request, unknown_parameter
from mockserver.contract.fixtures import request_parameters
from mockserver.contract.models import known_models, model_info
from mockserver.contract.sse import DONE_EVENT
from mockserver.core.endpoints.model import Endpoint, ServeOptions, Validated, check_kind, check_model
from mockserver.core.generate.logprobs import token_logprobs
from mockserver.core.generate.planner import Context, completion_id, plan_completion
from mockserver.core.generate.scripted import plan_scripted
from mockserver.core.generate.seeding import content_digest, rng_for, system_fingerprint
from mockserver.core.generate.tokenizer import count, encoding_of, is_token, pieces, tokenize
from mockserver.core.plan import ChoicePlan, CompletionPlan, Script
from mockserver.core.render import quirks
from mockserver.core.validate.rules import check_integers, check_logit_bias, check_stream_options, check_token_lists
from mockserver.core.validate.schema import check_schema, type_name

NAME = "completions"
SCHEMA = "completion_request"
DEFAULT_MAX_TOKENS = 16
"""The legacy endpoint's default `max_tokens` (OpenAI's API description)."""
DOCUMENT_START = "<|endoftext|>"
"""What a null prompt means: generate as if from the start of a document."""
_SUFFIX_MODELS = ("gpt-3.5-turbo-instruct",)


@dataclass(frozen=True, slots=True)
class TextChoice:
    """One returned choice: the echoed prompt (when asked), the completion, and their log-probabilities
    in the chat generator's entry shape (the prompt's first entry has no log-probability)."""

    index: int
    finish_reason: str
    tokens: tuple[str, ...]
    echo: tuple[str, ...] = ()
    logprobs: tuple[dict[str, Any], ...] | None = None
    offset: int = 0
    """Characters of the prompt before the returned text, where `text_offset` counts from."""

    @property
    def text(self) -> str:
        return "".join(self.echo) + "".join(self.tokens)


@dataclass(frozen=True, slots=True)
class TextCompletionPlan:
    id: str
    created: int
    model: str
    system_fingerprint: str
    choices: tuple[TextChoice, ...]
    usage: dict[str, Any]


def _prompts(request: Mapping[str, Any]) -> list[str | list[int]]:
    """The prompts as sent: each a text or a list of token ids."""
    prompt = request.get("prompt")
    if prompt is None:
        return [DOCUMENT_START]
    if isinstance(prompt, str):
        return [prompt]
    if prompt and all(isinstance(item, int) for item in prompt):
        return [list(prompt)]
    return list(prompt) if prompt else [""]


def _prompt_pieces(prompt: str | list[int], encoding: str) -> list[str]:
    return tokenize(prompt, encoding) if isinstance(prompt, str) else pieces(prompt, encoding)


def _prompt_text(prompt: str | list[int], encoding: str) -> str:
    return prompt if isinstance(prompt, str) else "".join(pieces(prompt, encoding))


def _check_tokens(prompts: Sequence[str | list[int]], encoding: str, nested: bool) -> None:
    for index, prompt in enumerate(prompts):
        if isinstance(prompt, str):
            continue
        for position, token in enumerate(prompt):
            if not is_token(token, encoding):
                where = f"prompt.[{index}].[{position}]" if nested else f"prompt.[{position}]"
                raise invalid_request(f"Invalid token in prompt: {token} is not a token id of this model's "
                                      f"encoding ({encoding}).", where)


def _limit(request: Mapping[str, Any]) -> int:
    limit = request.get("max_tokens")
    return DEFAULT_MAX_TOKENS if limit is None else limit


def _check_room(tokens: int, limit: int, window: int) -> None:
    """The legacy endpoint's wording for a prompt and completion over the context window."""
    if tokens + limit > window:
        raise ApiError("invalid_request", f"This model's maximum context length is {window} tokens, however you "
                       f"requested {tokens + limit} tokens ({tokens} in your prompt; {limit} for the completion). "
                       "Please reduce your prompt; or completion length.")


def _check_rules(body: Mapping[str, Any]) -> None:
    check_integers(body, SCHEMA)
    check_token_lists(body.get("prompt"), "prompt")
    check_stream_options(body)
    check_logit_bias(body)
    n = body.get("n") or 1
    best_of = body.get("best_of")
    if best_of is not None and best_of < n:
        raise invalid_request(f"Invalid value for 'best_of': best_of must be greater than or equal to n ({best_of} < "
                              f"{n}).", "best_of")
    if best_of is not None and best_of > 1 and body.get("stream") is True:
        raise invalid_request("Invalid value for 'stream': results cannot be streamed when best_of is greater than 1.",
                              "stream")
    model = body["model"]
    if body.get("suffix") is not None and model in known_models() and model not in _SUFFIX_MODELS:
        raise invalid_request(f"Invalid value for 'suffix': suffix is only supported for "
                              f"{', '.join(_SUFFIX_MODELS)}.", "suffix")


def _view(request: Mapping[str, Any], encoding: str) -> dict[str, Any]:
    """The prompts as user turns, for scenario rules (`last_user` tests the last prompt)."""
    messages = [{"role": "user", "content": _prompt_text(p, encoding)} for p in _prompts(request)]
    return {"model": request["model"], "messages": messages}


def validate(body: Any, options: ServeOptions) -> Validated:
    if not isinstance(body, dict):
        raise invalid_request(f"Invalid type for request body: expected an object, but got {type_name(body)} instead.")
    unknown = body.keys() - request_parameters(SCHEMA)
    if unknown:
        raise unknown_parameter(min(unknown))
    check_schema(body, (SCHEMA,))
    check_model(body["model"], options)
    check_kind(body["model"], "completion", "v1/completions")
    _check_rules(body)
    encoding = encoding_of(body["model"])
    prompts = _prompts(body)
    prompt = body.get("prompt")
    _check_tokens(prompts, encoding, isinstance(prompt, list) and bool(prompt) and isinstance(prompt[0], list))
    sizes = [count(p, encoding) if isinstance(p, str) else len(p) for p in prompts]
    window = options.context_windows.get(body["model"]) or model_info(body["model"]).context_window
    limit = _limit(body)
    for size in sizes:
        _check_room(size, limit, window)
    candidates = max(body.get("n") or 1, body.get("best_of") or 1)
    total = sum(sizes)
    return Validated(body, total, total + limit * candidates * len(prompts), view=_view(body, encoding))


def _chat_request(request: Mapping[str, Any], prompt: str | list[int], encoding: str) -> dict[str, Any]:
    """One prompt as the chat generator reads it: a user turn, with what shapes sampling and where
    generation stops. The suffix (text the completion must lead into) shapes the text too."""
    n = request.get("n") or 1
    candidates = max(n, request.get("best_of") or 1)
    chat: dict[str, Any] = {"model": request["model"], "messages": [{"role": "user", "content": _prompt_text(
        prompt, encoding)}], "max_tokens": _limit(request), "n": candidates}
    for name in ("temperature", "top_p", "seed", "presence_penalty", "frequency_penalty", "logit_bias", "stop",
                 "suffix"):
        if request.get(name) is not None:
            chat[name] = request[name]
    if request.get("logprobs") is not None or candidates > n:
        chat["logprobs"] = True
        chat["top_logprobs"] = request.get("logprobs") or 0
    return chat


def _best(choices: Sequence[ChoicePlan], n: int) -> list[ChoicePlan]:
    """The `n` candidates with the highest mean log-probability per token, in the order generated."""
    def mean(choice: ChoicePlan) -> float:
        entries = choice.logprobs or ()
        return sum(entry["logprob"] for entry in entries) / len(entries) if entries else 0.0
    ranked = sorted(range(len(choices)), key=lambda i: (-mean(choices[i]), i))[:n]
    return [choices[i] for i in sorted(ranked)]


def _echo(request: Mapping[str, Any], prompt: str | list[int], digest: bytes, index: int,
          encoding: str) -> tuple[tuple[str, ...], tuple[dict[str, Any], ...]]:
    """The prompt's tokens and their log-probabilities; the first token has none, as no token precedes it."""
    tokens = _prompt_pieces(prompt, encoding)
    if request.get("logprobs") is None:
        return tuple(tokens), ()
    entries = token_logprobs(rng_for(digest, "echo", index), tokens, request["logprobs"], encoding)
    if entries:
        entries[0] = {**entries[0], "logprob": None, "top_logprobs": None}
    return tuple(tokens), tuple(entries)


def _text_choices(request: Mapping[str, Any], generated: Sequence[ChoicePlan], prompt: str | list[int],
                  first_index: int, digest: bytes, encoding: str) -> list[TextChoice]:
    n = request.get("n") or 1
    chosen = _best(generated, n) if len(generated) > n else list(generated)
    wanted = request.get("logprobs") is not None
    prompt_length = len(_prompt_text(prompt, encoding))
    out = []
    for position, choice in enumerate(chosen):
        index = first_index + position
        echo: tuple[str, ...] = ()
        echo_entries: tuple[dict[str, Any], ...] = ()
        if request.get("echo"):
            echo, echo_entries = _echo(request, prompt, digest, index, encoding)
        logprobs = (*echo_entries, *(choice.logprobs or ())) if wanted else None
        out.append(TextChoice(index=index, finish_reason=choice.finish_reason, tokens=choice.content_tokens or (),
                              echo=echo, logprobs=logprobs, offset=0 if echo else prompt_length))
    return out


def _plan(request: Mapping[str, Any], context: Context, script: Script | None = None) -> TextCompletionPlan:
    encoding = encoding_of(request["model"])
    n = request.get("n") or 1
    choices: list[TextChoice] = []
    completion_tokens = 0
    for number, prompt in enumerate(_prompts(request)):
        chat = _chat_request(request, prompt, encoding)
        digest = content_digest(chat, context.server_seed)
        planned: CompletionPlan = (plan_scripted(script, chat, replace(context, prompt_tokens=0)) if script
                                   else plan_completion(chat, replace(context, prompt_tokens=0)))
        completion_tokens += planned.usage["completion_tokens"]
        choices += _text_choices(request, planned.choices, prompt, number * n, digest, encoding)
    prompt_tokens = context.prompt_tokens
    if prompt_tokens is None:
        prompt_tokens = sum(count(p, encoding) if isinstance(p, str) else len(p) for p in _prompts(request))
    digest = content_digest(request, context.server_seed)
    return TextCompletionPlan(
        id="cmpl-" + completion_id(context, digest).removeprefix("chatcmpl-"),
        created=context.created,
        model=request["model"],
        system_fingerprint=system_fingerprint(context.server_seed),
        choices=tuple(choices),
        usage={"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
               "total_tokens": prompt_tokens + completion_tokens},
    )


def plan(request: Mapping[str, Any], context: Context) -> TextCompletionPlan:
    return _plan(request, context)


def scripted(script: Script, request: Mapping[str, Any], context: Context) -> TextCompletionPlan:
    """A script's words as every choice's text; tool calls and refusals have no text form here, so they
    become their text (the arguments, the refusal)."""
    if script.kind == "tool_calls":
        script = Script("reply", text="".join(arguments for _, arguments in script.tool_calls))
    return _plan(request, context, Script("reply", text=script.text or ""))


def legacy_logprobs(entries: Sequence[dict[str, Any]], offset: int) -> dict[str, Any]:
    """The legacy shape: parallel lists of tokens, their log-probabilities, their alternatives as a map
    (the chosen token among them) and each token's offset in the prompt-and-completion text."""
    tokens, offsets, position = [], [], offset
    for entry in entries:
        tokens.append(entry["token"])
        offsets.append(position)
        position += len(entry["token"])
    return {
        "tokens": tokens,
        "token_logprobs": [entry["logprob"] for entry in entries],
        "top_logprobs": [None if entry["top_logprobs"] is None else
                         {alt["token"]: alt["logprob"] for alt in entry["top_logprobs"]} or
                         {entry["token"]: entry["logprob"]} for entry in entries],
        "text_offset": offsets,
    }


def _choice_logprobs(choice: TextChoice) -> dict[str, Any] | None:
    return None if choice.logprobs is None else legacy_logprobs(choice.logprobs, choice.offset)


def completion_object(plan: TextCompletionPlan) -> dict[str, Any]:
    return {
        "id": plan.id,
        "object": "text_completion",
        "created": plan.created,
        "model": plan.model,
        "choices": [{"text": choice.text, "index": choice.index, "logprobs": _choice_logprobs(choice),
                     "finish_reason": choice.finish_reason} for choice in plan.choices],
        "usage": plan.usage,
        "system_fingerprint": plan.system_fingerprint,
    }


def body(plan: TextCompletionPlan, quirk_names: tuple[str, ...]) -> bytes:
    return orjson.dumps(quirks.apply_body(quirk_names, completion_object(plan), NAME))


def _deltas(choice: TextChoice) -> Iterator[tuple[str, dict[str, Any] | None]]:
    """The echoed prompt in one piece, then one delta per token, each with its own log-probabilities."""
    entries = choice.logprobs
    offset = choice.offset
    skip = 0
    if choice.echo:
        skip = len(choice.echo)
        yield "".join(choice.echo), None if entries is None else legacy_logprobs(entries[:skip], offset)
        offset += sum(len(token) for token in choice.echo)
    for position, token in enumerate(choice.tokens):
        yield token, None if entries is None else legacy_logprobs(entries[skip + position:skip + position + 1],
                                                                  offset)
        offset += len(token)


def _interleaved(plan: TextCompletionPlan) -> Iterator[tuple[TextChoice, str, dict[str, Any] | None]]:
    streams = [(choice, list(_deltas(choice))) for choice in plan.choices]
    for position in range(max((len(deltas) for _, deltas in streams), default=0)):
        for choice, deltas in streams:
            if position < len(deltas):
                yield choice, *deltas[position]


def stream_chunks(plan: TextCompletionPlan, request: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One chunk per token per choice (the choices take turns), a chunk with each choice's finish reason,
    and with `include_usage` a last chunk with `choices: []` and the usage (the others carry null)."""
    head = {"id": plan.id, "object": "text_completion", "created": plan.created, "model": plan.model}
    include_usage = bool((request.get("stream_options") or {}).get("include_usage"))
    bodies = [[{"text": text, "index": choice.index, "logprobs": logprobs, "finish_reason": None}]
              for choice, text, logprobs in _interleaved(plan)]
    bodies += [[{"text": "", "index": choice.index, "logprobs": None, "finish_reason": choice.finish_reason}]
               for choice in plan.choices]
    chunks = [{**head, "choices": choices, "system_fingerprint": plan.system_fingerprint} for choices in bodies]
    if include_usage:
        chunks = [{**chunk, "usage": None} for chunk in chunks]
        chunks.append({**head, "choices": [], "system_fingerprint": plan.system_fingerprint, "usage": plan.usage})
    return chunks


def stream(plan: TextCompletionPlan, request: Mapping[str, Any], quirk_names: tuple[str, ...]) -> list[bytes]:
    chunks = stream_chunks(plan, request)
    if quirks.bends(quirk_names, NAME):
        return quirks.apply_stream(quirk_names, chunks, NAME)
    return [b"data: " + orjson.dumps(chunk) + b"\n\n" for chunk in chunks] + [DONE_EVENT]


def pacing(plan: TextCompletionPlan) -> tuple[int, str]:
    return sum(len(choice.tokens) + 1 for choice in plan.choices), plan.id


def quick(body: Any) -> bool:
    """Several choices or candidates multiply the work; a single one is quick."""
    if not isinstance(body, dict):
        return True
    return body.get("n", 1) in (1, None) and body.get("best_of", 1) in (1, None) and not isinstance(
        body.get("prompt"), list)


COMPLETIONS = Endpoint(
    name=NAME,
    method="POST",
    paths=("/completions",),
    validate=validate,
    plan=plan,
    scripted=scripted,
    body=body,
    stream=stream,
    pacing=pacing,
    quick=quick,
)
