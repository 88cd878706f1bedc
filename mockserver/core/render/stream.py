"""Cuts a `CompletionPlan` into `chat.completion.chunk` objects the way the real API streams them.

The layout follows OpenAI's own recorded streams: each choice opens with a role delta (`content: ""`
for text, `content: null` + `refusal: ""` for a refusal, the first tool call folded in when there is
only one), then one delta per token, then an empty delta carrying the finish reason. With `n > 1` the
choices interleave: each opens with its role delta and first token, then the choices take turns one
token at a time, and the finish chunks come last in index order. Because every delta is a token of the
plan, the concatenated stream is exactly the non-streamed message.

Pure: a plan and the request's stream options in, plain dicts (and their encoded bytes) out.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson

from mockserver.contract.sse import DONE_EVENT
from mockserver.core.generate.tokenizer import encoding_of, tokenize
from mockserver.core.plan import ChoicePlan, CompletionPlan, ToolCallPlan

Delta = tuple[dict[str, Any], dict[str, Any] | None]
"""A choice delta and the `logprobs` object that goes beside it."""

_AUDIO_SLICE = 8192
_PAD_BLOCK = 16
_PAD_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_PAD_POOL = "".join(random.Random(0x0B5F).choices(_PAD_ALPHABET, k=4096))
_PAD_BYTES = _PAD_POOL.encode()
_PAD_SPAN = len(_PAD_POOL) - _PAD_BLOCK
Pool = TypeVar("Pool", str, bytes)


def _pad_offset(completion_id: str) -> int:
    """Where a stream's padding starts in the pool: taken from its completion id."""
    return int.from_bytes(hashlib.blake2b(completion_id.encode(), digest_size=4).digest(), "big")


def _pad(pool: Pool, offset: int, count: int, fragment_length: int) -> Pool:
    """The padding of a stream's `count`-th chunk, whose delta holds `fragment_length` characters: the pool
    as text for chunk objects, or as bytes for events written directly (the same ASCII either way)."""
    start = (offset + count * 97) % _PAD_SPAN
    return pool[start:start + _PAD_BLOCK - fragment_length % _PAD_BLOCK]


@dataclass(frozen=True, slots=True)
class StreamOptions:
    """The request's `stream_options`, with the API's defaults (usage off, obfuscation on)."""

    include_usage: bool = False
    include_obfuscation: bool = True

    @classmethod
    def from_request(cls, request: Mapping[str, Any]) -> StreamOptions:
        options = request.get("stream_options") or {}
        return cls(include_usage=bool(options.get("include_usage", False)),
                   include_obfuscation=bool(options.get("include_obfuscation", True)))


def _logprob_slot(choice: ChoicePlan, entries: list[dict[str, Any]]) -> dict[str, Any] | None:
    if choice.logprobs is None:
        return None
    if choice.refusal_tokens is not None:
        return {"content": None, "refusal": entries}
    return {"content": entries, "refusal": None}


def _token_deltas(choice: ChoicePlan, key: str, tokens: Sequence[str]) -> Iterator[Delta]:
    for position, token in enumerate(tokens):
        entries = [choice.logprobs[position]] if choice.logprobs is not None else []
        yield {key: token}, _logprob_slot(choice, entries)


def _call_header(index: int, call: ToolCallPlan) -> dict[str, Any]:
    if call.kind == "custom":
        return {"index": index, "id": call.id, "type": "custom", "custom": {"name": call.name, "input": ""}}
    return {"index": index, "id": call.id, "type": "function", "function": {"name": call.name, "arguments": ""}}


def _call_fragment(index: int, call: ToolCallPlan, token: str) -> dict[str, Any]:
    """Custom tools stream their free-form input the way function tools stream JSON arguments."""
    if call.kind == "custom":
        return {"index": index, "custom": {"input": token}}
    return {"index": index, "function": {"arguments": token}}


def _tool_call_deltas(calls: Sequence[ToolCallPlan], opening: dict[str, Any] | None) -> Iterator[Delta]:
    """A single call rides in the role delta; parallel calls each get their own header delta."""
    for index, call in enumerate(calls):
        if opening is not None and len(calls) == 1:
            yield {**opening, "tool_calls": [_call_header(index, call)], "refusal": None}, None
        else:
            if opening is not None and index == 0:
                yield opening, None
            yield {"tool_calls": [_call_header(index, call)]}, None
        for token in call.argument_tokens:
            yield {"tool_calls": [_call_fragment(index, call, token)]}, None


