"""`POST /chat/completions`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from mockserver.contract.request import completion_limit
from mockserver.core.endpoints.model import Endpoint, ServeOptions, Validated, check_kind, check_model
from mockserver.core.generate.planner import Context, plan_completion, restamp_completion
from mockserver.core.generate.scripted import plan_scripted
from mockserver.core.plan import CompletionPlan
from mockserver.core.render import quirks
from mockserver.core.render.body import completion_body
from mockserver.core.render.stream import StreamOptions, choice_chunk_count, stream_chunks, stream_events
from mockserver.core.validate.request import validate_and_count
from mockserver.core.validate.schemas import witnesses_known

CHAT_NAME = "chat.completions"
_GUIDED = frozenset({"guided_json", "guided_regex", "guided_grammar", "guided_choice"})


def validate(body: Any, options: ServeOptions) -> Validated:
    if isinstance(body, dict) and isinstance(body.get("model"), str):
        check_kind(body["model"], "chat", "v1/chat/completions")
    request, prompt = validate_and_count(body, context_windows=options.context_windows)
    check_model(request["model"], options)
    return Validated(request, prompt, prompt + (completion_limit(request) or 0))


def body(plan: CompletionPlan, quirk_names: tuple[str, ...]) -> bytes:
    return orjson.dumps(quirks.apply_body(quirk_names, completion_body(plan)))


def stream(plan: CompletionPlan, request: Mapping[str, Any], quirk_names: tuple[str, ...]) -> list[bytes]:
    """The byte-level encoder, unless quirks need the chunk objects to bend."""
    options = StreamOptions.from_request(request)
    if not quirks.bends(quirk_names, CHAT_NAME):
        return stream_events(plan, options)
    return quirks.apply_stream(quirk_names, stream_chunks(plan, options))


def _head(plan: CompletionPlan) -> bytes:
    """How `completion_body` written by orjson begins: the only bytes of it that hold the id and `created`."""
    return (b'{"id":' + orjson.dumps(plan.id) + b',"object":"chat.completion","created":' + str(plan.created).encode()
            + b",")


def again(plan: CompletionPlan, rendered: Any, request: Mapping[str, Any], quirk_names: tuple[str, ...],
          context: Context, streamed: bool) -> tuple[CompletionPlan, Any] | None:
    """The reply to a request planned before, in a new context: the plan restamped, and the body it
    rendered then with a new head (nothing after the head depends on the id or `created` of a plan without
    audio, which `restamp_completion` refuses), or a stream written afresh (its obfuscation follows the id)."""
    fresh = restamp_completion(plan, request, context)
    if fresh is None:
        return None
    if streamed:
        return fresh, stream(fresh, request, quirk_names)
    old = _head(plan)
    if not quirk_names and rendered.startswith(old):
        return fresh, _head(fresh) + rendered[len(old):]
    return fresh, body(fresh, quirk_names)


def quick(body: Any) -> bool:
    """One choice, and every schema and grammar already checked once: a novel schema can take a quarter of
    a second to check, and each extra choice (with logprobs) multiplies the reply's work."""
    if not isinstance(body, dict):
        return True
    return body.get("n", 1) in (1, None) and _GUIDED.isdisjoint(body) and witnesses_known(body)


def pacing(plan: CompletionPlan) -> tuple[int, str]:
    return choice_chunk_count(plan), plan.id


CHAT = Endpoint(
    name=CHAT_NAME,
    method="POST",
    paths=("/chat/completions",),
    validate=validate,
    plan=plan_completion,
    scripted=plan_scripted,
    body=body,
    stream=stream,
    pacing=pacing,
    quick=quick,
    again=again,
)
