"""What an endpoint is made of: plain functions over plain data, no I/O."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mockserver.contract.errors import ApiError, model_not_found
from mockserver.contract.models import known_models
from mockserver.core.generate.planner import Context
from mockserver.core.plan import Script
from mockserver.core.render.quirks import any_model


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """The server settings validation and planning depend on."""

    profile: str = "openai"
    context_windows: Mapping[str, int] = field(default_factory=dict)
    models: tuple[str, ...] | None = None
    """When set, the only model ids served; others get 404 model_not_found."""
    quirks: tuple[str, ...] = ()
    stored: Mapping[str, Any] = field(default_factory=dict)
    """What the server keeps between requests (`Endpoint.keep`), by key: stored responses, which
    `previous_response_id` and `GET /responses/{id}` read."""
    aliases: Mapping[str, str] = field(default_factory=dict)
    """Model aliases a gateway maps back to model ids before serving a request."""
    cards: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Fields the model list shows for a model beyond the model table's (a gateway's alias and owner)."""
    workers: int = 1
    """Processes serving the port. Above one, what a request stores is seen only by the worker that
    answered it, so a request that reads it (`check_shared`) is refused rather than answered by chance."""


def check_shared(options: ServeOptions, feature: str, param: str) -> None:
    """Refuse, on a server of several workers, a request that reads what an earlier request stored: the
    earlier one may have landed on another worker, and answering from this one's memory would make the
    reply depend on which worker the connection reached."""
    if options.workers > 1:
        raise ApiError("invalid_request", f"{feature} needs state kept between requests, and this server runs "
                       f"{options.workers} worker processes that do not share it (mockserver --workers); serve "
                       "it with one worker.", param=param)


@dataclass(frozen=True, slots=True)
class Validated:
    """A request the planner may trust, and what the controls need to know of it."""

    request: Mapping[str, Any]
    prompt_tokens: int = 0
    cost: int = 0
    """Tokens the rate limiter charges: the prompt plus the completion the request may ask for."""
    view: Mapping[str, Any] | None = None
    """The request as scenario rules read it (`messages`, `tools`, `tool_choice`), for an endpoint whose
    body has another shape; None: the request itself."""
    recalled: Any = None
    """What validation looked up in the server's stored state for the planner (a stored conversation)."""
    cache_key: bytes | None = None
    """Where a gateway's cache stores the reply and serves it again; None when the request does not use it."""

    @property
    def streamed(self) -> bool:
        return self.request.get("stream") is True


Plan = Any


@dataclass(frozen=True, slots=True)
class Endpoint:
    name: str
    method: str
    paths: tuple[str, ...]
    """Routes under the API root; each is served with and without the `/v1` prefix."""
    validate: Callable[[Any, ServeOptions], Validated]
    """The JSON body (or, for a request without one, the route's parameters) into a `Validated`, or the
    `ApiError` the real API answers."""
    plan: Callable[[Mapping[str, Any], Context], Plan]
    body: Callable[[Plan, tuple[str, ...]], bytes]
    """The non-streamed reply's bytes, bent by the active quirks."""
    pacing: Callable[[Plan], tuple[int, str]]
    """How many events a model's token rate paces, and the seed (the reply's id) for their jitter."""
    reads_body: bool = True
    generates: bool = True
    """Whether it answers with generated content (rules without an `endpoint` match only these)."""
    scripted: Callable[[Script, Mapping[str, Any], Context], Plan] | None = None
    """A test's script as a plan; None where the endpoint has no words to script."""
    stream: Callable[[Plan, Mapping[str, Any], tuple[str, ...]], list[bytes]] | None = None
    """The streamed reply's events, `[DONE]` included, bent by the active quirks."""
    quick: Callable[[Any], bool] = lambda payload: True
    """Whether validating and planning this payload (JSON as received) is sure to take little time: the
    server does that work on its event loop, and anything else in a worker thread."""
    again: (Callable[[Plan, Any, Mapping[str, Any], tuple[str, ...], Context, bool], tuple[Plan, Any] | None]
            | None) = None
    """`again(plan, rendered, request, quirks, context, streamed)`: the plan and rendered reply (body, or
    events when `streamed`) for a request planned and rendered before, at another place in the sequence and
    another time (id and `created` made afresh from `context`), byte for byte what planning and rendering
    anew would give; None where it cannot tell. Lets a server answer a body it has seen without planning
    it again; None: the endpoint always plans afresh."""
    keep: Callable[[Plan, Mapping[str, Any]], tuple[str, Any] | None] = lambda plan, request: None
    """What the server stores after answering (a key and a value that later requests find in
    `ServeOptions.stored`), or None."""

    @property
    def scriptable(self) -> bool:
        return self.scripted is not None


def check_model(model: str, options: ServeOptions) -> None:
    """A server restricted to some models answers others with 404, unless a quirk makes it take any."""
    if options.models is not None and model not in options.models and not any_model(options.quirks):
        raise model_not_found(model)


_PATHS = {"chat": "v1/chat/completions", "completion": "v1/completions", "embedding": "v1/embeddings"}
_NOUNS = {"completion": "a completions", "embedding": "an embeddings"}


def check_kind(model: str, kind: str, path: str) -> None:
    """A model of the table that serves another endpoint gets the real API's 404 naming the endpoint it
    belongs to (`This is a chat model and not supported in the v1/completions endpoint...`); ids outside
    the table (a vLLM or llama.cpp model name) are served by every endpoint, as those servers do."""
    info = known_models().get(model)
    if info is None or info.kind == kind or (kind == "chat" and info.kind == "chat"):
        return
    if info.kind == "chat":
        message = f"This is a chat model and not supported in the {path} endpoint. Did you mean to use v1/chat/completions?"
    elif kind == "chat":
        message = (f"This is not a chat model and thus not supported in the {path} endpoint. Did you mean to use "
                   f"{_PATHS[info.kind]}?")
    else:
        message = (f"This is not {_NOUNS[kind]} model and thus not supported in the {path} endpoint. Did you mean "
                   f"to use {_PATHS[info.kind]}?")
    raise ApiError("not_found", message, param="model")