def choice_deltas(choice: ChoicePlan, encoding: str) -> list[Delta]:
    """Every delta of one choice before its finish chunk, role delta first; `encoding` (the model's) cuts
    a spoken reply's transcript into tokens."""
    role = {"role": "assistant"}
    deltas: list[Delta] = []
    if choice.refusal_tokens is not None:
        deltas.append(({**role, "content": None, "refusal": ""}, _logprob_slot(choice, [])))
        deltas.extend(_token_deltas(choice, "refusal", choice.refusal_tokens))
    elif choice.content_tokens is not None:
        deltas.append(({**role, "content": "", "refusal": None}, _logprob_slot(choice, [])))
        deltas.extend(_token_deltas(choice, "content", choice.content_tokens))
        deltas.extend(_tool_call_deltas(choice.tool_calls, None))
    elif choice.tool_calls:
        deltas.extend(_tool_call_deltas(choice.tool_calls, {**role, "content": None}))
    elif choice.function_call is not None:
        call = choice.function_call
        deltas.append(({**role, "content": None, "function_call": {"name": call.name, "arguments": ""},
                        "refusal": None}, None))
        deltas.extend(({"function_call": {"arguments": token}}, None) for token in call.argument_tokens)
    else:
        deltas.append(({**role, "content": None, "refusal": None}, _logprob_slot(choice, [])))
        if choice.audio is not None:
            deltas.extend(_audio_deltas(choice.audio, encoding))
    if choice.reasoning_content_tokens is not None:
        deltas[1:1] = [({"reasoning": token}, None) for token in choice.reasoning_content_tokens]
    return deltas


def _audio_deltas(audio: Mapping[str, Any], encoding: str) -> Iterator[Delta]:
    """Spoken replies stream `delta.audio` in parts that concatenate to `message.audio`: the id with
    the first transcript token, the rest of the transcript a token at a time, the base64 data in
    slices (each whole base64 quanta, so each decodes on its own), and last the `expires_at` alone,
    as the audio models end their streams."""
    for position, token in enumerate(tokenize(audio["transcript"], encoding)):
        yield {"audio": {"id": audio["id"], "transcript": token} if position == 0 else {"transcript": token}}, None
    data = audio["data"]
    for start in range(0, len(data), _AUDIO_SLICE):
        yield {"audio": {"data": data[start:start + _AUDIO_SLICE]}}, None
    yield {"audio": {"expires_at": audio["expires_at"]}}, None


def _interleave(plan: CompletionPlan) -> Iterator[tuple[int, Delta]]:
    """Role delta and first token of each choice in turn, then one delta per choice per round."""
    encoding = encoding_of(plan.model)
    per_choice = [(choice.index, choice_deltas(choice, encoding)) for choice in plan.choices]
    for index, deltas in per_choice:
        for delta in deltas[:2]:
            yield index, delta
    for position in range(2, max((len(d) for _, d in per_choice), default=0)):
        for index, deltas in per_choice:
            if position < len(deltas):
                yield index, deltas[position]


def _fragment_length(delta: dict[str, Any]) -> int:
    text = delta.get("content") or delta.get("refusal") or delta.get("audio", {}).get("transcript") or ""
    for call in delta.get("tool_calls") or ():
        text += call.get("function", {}).get("arguments", "") + call.get("custom", {}).get("input", "")
    if "function_call" in delta:
        text += delta["function_call"].get("arguments", "")
    return len(text)


class Obfuscator:
    """Padding that rounds each delta's text up to a block, so chunk sizes say little about tokens.

    The characters come from a fixed pool at an offset taken from the completion id: deterministic,
    and cheap enough to run per chunk.
    """

    def __init__(self, completion_id: str) -> None:
        self._offset = _pad_offset(completion_id)
        self._count = 0

    def __call__(self, fragment_length: int) -> str:
        self._count += 1
        return _pad(_PAD_POOL, self._offset, self._count - 1, fragment_length)


def _head(plan: CompletionPlan) -> dict[str, Any]:
    """The fields every chunk of one stream repeats unchanged."""
    return {
        "id": plan.id,
        "object": "chat.completion.chunk",
        "created": plan.created,
        "model": plan.model,
        "service_tier": plan.service_tier,
        "system_fingerprint": plan.system_fingerprint,
    }


