"""Deviations real OpenAI-compatible servers are known to have, as pure transformations.

Each quirk rewrites one stage of an exchange (the validated request before generation, the reply body,
an error reply) so that the mock behaves like a server people will meet. App developers use them to test
their client against those servers; the conformance suite's own tests use them to prove it catches each
one. The HTTP shell applies the quirks named in `Config.quirks`, in the order of this table.
"""

from __future__ import annotations

import base64
import hashlib
import json
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from mockserver.contract.sse import encode_stream

Body = dict[str, Any]


def _without(*names: str) -> Callable[[Body], Body]:
    def drop(request: Body) -> Body:
        return {k: v for k, v in request.items() if k not in names}
    return drop


def _named_tool_choice_as_none(request: Body) -> Body:
    """A named tool_choice (function or custom) read as "none": servers that take only the string modes
    answer such a request in text."""
    choice = request.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") in ("function", "custom"):
        return {**request, "tool_choice": "none"}
    return request


def _each_message(change: Callable[[Body], Body]) -> Callable[[Body], Body]:
    def rewrite(body: Body) -> Body:
        choices = [{**c, "message": change(dict(c["message"]))} for c in body.get("choices", ())]
        return {**body, "choices": choices}
    return rewrite


def _drop_refusal(message: Body) -> Body:
    message.pop("refusal", None)
    return message


def _total_without_prompt(body: Body) -> Body:
    usage = dict(body["usage"])
    usage["total_tokens"] = usage["completion_tokens"]
    return {**body, "usage": usage}


def _without_usage(body: Body) -> Body:
    return {k: v for k, v in body.items() if k != "usage"}


def _float_created(body: Body) -> Body:
    return {**body, "created": body["created"] + 0.5}


def _text_completion_object(body: Body) -> Body:
    return {**body, "object": "text_completion"}


def _status(old: int, new: int) -> Callable[[int, Body], tuple[int, Body]]:
    def change(status: int, body: Body) -> tuple[int, Body]:
        return (new if status == old else status), body
    return change


def _unwrapped(status: int, body: Body) -> tuple[int, Body]:
    return status, body.get("error", body)


def _integer_code(status: int, body: Body) -> tuple[int, Body]:
    return status, {**body, "error": {**body["error"], "code": status}} if "error" in body else body


def _tool_arguments_as_objects(message: Body) -> Body:
    if message.get("tool_calls"):
        message["tool_calls"] = [
            {**call, "function": {**call["function"], "arguments": json.loads(call["function"]["arguments"])}}
            if call["type"] == "function" else call for call in message["tool_calls"]]
    return message


def _empty_content_with_tool_calls(message: Body) -> Body:
    if message.get("tool_calls") and message.get("content") is None:
        message["content"] = ""
    return message


def _unseeded(body: Body) -> Body:
    """Rotates each text reply by an amount taken from the completion id, which differs per call: the
    same seeded request gets a different reply every time, yet the mock stays deterministic."""
    turn = hashlib.blake2b(str(body.get("id")).encode(), digest_size=2).digest()[0]

    def rotate(message: Body) -> Body:
        words = (message.get("content") or "").split(" ")
        if len(words) > 1:
            cut = turn % len(words) or 1
            message["content"] = " ".join(words[cut:] + words[:cut])
        return message

    return _each_message(rotate)(body)


def _each_delta(change: Callable[[Body, bool], Body]) -> Callable[[list[Body]], list[Body]]:
    """Rewrites every choice delta; the flag says whether it is the choice's first."""
    def rewrite(chunks: list[Body]) -> list[Body]:
        seen: set[int] = set()
        out = []
        for chunk in chunks:
            choices = []
            for choice in chunk.get("choices", ()):
                first = choice["index"] not in seen
                seen.add(choice["index"])
                choices.append({**choice, "delta": change(dict(choice["delta"]), first)})
            out.append({**chunk, "choices": choices})
        return out
    return rewrite


def _role_everywhere(delta: Body, first: bool) -> Body:
    return {"role": "assistant", **delta}


def _no_first_role(delta: Body, first: bool) -> Body:
    if first:
        delta.pop("role", None)
    return delta


