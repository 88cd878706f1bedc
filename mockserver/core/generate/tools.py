"""Whether a reply calls tools, which ones, and with what arguments.

The `auto` rule is what makes agent loops end: when the conversation's last message is from the user
the model calls tools; when it is a tool (or legacy function) result, it answers in text that refers
to that result; after any other message (system, developer, assistant) it answers in text.
`required`, a named tool and `allowed_tools` with mode `required` always call. With
`parallel_tool_calls` (default true) a reply calls between one and three distinct tools, a seeded
count; with false, exactly one. Arguments validate against the function's `parameters`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from mockserver.contract.request import (
    Tool,
    allowed_tools,
    content_text,
    last_role,
    legacy_functions,
    named_tool,
    offered_tools,
    tool_choice_mode,
)
from mockserver.contract.wire import (
    FINISH_FUNCTION_CALL,
    FINISH_STOP,
    FINISH_TOOL_CALLS,
)
from mockserver.core.generate import prose, witness
from mockserver.core.generate.instances import UnsatisfiableSchema, generate
from mockserver.core.generate.patterns import PatternError, matching_string
from mockserver.core.generate.seeding import rng_for, short_id
from mockserver.core.generate.tokenizer import tokenize
from mockserver.core.plan import ToolCallPlan

_MAX_PARALLEL = 3
_EMPTY_PARAMETERS: dict[str, Any] = {"type": "object", "properties": {}}
_SNIPPET_CHARS = 80


@dataclass(frozen=True, slots=True)
class ToolReply:
    """The calls a choice makes (before any max_tokens cut) and the finish reason they end with."""

    calls: tuple[ToolCallPlan, ...]
    finish_reason: str
    legacy: bool


def _candidates(request: Mapping[str, Any]) -> tuple[list[Tool], str]:
    """The tools the reply may call and the mode: "none", "auto", "required" or "named"."""
    mode = tool_choice_mode(request)
    if request.get("tools"):
        tools = list(offered_tools(request))
        choice = request.get("tool_choice")
        if mode == "named":
            return [t for t in tools if t.key == named_tool(choice)][:1], mode
        allowed = allowed_tools(choice)
        if allowed is not None:
            wanted, pairs = allowed
            return [t for t in tools if t.key in pairs], wanted
        return tools, mode
    functions = list(legacy_functions(request))
    if mode == "named":
        return [f for f in functions if f.name == request["function_call"].get("name")][:1], mode
    return functions, mode


def _wants_call(mode: str, request: Mapping[str, Any]) -> bool:
    if mode == "none":
        return False
    if mode == "auto":
        return last_role(request) == "user"
    return True


def _custom_input(tool: Tool, rng: random.Random) -> str:
    """Free-form input; a regex grammar is honoured, other grammars (lark) get plain prose."""
    fmt = tool.definition.get("format") or {}
    grammar = fmt.get("grammar") or {}
    if fmt.get("type") == "grammar" and grammar.get("syntax") == "regex":
        try:
            return matching_string(grammar.get("definition", ""), rng)
        except PatternError:
            return witness.string(grammar.get("definition", ""))
    return "".join(prose.generate_tokens(rng, rng.randint(6, 16)))


def _call(tool: Tool, digest: bytes, index: int, number: int) -> ToolCallPlan:
    rng = rng_for(digest, "tool", index, number, tool.name)
    call_id = "call_" + short_id(digest + f"|call|{index}|{number}".encode(), 24)
    if tool.kind == "custom":
        return ToolCallPlan(call_id, tool.name, tuple(tokenize(_custom_input(tool, rng))), kind="custom")
    parameters = tool.definition.get("parameters") or _EMPTY_PARAMETERS
    try:
        arguments = generate(parameters, rng)
    except UnsatisfiableSchema:
        arguments = witness.instance(parameters)
    return ToolCallPlan(call_id, tool.name, tuple(tokenize(orjson.dumps(arguments).decode())))


def plan_tool_reply(request: Mapping[str, Any], digest: bytes, index: int) -> ToolReply | None:
    """The calls choice `index` makes, or None when it answers in text."""
    tools, mode = _candidates(request)
    if not tools or not _wants_call(mode, request):
        return None
    rng = rng_for(digest, "tools", index)
    legacy = tools[0].legacy
    count = 1
    if mode != "named" and not legacy and request.get("parallel_tool_calls", True) is not False:
        count = 1 + rng.randrange(min(_MAX_PARALLEL, len(tools)))
    picked = rng.sample(tools, count)
    calls = tuple(_call(tool, digest, index, number) for number, tool in enumerate(picked))
    if mode == "named":
        finish = FINISH_STOP
    else:
        finish = FINISH_FUNCTION_CALL if legacy else FINISH_TOOL_CALLS
    return ToolReply(calls=calls, finish_reason=finish, legacy=legacy)


def _called_name(messages: Sequence[Mapping[str, Any]], call_id: Any) -> str:
    for message in reversed(messages):
        for call in message.get("tool_calls") or ():
            if call.get("id") == call_id:
                inner = call.get(call.get("type", "function")) or {}
                return inner.get("name", "tool")
    return "tool"


def tool_result_preamble(request: Mapping[str, Any]) -> str | None:
    """The opening of a text answer that follows a tool result, quoting the result it is based on."""
    messages = request.get("messages") or ()
    if not messages or messages[-1].get("role") not in ("tool", "function"):
        return None
    last = messages[-1]
    name = last.get("name") if last["role"] == "function" else _called_name(messages, last.get("tool_call_id"))
    snippet = " ".join((content_text(last.get("content"), " ") or "").split())
    if len(snippet) > _SNIPPET_CHARS:
        snippet = snippet[:_SNIPPET_CHARS].rstrip() + "..."
    if not snippet:
        return f"{name} returned no content."
    return f"According to {name}: {snippet}" + ("" if snippet[-1] in ".!?" else ".")
