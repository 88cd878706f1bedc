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

from mockserver.core.generate import prose
from mockserver.contract import FINISH_FUNCTION_CALL, FINISH_STOP, FINISH_TOOL_CALLS
from mockserver.contract.errors import ApiError
from mockserver.core.generate.instances import UnsatisfiableSchema, generate
from mockserver.core.generate.patterns import PatternError, matching_string
from mockserver.core.plan import ToolCallPlan
from mockserver.core.generate.seeding import rng_for, short_id
from mockserver.core.generate.tokenizer import encoding_of, tokenize

_MAX_PARALLEL = 3
_EMPTY_PARAMETERS: dict[str, Any] = {"type": "object", "properties": {}}
_SNIPPET_CHARS = 80


@dataclass(frozen=True, slots=True)
class Tool:
    """A callable the request offers: its position in `tools`/`functions`, kind, name and definition."""

    position: int
    kind: str
    name: str
    definition: Mapping[str, Any]
    legacy: bool = False


@dataclass(frozen=True, slots=True)
class ToolReply:
    """The calls a choice makes (before any max_tokens cut) and the finish reason they end with."""

    calls: tuple[ToolCallPlan, ...]
    finish_reason: str
    legacy: bool


def _offered(request: Mapping[str, Any]) -> list[Tool]:
    offered = []
    for position, tool in enumerate(request.get("tools") or ()):
        kind = tool.get("type", "function")
        inner = tool.get(kind) or {}
        offered.append(Tool(position, kind, inner.get("name", ""), inner))
    return offered


def _legacy_offered(request: Mapping[str, Any]) -> list[Tool]:
    return [Tool(position, "function", f.get("name", ""), f, legacy=True)
            for position, f in enumerate(request.get("functions") or ())]


def _named(choice: Any) -> tuple[str, str] | None:
    if isinstance(choice, Mapping) and choice.get("type") in ("function", "custom"):
        return choice["type"], (choice.get(choice["type"]) or {}).get("name", "")
    return None


def _last_role(request: Mapping[str, Any]) -> str | None:
    messages = request.get("messages") or ()
    return messages[-1].get("role") if messages else None


def _candidates(request: Mapping[str, Any]) -> tuple[list[Tool], str]:
    """The tools the reply may call and the mode: "none", "auto", "required" or "named"."""
    if request.get("tools"):
        tools = _offered(request)
        choice = request.get("tool_choice", "auto")
        if choice in ("none", "auto", "required"):
            return tools, choice
        named = _named(choice)
        if named is not None:
            return [t for t in tools if (t.kind, t.name) == named][:1], "named"
        allowed = choice.get("allowed_tools") or {}
        wanted = {_named(t) for t in allowed.get("tools") or ()}
        return [t for t in tools if (t.kind, t.name) in wanted], allowed.get("mode", "auto")
    if request.get("functions"):
        functions = _legacy_offered(request)
        call = request.get("function_call", "auto")
        if isinstance(call, Mapping):
            return [f for f in functions if f.name == call.get("name")][:1], "named"
        return functions, call
    return [], "none"


def _wants_call(mode: str, request: Mapping[str, Any]) -> bool:
    if mode == "none":
        return False
    if mode == "auto":
        return _last_role(request) == "user"
    return True


def _schema_error(tool: Tool, exc: UnsatisfiableSchema) -> ApiError:
    where = (f"functions.[{tool.position}].parameters" if tool.legacy
             else f"tools.[{tool.position}].function.parameters")
    return ApiError("invalid_request", f"Invalid schema for function '{tool.name}': {exc}.", param=where,
                    code="invalid_function_parameters")


def _custom_input(tool: Tool, rng: random.Random, encoding: str) -> str:
    """Free-form input; a regex grammar is honoured, other grammars (lark) get plain prose."""
    fmt = tool.definition.get("format") or {}
    grammar = fmt.get("grammar") or {}
    if fmt.get("type") == "grammar" and grammar.get("syntax") == "regex":
        try:
            return matching_string(grammar.get("definition", ""), rng)
        except PatternError as exc:
            raise ApiError("invalid_request", f"Invalid grammar for custom tool '{tool.name}': {exc}.",
                           param=f"tools.[{tool.position}].custom.format.grammar.definition") from None
    return "".join(prose.generate_tokens(rng, rng.randint(6, 16), encoding))


def _call(tool: Tool, digest: bytes, index: int, number: int, encoding: str) -> ToolCallPlan:
    rng = rng_for(digest, "tool", index, number, tool.name)
    call_id = "call_" + short_id(digest + f"|call|{index}|{number}".encode(), 24)
    if tool.kind == "custom":
        return ToolCallPlan(call_id, tool.name, tuple(tokenize(_custom_input(tool, rng, encoding), encoding)),
                            kind="custom")
    parameters = tool.definition.get("parameters") or _EMPTY_PARAMETERS
    try:
        arguments = generate(parameters, rng)
    except UnsatisfiableSchema as exc:
        raise _schema_error(tool, exc) from None
    return ToolCallPlan(call_id, tool.name, tuple(tokenize(orjson.dumps(arguments).decode(), encoding)))


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
    encoding = encoding_of(request["model"])
    calls = tuple(_call(tool, digest, index, number, encoding) for number, tool in enumerate(picked))
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


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    return " ".join(part.get("text", "") for part in content or () if isinstance(part, Mapping))


def tool_result_preamble(request: Mapping[str, Any]) -> str | None:
    """The opening of a text answer that follows a tool result, quoting the result it is based on."""
    messages = request.get("messages") or ()
    if not messages or messages[-1].get("role") not in ("tool", "function"):
        return None
    last = messages[-1]
    name = last.get("name") if last["role"] == "function" else _called_name(messages, last.get("tool_call_id"))
    snippet = " ".join(_text_of(last.get("content")).split())
    if len(snippet) > _SNIPPET_CHARS:
        snippet = snippet[:_SNIPPET_CHARS].rstrip() + "..."
    if not snippet:
        return f"{name} returned no content."
    return f"According to {name}: {snippet}" + ("" if snippet[-1] in ".!?" else ".")
