"""A scripted reply as the same plan the generator makes, so every writer serves it alike.

Only the words come from the script; ids, usage, logprobs and the finish reason follow the request
exactly as they would for a generated reply. A scripted call to a name the request offers as a custom
tool is a custom tool call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.contract.request import tools_of_kind
from mockserver.contract.wire import FINISH_STOP, FINISH_TOOL_CALLS, served_tier
from mockserver.core.generate.logprobs import token_logprobs
from mockserver.core.generate.planner import Context, completion_id, usage
from mockserver.core.generate.seeding import (
    content_digest,
    rng_for,
    short_id,
    system_fingerprint,
)
from mockserver.core.generate.tokenizer import tokenize
from mockserver.core.plan import ChoicePlan, CompletionPlan, Script, ToolCallPlan


def _choice(script: Script, request: Mapping[str, Any], digest: bytes, index: int) -> ChoicePlan:
    if script.kind == "tool_calls":
        custom = tools_of_kind(request, "custom")
        calls = tuple(
            ToolCallPlan(id="call_" + short_id(digest + f"{index}:{i}".encode(), 24), name=name,
                         argument_tokens=tuple(tokenize(arguments)),
                         kind="custom" if name in custom else "function")
            for i, (name, arguments) in enumerate(script.tool_calls)
        )
        return ChoicePlan(index=index, finish_reason=FINISH_TOOL_CALLS, tool_calls=calls)
    tokens = tuple(tokenize(script.text or ""))
    logprobs = None
    if request.get("logprobs"):
        top = request.get("top_logprobs") or 0
        logprobs = tuple(token_logprobs(rng_for(digest, "logprobs", index), list(tokens), top))
    if script.kind == "refusal":
        return ChoicePlan(index=index, finish_reason=FINISH_STOP, refusal_tokens=tokens, logprobs=logprobs)
    return ChoicePlan(index=index, finish_reason=FINISH_STOP, content_tokens=tokens, logprobs=logprobs)


def plan_scripted(script: Script, request: Mapping[str, Any], context: Context) -> CompletionPlan:
    digest = content_digest(request, context.server_seed)
    choices = tuple(_choice(script, request, digest, i) for i in range(request.get("n") or 1))
    return CompletionPlan(
        id=completion_id(context, digest),
        created=context.created,
        model=request["model"],
        system_fingerprint=system_fingerprint(context.server_seed),
        service_tier=served_tier(request.get("service_tier")),
        choices=choices,
        usage=usage(request, choices, 0, context.prompt_tokens),
    )