def _bodies(plan: CompletionPlan, options: StreamOptions) -> Iterator[tuple[list[dict[str, Any]], str | None]]:
    """What varies from chunk to chunk: its `choices` and its obfuscation padding (None when off)."""
    obfuscate = Obfuscator(plan.id) if options.include_obfuscation else None
    for index, (delta, logprobs) in _interleave(plan):
        padding = obfuscate(_fragment_length(delta)) if obfuscate else None
        yield [{"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": None}], padding
    for choice in plan.choices:
        padding = obfuscate(0) if obfuscate else None
        yield [{"index": choice.index, "delta": {}, "logprobs": None, "finish_reason": choice.finish_reason}], padding
    if options.include_usage:
        yield [], obfuscate(0) if obfuscate else None


def stream_chunks(plan: CompletionPlan, options: StreamOptions = StreamOptions()) -> list[dict[str, Any]]:
    """The whole stream as chunk objects, in order (without `[DONE]`, which is not a chunk)."""
    head = _head(plan)
    chunks = []
    for choices, padding in _bodies(plan, options):
        chunk = {**head, "choices": choices}
        if options.include_usage:
            chunk["usage"] = None if choices else plan.usage
        if padding is not None:
            chunk["obfuscation"] = padding
        chunks.append(chunk)
    return chunks


def _plain(plan: CompletionPlan) -> bool:
    """One choice of text and nothing else: the common stream, which `_plain_events` writes."""
    if len(plan.choices) != 1:
        return False
    choice = plan.choices[0]
    return (choice.content_tokens is not None and choice.refusal_tokens is None and choice.logprobs is None
            and not choice.tool_calls and choice.reasoning_content_tokens is None)


def _plain_events(plan: CompletionPlan, prefix: bytes, null_usage: bytes, final_usage: bytes,
                  obfuscate: bool) -> list[bytes]:
    """`stream_events` for a plan of one text choice, written token by token without building the chunk
    objects: the same bytes (a test holds the two to it), at a fraction of the cost."""
    choice = plan.choices[0]
    index = str(choice.index).encode()
    offset = _pad_offset(plan.id) if obfuscate else 0
    dumps = orjson.dumps

    def padding(count: int, length: int) -> bytes:
        return b',"obfuscation":"' + _pad(_PAD_BYTES, offset, count, length) + b'"' if obfuscate else b""

    token_open = prefix + b'[{"index":' + index + b',"delta":{"content":'
    token_close = b'},"logprobs":null,"finish_reason":null}]' + null_usage
    events = [prefix + b'[{"index":' + index + b',"delta":{"role":"assistant","content":"","refusal":null},'
              b'"logprobs":null,"finish_reason":null}]' + null_usage + padding(0, 0) + b"}\n\n"]
    tokens = choice.content_tokens
    if obfuscate:
        token_close += b',"obfuscation":"'
        events += [token_open + dumps(token) + token_close + _pad(_PAD_BYTES, offset, count, len(token)) + b'"}\n\n'
                   for count, token in enumerate(tokens, 1)]
    else:
        events += [token_open + dumps(token) + token_close + b"}\n\n" for token in tokens]
    count = len(choice.content_tokens) + 1
    events.append(prefix + b'[{"index":' + index + b',"delta":{},"logprobs":null,"finish_reason":' +
                  dumps(choice.finish_reason) + b"}]" + null_usage + padding(count, 0) + b"}\n\n")
    if null_usage:
        events.append(prefix + b"[]" + final_usage + padding(count + 1, 0) + b"}\n\n")
    events.append(DONE_EVENT)
    return events


def stream_events(plan: CompletionPlan, options: StreamOptions = StreamOptions()) -> list[bytes]:
    """The stream as server-sent events, `[DONE]` last: byte for byte `stream_chunks` encoded, but the
    head every chunk shares is encoded once, so each event only pays for what varies."""
    prefix = b"data: " + orjson.dumps(_head(plan))[:-1] + b',"choices":'
    null_usage = b',"usage":null' if options.include_usage else b""
    final_usage = b',"usage":' + orjson.dumps(plan.usage)
    if _plain(plan):
        return _plain_events(plan, prefix, null_usage, final_usage, options.include_obfuscation)
    dumps = orjson.dumps
    events = []
    for choices, padding in _bodies(plan, options):
        event = prefix + dumps(choices) + (null_usage if choices else final_usage)
        if padding is not None:
            event += b',"obfuscation":"' + padding.encode() + b'"'
        events.append(event + b"}\n\n")
    events.append(DONE_EVENT)
    return events


def choice_chunk_count(plan: CompletionPlan) -> int:
    """How many chunks carry a choice: the events a model's token rate paces."""
    encoding = encoding_of(plan.model)
    return sum(len(choice_deltas(choice, encoding)) + 1 for choice in plan.choices)
