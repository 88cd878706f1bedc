"""One reading of a chat request, shared by validation, the generator, scenario rules and the suite.

Each question asked of a request (which tools it offers and of which kind, which tool `tool_choice`
names, what the messages say, how long the reply may be, where it must stop) is answered here once,
so the mock and the conformance suite cannot disagree about what a request means. The functions
read defensively: they are also applied to requests the suite is about to send, which may be invalid
on purpose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

TOOL_KINDS = ("function", "custom")


@dataclass(frozen=True, slots=True)
class Tool:
    """A callable a request offers: where it is (`tools.[i]` or the legacy `functions.[i]`), its kind
    (`function` or `custom`), its name and its definition (the object under `function`/`custom`)."""

    position: int
    kind: str
    name: str
    definition: Mapping[str, Any]
    legacy: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return self.kind, self.name

    @property
    def param(self) -> str:
        """Where the definition sits, in the API's dotted notation."""
        return f"functions.[{self.position}]" if self.legacy else f"tools.[{self.position}].{self.kind}"


def offered_tools(request: Mapping[str, Any]) -> tuple[Tool, ...]:
    """The entries of `tools`, of every kind, in order."""
    offered = []
    for position, tool in enumerate(request.get("tools") or ()):
        if not isinstance(tool, Mapping):
            continue
        kind = tool.get("type", "function")
        inner = tool.get(kind) if isinstance(tool.get(kind), Mapping) else {}
        name = inner.get("name")
        offered.append(Tool(position, kind, name if isinstance(name, str) else "", inner))
    return tuple(offered)


def legacy_functions(request: Mapping[str, Any]) -> tuple[Tool, ...]:
    """The deprecated `functions` list, read as function tools."""
    return tuple(Tool(position, "function", f.get("name", "") if isinstance(f.get("name"), str) else "", f,
                      legacy=True)
                 for position, f in enumerate(request.get("functions") or ()) if isinstance(f, Mapping))


def tools_of_kind(request: Mapping[str, Any], kind: str) -> dict[str, Mapping[str, Any]]:
    """Name to definition for the offered tools of one kind."""
    return {tool.name: tool.definition for tool in offered_tools(request) if tool.kind == kind}


def named_tool(choice: Any) -> tuple[str, str] | None:
    """The (kind, name) a `tool_choice` (or an `allowed_tools` entry) names, if it names one."""
    if isinstance(choice, Mapping) and choice.get("type") in TOOL_KINDS:
        inner = choice.get(choice["type"])
        name = inner.get("name") if isinstance(inner, Mapping) else None
        return choice["type"], name if isinstance(name, str) else ""
    return None


def allowed_tools(choice: Any) -> tuple[str, tuple[tuple[str, str], ...]] | None:
    """For `tool_choice: {type: allowed_tools, ...}`: the mode and the (kind, name) pairs allowed."""
    if not isinstance(choice, Mapping) or choice.get("type") != "allowed_tools":
        return None
    allowed = choice.get("allowed_tools") if isinstance(choice.get("allowed_tools"), Mapping) else {}
    named = (named_tool(entry) for entry in allowed.get("tools") or ())
    return str(allowed.get("mode", "auto")), tuple(pair for pair in named if pair is not None)


def tool_choice_mode(request: Mapping[str, Any]) -> str:
    """`none`, `auto`, `required`, `named` or `allowed_tools`, with the API's defaults (auto when tools
    are offered, none otherwise); the legacy `function_call` answers for a request with `functions`."""
    if request.get("tools"):
        choice = request.get("tool_choice", "auto")
    elif request.get("functions"):
        choice = request.get("function_call", "auto")
        if isinstance(choice, Mapping):
            return "named"
    else:
        return "none"
    if isinstance(choice, str):
        return choice
    if named_tool(choice) is not None:
        return "named"
    return "allowed_tools" if allowed_tools(choice) is not None else "auto"


def content_text(content: Any, separator: str = "") -> str | None:
    """A message's text: the string, or its text parts joined; None when there is no content."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return separator.join(part["text"] for part in content
                              if isinstance(part, Mapping) and isinstance(part.get("text"), str))
    return None


def messages(request: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    found = request.get("messages")
    return [m for m in found if isinstance(m, Mapping)] if isinstance(found, list) else []


def last_role(request: Mapping[str, Any]) -> str | None:
    listed = messages(request)
    return listed[-1].get("role") if listed else None


def last_user_text(request: Mapping[str, Any]) -> str | None:
    for message in reversed(messages(request)):
        if message.get("role") == "user":
            return content_text(message.get("content"))
    return None


def completion_limit(request: Mapping[str, Any]) -> int | None:
    """The reply's token budget: `max_completion_tokens`, else the older `max_tokens`."""
    limit = request.get("max_completion_tokens")
    return limit if limit is not None else request.get("max_tokens")


def stop_list(request: Mapping[str, Any]) -> list[str]:
    """The stop sequences as a list, empty ones left out (they never match)."""
    stop = request.get("stop")
    if stop is None:
        return []
    listed = [stop] if isinstance(stop, str) else list(stop) if isinstance(stop, list) else []
    return [s for s in listed if isinstance(s, str) and s]