def _repeat_tool_headers(chunks: list[Body]) -> list[Body]:
    """Every tool-call delta repeats the call's id, type and name (llama-cpp-python)."""
    headers: dict[tuple[int, int], Body] = {}
    out = []
    for chunk in chunks:
        choices = []
        for choice in chunk.get("choices", ()):
            calls = []
            for call in choice["delta"].get("tool_calls") or ():
                key = (choice["index"], call["index"])
                if "id" in call:
                    headers[key] = {"id": call["id"], "type": call["type"], "name": call[call["type"]]["name"]}
                header = headers.get(key, {})
                kind = header.get("type", "function")
                calls.append({**call, "id": header.get("id"), "type": kind,
                              kind: {**call.get(kind, {}), "name": header.get("name")}})
            delta = {**choice["delta"], "tool_calls": calls} if calls else choice["delta"]
            choices.append({**choice, "delta": delta})
        out.append({**chunk, "choices": choices})
    return out


def _usage_chunk_with_choice(chunks: list[Body]) -> list[Body]:
    return [{**chunk, "choices": [{"index": 0, "delta": {}}]}
            if chunk.get("usage") and not chunk.get("choices") else chunk for chunk in chunks]


def _varying_ids(chunks: list[Body]) -> list[Body]:
    return [{**chunk, "id": f"{chunk['id']}-{position}"} for position, chunk in enumerate(chunks)]


def _without_default_limit(request: Body) -> Body:
    """No `max_tokens` means no limit, instead of the legacy endpoint's 16."""
    return request if request.get("max_tokens") is not None else {**request, "max_tokens": 4096}


def _chat_shaped_logprobs(body: Body) -> Body:
    """Legacy `logprobs` sent in the chat shape, `{"content": [{"token", "logprob", ...}]}`."""
    def reshape(logprobs: Any) -> Any:
        if not isinstance(logprobs, dict) or "tokens" not in logprobs:
            return logprobs
        return {"content": [{"token": token, "logprob": value} for token, value in
                            zip(logprobs["tokens"], logprobs["token_logprobs"], strict=True)]}
    return {**body, "choices": [{**choice, "logprobs": reshape(choice.get("logprobs"))}
                                for choice in body.get("choices", ())]}


def _each_float_vector(change: Callable[[list[float]], Any]) -> Callable[[Body], Body]:
    def rewrite(body: Body) -> Body:
        return {**body, "data": [{**item, "embedding": change(item["embedding"])}
                                 if isinstance(item.get("embedding"), list) else item for item in body["data"]]}
    return rewrite


def _base64_as_float64(body: Body) -> Body:
    """base64 embeddings encoded as little-endian float64 instead of float32."""
    def recode(item: Body) -> Body:
        value = item.get("embedding")
        if not isinstance(value, str):
            return item
        floats = array("f", base64.b64decode(value))
        return {**item, "embedding": base64.b64encode(array("d", floats).tobytes()).decode()}
    return {**body, "data": [recode(item) for item in body["data"]]}


def _chat_usage(usage: Any) -> Any:
    if not isinstance(usage, dict) or "input_tokens" not in usage:
        return usage
    return {"prompt_tokens": usage["input_tokens"], "completion_tokens": usage["output_tokens"],
            "total_tokens": usage["total_tokens"]}


def _response_chat_usage(body: Body) -> Body:
    return {**body, "usage": _chat_usage(body.get("usage"))}


def _events_chat_usage(events: list[Body]) -> list[Body]:
    return [{**event, "response": _response_chat_usage(event["response"])} if "response" in event else event
            for event in events]


def _without_completed(events: list[Body]) -> list[Body]:
    return [event for event in events if event.get("type") != "response.completed"]


def _without_done(events: list[bytes]) -> list[bytes]:
    return [event for event in events if event.strip() != b"data: [DONE]"]


