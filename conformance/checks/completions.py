"""The checks of `/completions` (the legacy `text_completion` endpoint), and its stream state machine.

Checks take the request and the reply as a `text_completion` object (a non-streamed body, or what a
stream assembled). Where a chat check means the same thing (`completion_ids`, `usage_arithmetic`) the
group reuses it; these are the ones the legacy shape needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance.checks.catalogue import CATALOGUE, CheckInfo, register
from conformance.checks.events import ChunkJudge
from conformance.checks.outcome import Violation, fail
from conformance.checks.schemas import schema_error
from mockserver.contract import FINISH_LENGTH
from mockserver.contract.request import stop_list

Request = Mapping[str, Any]
DEFAULT_MAX_TOKENS = 16
"""The legacy endpoint's default `max_tokens`."""


def prompts(request: Request) -> list[Any]:
    """The prompts a request sends: a text, a token list, or a list of either."""
    prompt = request.get("prompt")
    if isinstance(prompt, str) or prompt is None:
        return [prompt]
    if prompt and all(isinstance(item, int) for item in prompt):
        return [prompt]
    return list(prompt) if isinstance(prompt, list) else [prompt]


def _choices(completion: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    choices = completion.get("choices")
    return [c for c in choices if isinstance(c, Mapping)] if isinstance(choices, list) else []


@register("completions", on_stream=False)
def text_completion_schema(request: Request, completion: Mapping[str, Any]) -> bool:
    """A non-streamed reply validates against the `text_completion` schema."""
    problem = schema_error("completion", completion)
    if problem is not None:
        raise fail("text_completion_schema", "a body valid against the text_completion schema", problem)
    return True


@register("completions", on_stream=False)
def text_completion_object(request: Request, completion: Mapping[str, Any]) -> bool:
    """A reply has `object: "text_completion"`."""
    if completion.get("object") != "text_completion":
        raise fail("text_completion_object", "object 'text_completion'", completion.get("object"))
    return True


@register("completions")
def text_choices_count(request: Request, completion: Mapping[str, Any]) -> bool:
    """`n` choices per prompt, numbered 0.. across the prompts in order."""
    expected = (request.get("n") or 1) * len(prompts(request))
    indices = sorted((choice.get("index") for choice in _choices(completion)), key=repr)
    if indices != list(range(expected)):
        raise fail("text_choices_count", f"{expected} choice(s) with indices {list(range(expected))}",
                   f"indices {indices}")
    return True


@register("completions")
def text_max_tokens_honoured(request: Request, completion: Mapping[str, Any]) -> bool:
    """`max_tokens` (16 when unset) bounds `completion_tokens` per returned choice, and a choice cut by it
    reports `finish_reason: "length"` with exactly that many tokens."""
    limit = request.get("max_tokens")
    limit = DEFAULT_MAX_TOKENS if limit is None else limit
    usage = completion.get("usage")
    if not isinstance(usage, Mapping) or not isinstance(usage.get("completion_tokens"), int):
        return False
    choices = _choices(completion)
    candidates = max(request.get("best_of") or 1, request.get("n") or 1) * len(prompts(request))
    used = usage["completion_tokens"]
    if used > limit * candidates:
        raise fail("text_max_tokens_honoured", f"completion_tokens <= {limit} per generated choice",
                   f"completion_tokens {used} for {candidates} choice(s)")
    if len(choices) == 1 and candidates == 1 and choices[0].get("finish_reason") == FINISH_LENGTH and used != limit:
        raise fail("text_max_tokens_honoured", f"finish_reason 'length' with completion_tokens == {limit}",
                   f"completion_tokens {used}")
    return True


@register("completions")
def text_stop_sequences_absent(request: Request, completion: Mapping[str, Any]) -> bool:
    """No stop sequence appears in the generated text (an echoed prompt may hold one)."""
    stops = stop_list(request)
    if not stops:
        return False
    for choice in _choices(completion):
        text = choice.get("text") or ""
        if request.get("echo"):
            prompt = prompts(request)[choice.get("index", 0) // (request.get("n") or 1)]
            text = text[len(prompt):] if isinstance(prompt, str) and text.startswith(prompt) else text
        found = [stop for stop in stops if stop in text]
        if found:
            raise fail("text_stop_sequences_absent", f"no {found[0]!r} in the text", text)
    return True


@register("completions")
def echo_honoured(request: Request, completion: Mapping[str, Any]) -> bool:
    """With `echo`, each choice's text starts with its prompt."""
    if not request.get("echo"):
        return False
    n = request.get("n") or 1
    texts = prompts(request)
    judged = False
    for choice in _choices(completion):
        index = choice.get("index")
        prompt = texts[index // n] if isinstance(index, int) and 0 <= index // n < len(texts) else None
        if not isinstance(prompt, str):
            continue
        judged = True
        if not str(choice.get("text") or "").startswith(prompt):
            raise fail("echo_honoured", f"text starting with the prompt {prompt!r}", choice.get("text"))
    return judged


def _check_legacy(logprobs: Any, text: str, top: int) -> None:
    if not isinstance(logprobs, Mapping):
        raise fail("text_logprobs_shape", "a logprobs object with tokens, token_logprobs, top_logprobs, "
                   "text_offset", logprobs)
    lists = {key: logprobs.get(key) for key in ("tokens", "token_logprobs", "top_logprobs", "text_offset")}
    if any(not isinstance(value, list) for value in lists.values()):
        raise fail("text_logprobs_shape", "tokens, token_logprobs, top_logprobs and text_offset as lists", logprobs)
    if len({len(value) for value in lists.values()}) != 1:
        raise fail("text_logprobs_shape", "lists of one length", {k: len(v) for k, v in lists.items()})
    tokens, values, tops, offsets = lists.values()
    if "".join(t for t in tokens if isinstance(t, str)) != text and "\ufffd" not in "".join(map(str, tokens)):
        raise fail("text_logprobs_shape", "tokens that concatenate to the text", f"{tokens!r} vs {text!r}")
    for position, (value, alternatives) in enumerate(zip(values, tops)):
        if value is None and alternatives is None:
            continue
        if not isinstance(value, (int, float)) or value > 0:
            raise fail("text_logprobs_shape", "token log-probabilities <= 0", value)
        if not isinstance(alternatives, Mapping) or len(alternatives) > top + 1 or any(
                not isinstance(v, (int, float)) or v > 0 for v in alternatives.values()):
            raise fail("text_logprobs_shape", f"at most {top + 1} alternatives per token, each <= 0",
                       f"{alternatives!r} at token {position}")
    for position in range(1, len(offsets)):
        if offsets[position] != offsets[position - 1] + len(tokens[position - 1]):
            raise fail("text_logprobs_shape", "text_offset advancing by each token's length", offsets)


@register("completions")
def text_logprobs_shape(request: Request, completion: Mapping[str, Any]) -> bool:
    """With `logprobs: k`, each choice carries the legacy lists (`tokens`, `token_logprobs`, `top_logprobs`
    with at most k+1 alternatives, `text_offset`) that describe its text; without it, `logprobs` is null."""
    wanted = request.get("logprobs")
    judged = False
    for choice in _choices(completion):
        if wanted is None:
            if choice.get("logprobs") is not None:
                raise fail("text_logprobs_shape", "logprobs null when not requested", choice.get("logprobs"))
            continue
        _check_legacy(choice.get("logprobs"), str(choice.get("text") or ""), wanted)
        judged = True
    return judged


TEXT_STREAM_RULES = {
    "text_chunk_schema": "Every streamed chunk validates against the `text_completion` schema.",
}
CATALOGUE.update({name: CheckInfo(name, "completions", doc, True) for name, doc in TEXT_STREAM_RULES.items()})


@dataclass
class TextChoice:
    text: str = ""
    finish_reason: str | None = None
    logprobs: dict[str, list[Any]] | None = None


@dataclass
class TextStreamResult:
    chunks: list[dict[str, Any]]
    choices: dict[int, TextChoice]
    usage: dict[str, Any] | None
    done: bool
    violations: list[Violation] = field(default_factory=list)

    def as_completion(self) -> dict[str, Any]:
        first = self.chunks[0] if self.chunks else {}
        return {"id": first.get("id"), "object": "text_completion", "created": first.get("created"),
                "model": first.get("model"),
                "choices": [{"index": index, "text": choice.text, "finish_reason": choice.finish_reason,
                             "logprobs": choice.logprobs} for index, choice in sorted(self.choices.items())],
                **({"usage": self.usage} if self.usage is not None else {})}


class TextStreamChecker(ChunkJudge):
    """The `text_completion` stream: the chat stream's framing, ids, finish, usage and `[DONE]` rules (by
    their names), each chunk against the `text_completion` schema, and the text each choice adds up to."""

    def __init__(self, request: Request) -> None:
        super().__init__()
        self.include_usage = (request.get("stream_options") or {}).get("include_usage") is True
        self.logprobs = request.get("logprobs") is not None
        self.chunks: list[dict[str, Any]] = []
        self.choices: dict[int, TextChoice] = {}
        self.usage: dict[str, Any] | None = None
        self._usage_seen = False

    def _chunk(self, chunk: Any) -> None:
        problem = schema_error("completion", chunk)
        if problem is not None:
            self._fail("text_chunk_schema", "chunks valid against the text_completion schema", problem)
        if not isinstance(chunk, dict):
            return
        if self.chunks:
            for key in ("id", "created", "model"):
                if chunk.get(key) != self.chunks[0].get(key):
                    self._fail("stream_consistent_ids", f"{key} {self.chunks[0].get(key)!r} on every chunk",
                               chunk.get(key))
        self.chunks.append(chunk)
        if self._usage_seen:
            self._fail("stream_usage_last", "the usage chunk to be the last one before [DONE]", chunk)
        if chunk.get("usage") is not None:
            if not self.include_usage:
                self._fail("stream_usage_only_when_asked", "no usage in chunks unless stream_options.include_usage",
                           chunk.get("usage"))
            elif chunk.get("choices") != []:
                self._fail("stream_usage_last", "the usage chunk to have choices: []", chunk.get("choices"))
            self.usage = chunk["usage"] if isinstance(chunk["usage"], dict) else None
            self._usage_seen = True
        for choice in chunk.get("choices") or ():
            if isinstance(choice, dict) and isinstance(choice.get("index"), int):
                self._choice(choice)

    def _choice(self, choice: dict[str, Any]) -> None:
        state = self.choices.setdefault(choice["index"], TextChoice())
        text = choice.get("text")
        if state.finish_reason is not None and (text or choice.get("finish_reason") is not None):
            self._fail("stream_one_finish", f"nothing more for choice {choice['index']} after its finish_reason",
                       choice)
        if isinstance(text, str):
            state.text += text
        logprobs = choice.get("logprobs")
        if self.logprobs and isinstance(logprobs, dict):
            merged = state.logprobs or {"tokens": [], "token_logprobs": [], "top_logprobs": [], "text_offset": []}
            for key in merged:
                merged[key] += list(logprobs.get(key) or ())
            state.logprobs = merged
        if choice.get("finish_reason") is not None and state.finish_reason is None:
            state.finish_reason = choice["finish_reason"]

    def finish(self, cut_short: str | None = None) -> TextStreamResult:
        self._end_chunks(cut_short)
        unfinished = sorted(i for i, c in self.choices.items() if c.finish_reason is None)
        if unfinished:
            self._fail("stream_one_finish", "a finish_reason for every choice", f"none for choices {unfinished}")
        if self.include_usage and not self._usage_seen:
            self._fail("stream_usage_last", "a usage chunk before [DONE] (stream_options.include_usage)",
                       "no chunk carried usage")
        return TextStreamResult(self.chunks, self.choices, self.usage, self._done, list(self.violations))


TEXT_STREAM_CHECKS = ("stream_content_type", "stream_framing", "text_chunk_schema", "stream_consistent_ids",
                      "stream_one_finish", "stream_usage_last", "stream_usage_only_when_asked", "stream_done",
                      "stream_nothing_after_done")
"""The rules the text stream machine applies, in the order reports list them."""
