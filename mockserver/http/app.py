"""The HTTP shell: parse, call the core, write. No generation or validation logic lives here."""

from __future__ import annotations

import functools
import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import Any

import orjson
from aiohttp import web

from mockserver.http import admin
from mockserver.http import double
from mockserver.contract import errors
from mockserver.core.render import quirks
from mockserver.controls.config import Config
from mockserver.contract import known_models, model_info
from mockserver.http.delivery import send_body, send_stream
from mockserver.contract.errors import ApiError
from mockserver.controls.faults import apply_fault, request_fault
from mockserver.core.generate import prose
from mockserver.core.generate.planner import DEFAULT_REFUSAL, Context, plan_completion
from mockserver.core.plan import CompletionPlan
from mockserver.core.render.body import completion_body
from mockserver.core.render.stream import StreamOptions, choice_chunk_count, encode_stream, stream_chunks, stream_events
from mockserver.controls.timing import event_delays, generation_seconds, request_timing
from mockserver.core.validate.profiles import PROFILES
from mockserver.core.validate.request import validate_and_count

log = logging.getLogger("mockserver")

CONFIG_KEY = web.AppKey("config", Config)
_SEQUENCE_KEY = web.AppKey("sequence", itertools.count)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=orjson.dumps(payload), status=status, content_type="application/json",
                        headers=headers)


def error_response(error: ApiError, config: Config) -> web.Response:
    status, body = quirks.apply_error(config.quirks, error.status, error.envelope())
    return json_response(body, status=status, headers=error.headers)


def _http_error(exc: web.HTTPException, request: web.Request) -> ApiError:
    if exc.status == 404:
        return ApiError("not_found", f"Invalid URL ({request.method} {request.path})")
    if exc.status == 405:
        return ApiError("method_not_allowed", f"Method {request.method} is not allowed for {request.path}.")
    if exc.status == 413:
        return ApiError("request_too_large", "The request body is too large.")
    kind = "server_error" if exc.status >= 500 else "invalid_request"
    return ApiError(kind, exc.reason or "Request failed.", status=exc.status)


@web.middleware
async def envelope_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure leaves as an OpenAI error envelope; nothing leaks a traceback to the client."""
    config = request.app[CONFIG_KEY]
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc, config)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(_http_error(exc, request), config)
    except Exception:
        log.exception("unexpected failure serving %s %s", request.method, request.path)
        return error_response(ApiError("server_error", "The server had an error while processing your request."),
                              config)


def _check_auth(request: web.Request, config: Config) -> None:
    if not config.api_keys:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise errors.missing_api_key()
    if key.strip() not in config.api_keys:
        raise errors.wrong_api_key(key.strip())


def _check_model(model: str, config: Config) -> None:
    if config.models is not None and model not in config.models and not quirks.any_model(config.quirks):
        raise errors.model_not_found(model)


async def read_json(request: web.Request, config: Config) -> Any:
    content_type = request.headers.get("Content-Type")
    if content_type is not None:
        mime = content_type.split(";", 1)[0].strip().lower()
        if mime != "application/json" and not mime.endswith("+json"):
            raise ApiError("unsupported_media_type", f"Invalid Content-Type header ({content_type}): send the "
                           "body as JSON with 'Content-Type: application/json'.")
    if request.content_length is not None and request.content_length > config.max_body_bytes:
        raise ApiError("request_too_large", f"The request body is too large: {request.content_length} bytes, "
                       f"at most {config.max_body_bytes} are accepted.")
    raw = await request.read()
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise errors.invalid_json() from None
    if _nested_deeper_than(_MAX_DEPTH, raw, body):
        raise ApiError("invalid_request", f"The JSON body nests more than {_MAX_DEPTH} levels deep.")
    return body


# orjson reads 1024 levels but writes only about 250: a body must stay writable to be hashed and echoed.
_MAX_DEPTH = 200


def _nested_deeper_than(limit: int, raw: bytes, body: Any) -> bool:
    """Counting brackets bounds the depth from above, so ordinary bodies are never walked."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    stack = [(body, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


REFUSAL_HEADER = "X-Mock-Refusal"