@dataclass(frozen=True, slots=True)
class Quirk:
    name: str
    doc: str
    request: Callable[[Body], Body] | None = None
    """Rewrites the validated request before generation (a parameter the server ignores)."""
    body: Callable[[Body], Body] | None = None
    """Rewrites the non-streamed `chat.completion` body."""
    error: Callable[[int, Body], tuple[int, Body]] | None = None
    """Rewrites an error reply's status and body."""
    chunks: Callable[[list[Body]], list[Body]] | None = None
    """Rewrites the event objects of a streamed reply (`chat.completion.chunk`s, `text_completion`
    chunks, Responses events)."""
    events: Callable[[list[bytes]], list[bytes]] | None = None
    """Rewrites the encoded server-sent events of a streamed reply."""
    any_model: bool = False
    """Answers every model id instead of 404 for unknown ones."""
    endpoints: tuple[str, ...] | None = ("chat.completions",)
    """The endpoints whose requests and replies it bends; None: every endpoint (errors, model ids)."""


QUIRKS: dict[str, Quirk] = {quirk.name: quirk for quirk in (
    Quirk("n_ignored", "`n` is ignored: one choice whatever is asked (llama-cpp-python).",
          request=_without("n")),
    Quirk("max_tokens_ignored", "`max_tokens` and `max_completion_tokens` are ignored (llama-cpp-python "
          "ignores max_completion_tokens).", request=_without("max_tokens", "max_completion_tokens")),
    Quirk("stop_ignored", "`stop` sequences are ignored.", request=_without("stop")),
    Quirk("named_tool_choice_ignored", "a named `tool_choice` is ignored: the reply is plain text.",
          request=_named_tool_choice_as_none),
    Quirk("logprobs_ignored", "`logprobs` is ignored: logprobs stay null.",
          request=_without("logprobs", "top_logprobs")),
    Quirk("missing_refusal", "messages have no `refusal` field (llama.cpp).", body=_each_message(_drop_refusal)),
    Quirk("no_usage", "non-streamed replies carry no `usage`.", body=_without_usage),
    Quirk("total_tokens_wrong", "`usage.total_tokens` leaves out the prompt.", body=_total_without_prompt),
    Quirk("float_created", "`created` is a float, not integer seconds.", body=_float_created),
    Quirk("wrong_object", "`object` is `text_completion` instead of `chat.completion`.",
          body=_text_completion_object),
    Quirk("error_422", "invalid requests get 422 instead of 400 (FastAPI-style validation).",
          error=_status(400, 422), endpoints=None),
    Quirk("error_500", "invalid requests get 500 (llama-cpp-python on malformed JSON and wrong types).",
          error=_status(400, 500), endpoints=None),
    Quirk("unwrapped_error", "error bodies lack the `{\"error\": ...}` wrapper.", error=_unwrapped, endpoints=None),
    Quirk("integer_error_code", "error `code` is the HTTP status as an integer (llama.cpp).", error=_integer_code, endpoints=None),
    Quirk("unknown_model_ok", "unknown model ids are answered with 200 (llama.cpp, llama-cpp-python).",
          any_model=True, endpoints=None),
    Quirk("seed_ignored", "the same seeded request gets a different reply every time.", body=_unseeded),
    Quirk("tool_arguments_object", "tool-call `arguments` is a JSON object instead of a string.",
          body=_each_message(_tool_arguments_as_objects)),
    Quirk("tool_content_empty", "`content` is \"\" instead of null beside tool calls.",
          body=_each_message(_empty_content_with_tool_calls)),
    Quirk("stream_options_ignored", "`stream_options.include_usage` is ignored: no usage chunk (llama-cpp-python).",
          request=_without("stream_options")),
    Quirk("role_every_delta", "every stream delta repeats `role: assistant`.", chunks=_each_delta(_role_everywhere)),
    Quirk("first_delta_without_role", "the first stream delta lacks `role` (llama.cpp).",
          chunks=_each_delta(_no_first_role)),
    Quirk("no_done", "the stream ends without `data: [DONE]`.", events=_without_done),
    Quirk("usage_chunk_with_choices", "the usage chunk carries `choices: [{index: 0, delta: {}}]` (LiteLLM).",
          chunks=_usage_chunk_with_choice),
    Quirk("chunk_ids_vary", "every chunk has a different `id`.", chunks=_varying_ids),
    Quirk("tool_deltas_repeat_id", "streamed tool-call deltas repeat id and name in every chunk "
          "(llama-cpp-python).", chunks=_repeat_tool_headers),
    Quirk("echo_ignored", "completions: `echo` is ignored, the prompt is not returned.", request=_without("echo"),
          endpoints=("completions",)),
    Quirk("completion_logprobs_chat_shape", "completions: `logprobs` in the chat shape (`content` entries) "
          "instead of the legacy parallel lists.", body=_chat_shaped_logprobs, endpoints=("completions",)),
    Quirk("completion_default_unlimited", "completions: without `max_tokens` the text runs on instead of "
          "stopping at the default 16 tokens.", request=_without_default_limit, endpoints=("completions",)),
    Quirk("embedding_unnormalised", "embeddings: float vectors are not unit length.",
          body=_each_float_vector(lambda vector: [2 * value for value in vector]), endpoints=("embeddings",)),
    Quirk("embedding_dimensions_ignored", "embeddings: `dimensions` is ignored, vectors keep the model's length.",
          request=_without("dimensions"), endpoints=("embeddings",)),
    Quirk("embedding_base64_float64", "embeddings: base64 holds float64 values instead of float32.",
          body=_base64_as_float64, endpoints=("embeddings",)),
    Quirk("response_chat_usage", "responses: usage named as in chat (`prompt_tokens`, `completion_tokens`).",
          body=_response_chat_usage, chunks=_events_chat_usage, endpoints=("responses",)),
    Quirk("no_response_completed", "responses: the stream ends without `response.completed`.",
          chunks=_without_completed, endpoints=("responses",)),
    Quirk("max_output_tokens_ignored", "responses: `max_output_tokens` is ignored.",
          request=_without("max_output_tokens"), endpoints=("responses",)),
    Quirk("guided_choice_ignored", "vLLM's `guided_choice` is accepted and ignored: the reply is free text.",
          request=_without("guided_choice")),
)}


