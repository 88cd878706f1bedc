"""Names the wire format uses, each defined once: finish reasons, tool-call kinds, service tiers."""

from __future__ import annotations

FINISH_STOP = "stop"
FINISH_LENGTH = "length"
FINISH_TOOL_CALLS = "tool_calls"
FINISH_FUNCTION_CALL = "function_call"
FINISH_CONTENT_FILTER = "content_filter"

# The kinds of tool call, each with the field that holds what the model wrote: a function call's JSON
# `arguments`, a custom tool call's free-form `input`. Streams send that field in fragments.
TOOL_CALL_TEXT = {"function": "arguments", "custom": "input"}

# The response names the tier that served the request, which is not always the one asked for: `auto`
# (and no tier at all) runs on the project's tier, `default` unless configured, and `fast` is reported
# as `priority` (OpenAI's API description of `service_tier`).
_SERVED_TIERS = {"auto": "default", "fast": "priority"}


def served_tier(requested: str | None) -> str:
    return _SERVED_TIERS.get(requested or "auto", requested or "default")
