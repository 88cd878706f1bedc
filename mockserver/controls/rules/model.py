"""Rules as typed data: what a rule matches, what it does, and how often it has been used."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mockserver.controls.faults import Fault
from mockserver.core.gateways.enkrypt import Forced
from mockserver.core.plan import Script

REPLY_ACTIONS = ("reply", "tool_calls", "object", "refusal")
ACTION_KEYS = (*REPLY_ACTIONS, "error", "sequence", "generate")


@dataclass(frozen=True, slots=True)
class TextMatch:
    """Text equal to, containing, or matching a pattern."""

    mode: str
    value: str
    pattern: re.Pattern[str] | None = None

    def test(self, text: str | None) -> bool:
        if text is None:
            return False
        if self.mode == "equals":
            return text == self.value
        if self.mode == "contains":
            return self.value in text
        assert self.pattern is not None
        return self.pattern.search(text) is not None


@dataclass(frozen=True, slots=True)
class FieldTest:
    """A test on one value of the body, addressed by a dotted path (`response_format.type`, `messages.0.role`)."""

    path: tuple[str, ...]
    exists: bool | None = None
    equals: Any = None
    text: TextMatch | None = None


@dataclass(frozen=True, slots=True)
class Match:
    endpoint: tuple[str, ...] | None = None
    """Endpoint names; None matches every endpoint but the model list."""
    model: TextMatch | None = None
    message: TextMatch | None = None
    last_user: TextMatch | None = None
    role: str | None = None
    tools: bool | tuple[str, ...] | None = None
    tool_choice: str | None = None
    stream: bool | None = None
    headers: tuple[tuple[str, TextMatch], ...] = ()
    body: tuple[FieldTest, ...] = ()
    nth: int | None = None


@dataclass(frozen=True, slots=True)
class ErrorSpec:
    kind: str
    status: int
    message: str
    type: str | None = None
    code: str | None = None
    param: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class Action:
    """What happens to a matched request. `kind` is one of ACTION_KEYS; a reply kind carries its
    `script`; `delay` (seconds) precedes any kind, `fault` spoils the delivery of a reply (scripted
    or generated) the way the streaming writer's faults do, and `detections` make a guardrail proxy's
    detectors fire on the request or on its reply."""

    kind: str
    script: Script | None = None
    error: ErrorSpec | None = None
    sequence: tuple[Action, ...] = ()
    delay: float = 0.0
    fault: Fault | None = None
    detections: Forced | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    match: Match
    action: Action
    times: int | None = None
    source: Mapping[str, Any] = field(default_factory=dict, compare=False)
    """The rule as it was written, for listing it back through the admin API."""


@dataclass(frozen=True, slots=True)
class Scenario:
    rules: tuple[Rule, ...] = ()
    strict: ErrorSpec | None = None
    """The answer to requests no rule matches; None lets the generator answer them."""


@dataclass(frozen=True, slots=True)
class Counts:
    """How many earlier requests each rule's match accepted (`seen`) and how many it answered (`used`)."""

    seen: Mapping[str, int] = field(default_factory=dict)
    used: Mapping[str, int] = field(default_factory=dict)
