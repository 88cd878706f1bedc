"""The plain data the generator produces and every writer (JSON body, event stream) consumes.

A plan holds tokens rather than finished strings so the streaming writer can cut the same reply into
chunks that concatenate to exactly the non-streamed text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ToolCallPlan:
    """One call. `kind` is "function" (arguments are JSON text) or "custom" (free-form input text)."""

    id: str
    name: str
    argument_tokens: tuple[str, ...]
    kind: str = "function"

    @property
    def arguments(self) -> str:
        return "".join(self.argument_tokens)


@dataclass(frozen=True, slots=True)
class ChoicePlan:
    index: int
    finish_reason: str
    content_tokens: tuple[str, ...] | None = None
    refusal_tokens: tuple[str, ...] | None = None
    tool_calls: tuple[ToolCallPlan, ...] = ()
    function_call: ToolCallPlan | None = None
    logprobs: tuple[dict[str, Any], ...] | None = None
    audio: dict[str, Any] | None = None
    reasoning_content_tokens: tuple[str, ...] | None = None
    """Visible reasoning (vLLM's `reasoning`), shown only when a profile asks for it."""
    stop_reason: str | int | None = None
    """What ended the choice when a stop sequence or a stop token did (vLLM's `stop_reason`)."""
    cost: int | None = None
    """Completion tokens the choice cost (reasoning aside) when its pieces do not show them all: a token
    limit cut it inside a tool call's framing, or a stop sequence the model wrote was cut away; None: what
    its parts cost by the counting rule."""

    @property
    def content(self) -> str | None:
        return None if self.content_tokens is None else "".join(self.content_tokens)

    @property
    def refusal(self) -> str | None:
        return None if self.refusal_tokens is None else "".join(self.refusal_tokens)

    @property
    def reasoning_content(self) -> str | None:
        return None if self.reasoning_content_tokens is None else "".join(self.reasoning_content_tokens)


@dataclass(frozen=True, slots=True)
class CompletionPlan:
    id: str
    created: int
    model: str
    system_fingerprint: str
    service_tier: str
    choices: tuple[ChoicePlan, ...]
    usage: dict[str, Any] = field(default_factory=dict)
    prompt_token_ids: tuple[int, ...] | None = None
    """The prompt's token ids, when the request asked for them (vLLM's `return_token_ids`)."""
    digest: bytes = field(default=b"", compare=False, repr=False)
    """The request's content digest, which the id is made from: the same reply served again at another
    place in the sequence takes its new id from it."""


@dataclass(frozen=True, slots=True)
class Script:
    """A reply a test wrote instead of the generator: text, an object as JSON text, a refusal, or tool
    calls as (name, arguments) pairs (a custom tool's free-form input in place of the arguments)."""

    kind: str
    text: str | None = None
    tool_calls: tuple[tuple[str, str], ...] = ()
