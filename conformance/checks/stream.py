"""The streaming protocol as an incremental state machine over server-sent events.

Lines are fed as they arrive, so a violation is found at the event that commits it (and a stream that
never ends still yields everything seen so far). The machine also assembles what the stream said per
choice, for the semantic checks that compare it with the request or with a non-streamed reply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance.checks.events import ChunkJudge
from conformance.checks.outcome import Violation
from conformance.checks.schemas import schema_error
from mockserver.contract import TOOL_CALL_TEXT
from mockserver.contract.profiles import DEFAULT_PROFILE

STREAM_RULES: dict[str, str] = {
    "stream_content_type": "A streamed reply is sent as `text/event-stream`.",
    "stream_framing": "Every event is `data: <JSON>` (or `data: [DONE]`) terminated by a blank line.",
    "chunk_schema": "Every chunk validates against the `chat.completion.chunk` schema.",
    "stream_consistent_ids": "Every chunk carries the same `id`, `created` and `model`.",
    "stream_role_first": "The first delta of each choice carries `role: assistant`.",
    "stream_role_once": "`role` appears only in the first delta of each choice.",
    "stream_one_finish": "Each choice gets exactly one `finish_reason`, and no content after it.",
    "stream_choice_indices": "Choice indices are 0..n-1 and every one of them appears.",
    "stream_usage_last": "With `include_usage`, exactly one usage chunk, with `choices: []`, right before `[DONE]`.",
    "stream_usage_only_when_asked": "Without `include_usage`, no chunk carries usage.",
    "stream_tool_call_deltas": ("Tool-call deltas carry `index`; `id`, `type` and the tool's name (`function.name` "
                                "or `custom.name`) come in the first only."),
    "stream_done": "The stream ends with `data: [DONE]`.",
    "stream_nothing_after_done": "Nothing follows `[DONE]`.",
}


@dataclass
class ToolCallAssembly:
    id: str | None = None
    type: str | None = None
    name: str = ""
    arguments: str = ""
    """A function call's arguments, or a custom tool call's input."""


def _assembled_call(call: ToolCallAssembly) -> dict[str, Any]:
    kind = call.type if call.type in TOOL_CALL_TEXT else "function"
    return {"id": call.id, "type": call.type or "function",
            kind: {"name": call.name, TOOL_CALL_TEXT[kind]: call.arguments}}


@dataclass
class ChoiceAssembly:
    """What one choice's deltas add up to."""

    content: str | None = None
    refusal: str | None = None
    finish_reason: str | None = None
    deltas: int = 0
    tool_calls: dict[int, ToolCallAssembly] = field(default_factory=dict)
    logprobs: list[dict[str, Any]] = field(default_factory=list)

    def message(self) -> dict[str, Any]:
        """The assembled choice in the shape of a non-streamed message."""
        message: dict[str, Any] = {"role": "assistant", "content": self.content, "refusal": self.refusal}
        if self.tool_calls:
            message["tool_calls"] = [_assembled_call(call) for _, call in sorted(self.tool_calls.items())]
        return message


@dataclass
class StreamResult:
    chunks: list[dict[str, Any]]
    choices: dict[int, ChoiceAssembly]
    usage: dict[str, Any] | None
    done: bool
    violations: list[Violation]

    def as_completion(self) -> dict[str, Any]:
        """The stream's content as a `chat.completion`-like object, so the same semantic checks apply."""
        first = self.chunks[0] if self.chunks else {}
        return {
            "id": first.get("id"), "object": "chat.completion", "created": first.get("created"),
            "model": first.get("model"),
            "choices": [
                {"index": index, "message": choice.message(), "finish_reason": choice.finish_reason,
                 "logprobs": {"content": choice.logprobs, "refusal": None} if choice.logprobs else None}
                for index, choice in sorted(self.choices.items())
            ],
            **({"usage": self.usage} if self.usage is not None else {}),
        }