def unknown(names: Iterable[str]) -> list[str]:
    return sorted(set(names) - set(QUIRKS))


CHAT = "chat.completions"


def _active(names: Iterable[str], endpoint: str | None = None) -> list[Quirk]:
    """The named quirks that act on `endpoint` (None: the quirks of every endpoint)."""
    if not names:
        return []
    chosen = set(names)
    return [quirk for name, quirk in QUIRKS.items() if name in chosen and (
        endpoint is None or quirk.endpoints is None or endpoint in quirk.endpoints)]


def apply_request(names: Iterable[str], request: Body, endpoint: str = CHAT) -> Body:
    """Request quirks build new dicts, so the caller's request is never changed and needs no copy."""
    out = request
    for quirk in _active(names, endpoint):
        if quirk.request is not None:
            out = quirk.request(out)
    return out


def apply_body(names: Iterable[str], body: Body, endpoint: str = CHAT) -> Body:
    for quirk in _active(names, endpoint):
        if quirk.body is not None:
            body = quirk.body(body)
    return body


def apply_error(names: Iterable[str], status: int, body: Body) -> tuple[int, Body]:
    for quirk in _active(names):
        if quirk.error is not None:
            status, body = quirk.error(status, body)
    return status, body


def apply_chunks(names: Iterable[str], chunks: list[Body], endpoint: str = CHAT) -> list[Body]:
    for quirk in _active(names, endpoint):
        if quirk.chunks is not None:
            chunks = quirk.chunks(chunks)
    return chunks


def apply_events(names: Iterable[str], events: list[bytes], endpoint: str = CHAT) -> list[bytes]:
    for quirk in _active(names, endpoint):
        if quirk.events is not None:
            events = quirk.events(events)
    return events


def apply_stream(names: Iterable[str], chunks: list[Body], endpoint: str = CHAT) -> list[bytes]:
    """A stream's chunk objects bent, then encoded and bent again as events (`[DONE]` included)."""
    return apply_events(names, encode_stream(apply_chunks(names, chunks, endpoint)), endpoint)


def bends(names: Iterable[str], endpoint: str) -> bool:
    """Whether any of the named quirks acts on `endpoint`'s requests or replies."""
    return bool(_active(names, endpoint))


def any_model(names: Iterable[str]) -> bool:
    return any(quirk.any_model for quirk in _active(names))
