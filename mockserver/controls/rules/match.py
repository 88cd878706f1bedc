"""Which rule answers a request: a pure function of the rules, the request and the counts so far."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mockserver.contract.request import content_text, last_role, last_user_text, messages, named_tool, offered_tools
from mockserver.controls.rules.model import Action, Counts, FieldTest, Match, Rule
from mockserver.core.endpoints import GENERATING


def _lookup(body: Any, path: Sequence[str]) -> tuple[bool, Any]:
    current = body
    for part in path:
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.lstrip("-").isdigit() and -len(current) <= int(part) < len(current):
            current = current[int(part)]
        else:
            return False, None
    return True, current


def _field_ok(test: FieldTest, body: Mapping[str, Any]) -> bool:
    found, value = _lookup(body, test.path)
    if test.exists is not None:
        return found == test.exists
    if not found:
        return False
    if test.text is not None:
        return isinstance(value, str) and test.text.test(value)
    return bool(value == test.equals and isinstance(value, bool) == isinstance(test.equals, bool))


def _tool_choice_name(choice: Any) -> str | None:
    """A mode (`auto`, `none`, `required`) or the name of the tool it names, of either kind."""
    if isinstance(choice, str):
        return choice
    named = named_tool(choice)
    return named[1] if named is not None else None


@dataclass(frozen=True, slots=True)
class RequestView:
    """The parts of a request that rules test, computed once per request rather than once per rule."""

    endpoint: str
    request: Mapping[str, Any]
    texts: tuple[str | None, ...]
    last_user: str | None
    last_role: str | None
    tool_names: frozenset[str]
    tool_choice: str | None
    headers: Mapping[str, str]

    @classmethod
    def of(cls, endpoint: str, request: Mapping[str, Any], headers: Mapping[str, str],
           view: Mapping[str, Any] | None = None) -> RequestView:
        """`view` is the request's conversation in the chat shape, for an endpoint whose body has another
        (a prompt, embedding inputs, Responses items); body tests still read the request as sent."""
        chat = request if view is None else view
        return cls(
            endpoint=endpoint,
            request=request,
            texts=tuple(content_text(m.get("content")) for m in messages(chat)),
            last_user=last_user_text(chat),
            last_role=last_role(chat),
            tool_names=frozenset(tool.name for tool in offered_tools(chat)),
            tool_choice=_tool_choice_name(chat.get("tool_choice")),
            headers={k.lower(): v for k, v in headers.items()},
        )


def matches(match: Match, view: RequestView) -> bool:
    """Whether the request satisfies every condition the match states (ignoring `nth`)."""
    if view.endpoint not in (match.endpoint or GENERATING):
        return False
    request = view.request
    if match.model is not None and not match.model.test(request.get("model")):
        return False
    if match.last_user is not None and not match.last_user.test(view.last_user):
        return False
    if match.message is not None and not any(match.message.test(text) for text in view.texts):
        return False
    if match.role is not None and view.last_role != match.role:
        return False
    if match.tools is not None:
        if isinstance(match.tools, bool):
            if bool(view.tool_names) != match.tools:
                return False
        elif not view.tool_names.issuperset(match.tools):
            return False
    if match.tool_choice is not None and view.tool_choice != match.tool_choice:
        return False
    if match.stream is not None and bool(request.get("stream")) != match.stream:
        return False
    if any(not test.test(view.headers.get(name)) for name, test in match.headers):
        return False
    return all(_field_ok(test, request) for test in match.body)


def _step(rule: Rule, used: int) -> Action:
    if rule.action.kind != "sequence":
        return rule.action
    return rule.action.sequence[min(used, len(rule.action.sequence) - 1)]


def select(rules: Sequence[Rule], request: Mapping[str, Any], headers: Mapping[str, str], counts: Counts,
           endpoint: str = "chat.completions",
           view: Mapping[str, Any] | None = None) -> tuple[Rule | None, Action | None, Counts]:
    """The first live rule that takes this request, the action for this call, and the counts after it.

    Every rule whose match accepts the request sees it (that is what `nth` counts), whether or not an
    earlier rule answers; only the answering rule's `used` count grows, which is what `times` limits.
    """
    if not rules:
        return None, None, counts
    view = RequestView.of(endpoint, request, headers, view)
    seen = dict(counts.seen)
    used = dict(counts.used)
    chosen: Rule | None = None
    for rule in rules:
        if not matches(rule.match, view):
            continue
        seen[rule.id] = seen.get(rule.id, 0) + 1
        if chosen is not None:
            continue
        if rule.match.nth is not None and seen[rule.id] != rule.match.nth:
            continue
        if rule.times is not None and used.get(rule.id, 0) >= rule.times:
            continue
        chosen = rule
    if chosen is None:
        return None, None, Counts(seen, used)
    action = _step(chosen, used.get(chosen.id, 0))
    used[chosen.id] = used.get(chosen.id, 0) + 1
    return chosen, action, Counts(seen, used)