class StreamChecker(ChunkJudge):
    """Feed it the reply's content type, then each line; `finish()` gives the verdict and the assembly."""

    def __init__(self, request: Mapping[str, Any], profile: str = DEFAULT_PROFILE) -> None:
        """`profile` is the compatibility profile whose chunk schema judges the chunks."""
        super().__init__()
        self.profile = profile
        options = request.get("stream_options") or {}
        self.include_usage = options.get("include_usage") is True
        self.n = request.get("n") or 1
        self.chunks: list[dict[str, Any]] = []
        self.choices: dict[int, ChoiceAssembly] = {}
        self.usage: dict[str, Any] | None = None
        self._usage_at: int | None = None
        self._first: dict[str, Any] | None = None

    def _chunk(self, chunk: Any) -> None:
        problem = schema_error("chat_completion_chunk", chunk, self.profile)
        if problem is not None:
            self._fail("chunk_schema", "chunks valid against the chat.completion.chunk schema", problem)
        if not isinstance(chunk, dict):
            return
        self.chunks.append(chunk)
        if self._first is None:
            self._first = chunk
        else:
            for key in ("id", "created", "model"):
                if chunk.get(key) != self._first.get(key):
                    self._fail("stream_consistent_ids", f"{key} {self._first.get(key)!r} on every chunk",
                               chunk.get(key))
        if self._usage_at is not None:
            self._fail("stream_usage_last", "the usage chunk to be the last one before [DONE]",
                       f"chunk {len(self.chunks) - 1} after the usage chunk")
        usage = chunk.get("usage")
        if usage is not None:
            self._usage(chunk, usage)
        choices = chunk.get("choices")
        for choice in choices if isinstance(choices, list) else ():
            if isinstance(choice, dict):
                self._choice(choice)

    def _usage(self, chunk: dict[str, Any], usage: Any) -> None:
        if not self.include_usage:
            self._fail("stream_usage_only_when_asked", "no usage in chunks unless stream_options.include_usage",
                       f"usage {usage!r}")
            return
        if chunk.get("choices") != []:
            self._fail("stream_usage_last", "the usage chunk to have choices: []", chunk.get("choices"))
        self.usage = usage if isinstance(usage, dict) else None
        self._usage_at = len(self.chunks) - 1

    def _choice(self, choice: dict[str, Any]) -> None:
        index = choice.get("index")
        if not isinstance(index, int) or not 0 <= index < self.n:
            self._fail("stream_choice_indices", f"choice indices in 0..{self.n - 1}", index)
            return
        state = self.choices.setdefault(index, ChoiceAssembly())
        delta = choice.get("delta")
        delta = delta if isinstance(delta, dict) else {}
        has_payload = any(delta.get(key) for key in ("content", "refusal", "tool_calls", "function_call"))
        if state.finish_reason is not None and (has_payload or choice.get("finish_reason") is not None):
            self._fail("stream_one_finish", f"nothing more for choice {index} after its finish_reason",
                       choice)
        if state.deltas == 0:
            if delta.get("role") != "assistant":
                self._fail("stream_role_first", f"role 'assistant' in the first delta of choice {index}", delta)
        elif "role" in delta:
            self._fail("stream_role_once", f"no role after the first delta of choice {index}", delta)
        state.deltas += 1
        for key in ("content", "refusal"):
            piece = delta.get(key)
            if isinstance(piece, str):
                setattr(state, key, (getattr(state, key) or "") + piece)
        for call in delta.get("tool_calls") or ():
            if isinstance(call, dict):
                self._tool_call(index, state, call)
        logprobs = choice.get("logprobs")
        if isinstance(logprobs, dict) and isinstance(logprobs.get("content"), list):
            state.logprobs.extend(logprobs["content"])
        finish = choice.get("finish_reason")
        if finish is not None and state.finish_reason is None:
            state.finish_reason = finish

    def _tool_call(self, index: int, state: ChoiceAssembly, call: dict[str, Any]) -> None:
        position = call.get("index")
        if not isinstance(position, int):
            self._fail("stream_tool_call_deltas", "an integer index on every tool-call delta", call)
            return
        first = position not in state.tool_calls
        if first:
            kind = call.get("type")
            inner = call.get(kind) if kind in TOOL_CALL_TEXT else None
            if not call.get("id") or not isinstance(inner, dict) or not inner.get("name"):
                self._fail("stream_tool_call_deltas", f"id, type 'function' or 'custom' and the tool's name in "
                           f"the first delta of tool call {position}", call)
            state.tool_calls[position] = ToolCallAssembly(id=call.get("id"), type=kind)
        assembly = state.tool_calls[position]
        kind = assembly.type if assembly.type in TOOL_CALL_TEXT else "function"
        inner = call.get(kind) if isinstance(call.get(kind), dict) else {}
        if not first and ("id" in call or "name" in inner):
            self._fail("stream_tool_call_deltas", f"id and name only in the first delta of tool call {position}",
                       call)
        if isinstance(inner.get("name"), str):
            assembly.name += inner["name"]
        fragment = TOOL_CALL_TEXT[kind]
        if isinstance(inner.get(fragment), str):
            assembly.arguments += inner[fragment]
        elif fragment in inner:
            self._fail("chunk_schema", f"{kind}.{fragment} as a string fragment", inner[fragment])

    def finish(self, cut_short: str | None = None) -> StreamResult:
        """The verdict once the body has ended, or been cut off for the reason `cut_short` gives."""
        self._end_chunks(cut_short)
        missing = sorted(set(range(self.n)) - set(self.choices))
        if missing and self.chunks:
            self._fail("stream_choice_indices", f"deltas for every choice 0..{self.n - 1}", f"none for {missing}")
        unfinished = sorted(i for i, c in self.choices.items() if c.finish_reason is None)
        if unfinished:
            self._fail("stream_one_finish", "a finish_reason for every choice", f"none for choices {unfinished}")
        if self.include_usage and self._usage_at is None:
            self._fail("stream_usage_last", "a usage chunk before [DONE] (stream_options.include_usage)",
                       "no chunk carried usage")
        return StreamResult(self.chunks, self.choices, self.usage, self._done, list(self.violations))


def check_stream_text(request: Mapping[str, Any], content_type: str | None, body: str,
                      profile: str = DEFAULT_PROFILE) -> StreamResult:
    """The whole state machine over a complete body, for library users holding one in memory."""
    checker = StreamChecker(request, profile)
    checker.start(content_type)
    for line in body.splitlines():
        checker.feed_line(line)
    return checker.finish()