def _refusal(request: web.Request) -> str | None:
    """`X-Mock-Refusal: 1` (or true/yes) refuses with a stock sentence; any other text refuses with it."""
    value = request.headers.get(REFUSAL_HEADER)
    if value is None or not value.strip() or value.strip().lower() in ("0", "false", "no"):
        return None
    return DEFAULT_REFUSAL if value.strip().lower() in ("1", "true", "yes") else value.strip()


def _context(request: web.Request, config: Config, prompt: int) -> Context:
    created = config.clock if config.clock is not None else int(time.time())
    return Context(server_seed=config.seed, sequence=next(request.app[_SEQUENCE_KEY]), created=created,
                   refusal=_refusal(request), prompt_tokens=prompt)


@functools.cache
def _context_windows(pairs: tuple[tuple[str, int], ...]) -> Mapping[str, int]:
    return MappingProxyType(dict(pairs))


def _stream_events(plan: CompletionPlan, options: StreamOptions, quirk_names: tuple[str, ...]) -> list[bytes]:
    """The fast byte-level encoder, unless quirks need the chunk objects to bend."""
    if not quirk_names:
        return stream_events(plan, options)
    chunks = quirks.apply_chunks(quirk_names, stream_chunks(plan, options))
    return quirks.apply_events(quirk_names, encode_stream(chunks))


async def chat_completions(request: web.Request) -> web.StreamResponse:
    config = request.app[CONFIG_KEY]
    _check_auth(request, config)
    timing = request_timing(request.headers, config.timing)
    fault = request_fault(request.headers)
    profile = PROFILES[config.profile]
    body, prompt = validate_and_count(await read_json(request, config), extra_parameters=profile.parameters,
                                      context_windows=_context_windows(config.context_windows))
    profile.check(body)
    _check_model(body["model"], config)
    context = _context(request, config, prompt)
    effective = quirks.apply_request(config.quirks, body)
    scripted = await double.scripted(request, body, context)
    if scripted.recorded is not None:
        return await double.send_recorded(request, scripted.recorded)
    plan = scripted.plan or plan_completion(effective, context)
    fault = fault or scripted.fault
    if body.get("stream"):
        events = _stream_events(plan, StreamOptions.from_request(effective), config.quirks)
        delays = event_delays(timing, choice_chunk_count(plan), len(events), plan.id)
        return await send_stream(request, apply_fault(events, delays, fault))
    wait = 0.0 if timing.instant else generation_seconds(timing, choice_chunk_count(plan), plan.id)
    reply = quirks.apply_body(config.quirks, completion_body(plan))
    return await send_body(request, orjson.dumps(reply), wait, fault)


def _model_object(model_id: str) -> dict[str, Any]:
    info = model_info(model_id)
    return {"id": info.id, "object": "model", "created": info.created, "owned_by": info.owned_by}


def _served_models(config: Config) -> list[str]:
    return list(config.models) if config.models is not None else list(known_models())


async def list_models(request: web.Request) -> web.Response:
    config = request.app[CONFIG_KEY]
    _check_auth(request, config)
    return json_response({"object": "list", "data": [_model_object(m) for m in _served_models(config)]})


async def get_model(request: web.Request) -> web.Response:
    config = request.app[CONFIG_KEY]
    _check_auth(request, config)
    model_id = request.match_info["model"]
    if model_id not in _served_models(config):
        raise errors.model_not_found(model_id)
    return json_response(_model_object(model_id))


def create_app(config: Config | None = None) -> web.Application:
    """The aiohttp application; embed it with aiohttp's test utilities or run it with `serve`."""
    config = config or Config()
    app = web.Application(middlewares=[envelope_middleware], client_max_size=config.max_body_bytes + 1)
    app[CONFIG_KEY] = config
    app[_SEQUENCE_KEY] = itertools.count()
    for prefix in ("/v1", ""):
        app.router.add_post(f"{prefix}/chat/completions", chat_completions)
        app.router.add_get(f"{prefix}/models", list_models)
        app.router.add_get(prefix + "/models/{model:.+}", get_model)
    double.install(app, config)
    admin.install(app, config)
    for encoding in sorted({model_info(model).encoding for model in _served_models(config)}):
        prose.prepare(encoding)
    return app
