"""The admin API under `/_mock/`: the journal, the rules, reset and health, over plain JSON.

It is how a test in another process (or another language) scripts the mock, and what the pytest
plugin itself uses. Errors come back in the same OpenAI envelope as everything else.
"""

from __future__ import annotations

import hmac
from typing import Any

import orjson
from aiohttp import web

from mockserver.controls.config import Config
from mockserver.http.double import ADMIN_PREFIX, STATE_KEY, DoubleState
from mockserver.contract.errors import ApiError
from mockserver.controls.chaos import chaos_from_mapping
from mockserver.controls.ratelimit import Limits
from mockserver.controls.rules import ScenarioError, parse_rule, parse_strict


def _json(payload: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(payload), status=status, content_type="application/json")


def _state(request: web.Request) -> DoubleState:
    state = request.app[STATE_KEY]
    key = state.config.admin_key
    if key is not None:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), key.encode()):
            raise ApiError("invalid_api_key", "The admin API needs its own key: send 'Authorization: Bearer "
                           "<admin key>'.")
    return state


def _rule_json(state: DoubleState, rule_id: str, source: Any, times: int | None) -> dict[str, Any]:
    return {"id": rule_id, "times": times, "seen": state.counts.seen.get(rule_id, 0),
            "used": state.counts.used.get(rule_id, 0), "rule": source}


async def health(request: web.Request) -> web.Response:
    state = _state(request)
    return _json({"status": "ok", "rules": len(state.rules), "journal": len(state.journal)})


async def list_journal(request: web.Request) -> web.Response:
    state = _state(request)
    return _json({"object": "list", "data": [entry.as_json() for entry in state.journal.entries()]})


async def clear_journal(request: web.Request) -> web.Response:
    _state(request).journal.clear()
    return _json({"cleared": True})


async def list_rules(request: web.Request) -> web.Response:
    state = _state(request)
    return _json({"object": "list", "strict": state.strict is not None,
                  "data": [_rule_json(state, r.id, dict(r.source), r.times) for r in state.rules]})


async def add_rules(request: web.Request) -> web.Response:
    """A rule object, or `{"rules": [...], "strict": true|false|{error}}`; all are checked before any is added."""
    state = _state(request)
    try:
        payload = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        raise ApiError("invalid_request", "The body must be a JSON rule or {\"rules\": [...]}.") from None
    batch = isinstance(payload, dict) and "rules" in payload and "match" not in payload
    items = payload.get("rules") if batch else [payload]
    if not isinstance(items, list):
        raise ApiError("invalid_request", "Expected {\"rules\": [...], \"strict\": ...}.", param="rules")
    try:
        strict = parse_strict(payload["strict"], "strict") if batch and "strict" in payload else None
    except ScenarioError as exc:
        raise ApiError("invalid_request", str(exc), param=exc.where) from None
    taken = {rule.id for rule in state.rules}
    added = []
    for offset, item in enumerate(items):
        state.rule_serial += 1
        try:
            rule = parse_rule(item, f"rules[{offset}]", f"rule-{state.rule_serial}")
        except ScenarioError as exc:
            raise ApiError("invalid_request", str(exc), param=exc.where) from None
        if rule.id in taken:
            raise ApiError("invalid_request", f"rules[{offset}].id: a rule with id {rule.id!r} exists already",
                           param=f"rules[{offset}].id")
        taken.add(rule.id)
        added.append(rule)
    state.rules.extend(added)
    if batch and "strict" in payload:
        state.strict = strict
    return _json({"object": "list", "data": [_rule_json(state, r.id, dict(r.source), r.times) for r in added]},
                 status=201)


async def delete_rule(request: web.Request) -> web.Response:
    state = _state(request)
    rule_id = request.match_info["rule_id"]
    kept = [rule for rule in state.rules if rule.id != rule_id]
    if len(kept) == len(state.rules):
        raise ApiError("not_found", f"No rule with id {rule_id!r}.")
    state.rules = kept
    return _json({"id": rule_id, "deleted": True})


async def delete_rules(request: web.Request) -> web.Response:
    state = _state(request)
    state.rules = []
    return _json({"deleted": True})


def _limit(payload: dict[str, Any], name: str) -> int | None:
    value = payload.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ApiError("invalid_request", f"'{name}' must be a positive integer or null.", param=name)
    return value


async def set_limits(request: web.Request) -> web.Response:
    """`{"requests_per_minute": N|null, "tokens_per_minute": N|null}`: the limiter from now on, buckets full."""
    state = _state(request)
    payload = await _object(request)
    unknown = sorted(set(payload) - {"requests_per_minute", "tokens_per_minute"})
    if unknown:
        raise ApiError("invalid_request", f"Unknown field '{unknown[0]}'.", param=unknown[0])
    state.limits = Limits(_limit(payload, "requests_per_minute"), _limit(payload, "tokens_per_minute"))
    state.buckets = {}
    return _json({"requests_per_minute": state.limits.requests_per_minute,
                  "tokens_per_minute": state.limits.tokens_per_minute})


async def set_chaos(request: web.Request) -> web.Response:
    """`{"server_error": 0.1, "cut": 0.05}`: the fault probabilities from now on (`{}` turns chaos off)."""
    state = _state(request)
    try:
        state.chaos = chaos_from_mapping(await _object(request))
    except ScenarioError as exc:
        raise ApiError("invalid_request", str(exc), param=exc.where) from None
    return _json(dict(state.chaos))


async def _object(request: web.Request) -> dict[str, Any]:
    try:
        payload = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        payload = None
    if not isinstance(payload, dict):
        raise ApiError("invalid_request", "The body must be a JSON object.")
    return payload


async def reset(request: web.Request) -> web.Response:
    _state(request).reset()
    return _json({"reset": True})


def install(app: web.Application, config: Config) -> None:
    if not config.admin:
        return
    prefix = ADMIN_PREFIX.rstrip("/")
    app.router.add_get(f"{prefix}/health", health)
    app.router.add_get(f"{prefix}/journal", list_journal)
    app.router.add_delete(f"{prefix}/journal", clear_journal)
    app.router.add_get(f"{prefix}/rules", list_rules)
    app.router.add_post(f"{prefix}/rules", add_rules)
    app.router.add_delete(f"{prefix}/rules", delete_rules)
    app.router.add_delete(prefix + "/rules/{rule_id}", delete_rule)
    app.router.add_post(f"{prefix}/limits", set_limits)
    app.router.add_post(f"{prefix}/chaos", set_chaos)
    app.router.add_post(f"{prefix}/reset", reset)
