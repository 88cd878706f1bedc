"""The admin API under `/_mock/`: the journal, the rules and every other setting, reset and health, and
at `/_mock/` itself a page that shows them.

It is how a test in another process (or another language) scripts the mock, and what the pytest
plugin itself uses. Each setting takes the same mapping (or text) form as a scenario file or `Config`,
through the same parser; errors come back in the same OpenAI envelope as everything else.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from importlib import resources
from typing import Any

import orjson
from aiohttp import web

from mockserver.contract.errors import ApiError
from mockserver.controls.chaos import parse_chaos
from mockserver.controls.config import Config
from mockserver.controls.faults import parse_fault
from mockserver.controls.ratelimit import parse_limits
from mockserver.controls.rules import parse_rule, parse_strict
from mockserver.controls.settings import SettingError, parse_quirks
from mockserver.controls.state import Controls, DoubleState
from mockserver.controls.timing import Timing, parse_timing
from mockserver.http.middleware import ADMIN_PREFIX, STATE_KEY


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


async def _payload(request: web.Request) -> Any:
    try:
        return orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        raise ApiError("invalid_request", "The body must be JSON.") from None


def _invalid(exc: SettingError) -> ApiError:
    return ApiError("invalid_request", str(exc), param=exc.where)


def _rule_json(controls: Controls, rule_id: str, source: Any, times: int | None) -> dict[str, Any]:
    return {"id": rule_id, "times": times, "seen": controls.counts.seen.get(rule_id, 0),
            "used": controls.counts.used.get(rule_id, 0), "rule": source}


def _timing_json(timing: Timing) -> dict[str, float]:
    return {"ttft_ms": timing.ttft_ms, "itl_ms": timing.itl_ms, "jitter": timing.jitter}


def _settings_json(controls: Controls) -> dict[str, Any]:
    fault = controls.fault
    return {
        "limits": {"requests_per_minute": controls.limits.requests_per_minute,
                   "tokens_per_minute": controls.limits.tokens_per_minute},
        "chaos": dict(controls.chaos),
        "timing": _timing_json(controls.timing),
        "fault": None if fault is None else {"kind": fault.kind, "after": fault.after, "error": fault.error,
                                             "stall_ms": fault.stall_ms},
        "quirks": list(controls.quirks),
        "strict": controls.strict is not None,
    }


@functools.cache
def _page() -> bytes:
    return resources.files("mockserver.http").joinpath("admin_page.html").read_bytes()


async def page(request: web.Request) -> web.Response:
    """What a developer opens when a test fails: the journal, the rules with their counts and the settings,
    refreshed live. The page is static; the data it fetches needs the admin key, which it asks for."""
    return web.Response(body=_page(), content_type="text/html", charset="utf-8")


async def health(request: web.Request) -> web.Response:
    state = _state(request)
    return _json({"status": "ok", "rules": len(state.controls.rules), "journal": len(state.journal)})


async def list_journal(request: web.Request) -> web.Response:
    state = _state(request)
    return _json({"object": "list", "data": [entry.as_json() for entry in state.journal.entries()]})


async def clear_journal(request: web.Request) -> web.Response:
    _state(request).journal.clear()
    return _json({"cleared": True})


async def list_rules(request: web.Request) -> web.Response:
    controls = _state(request).controls
    return _json({"object": "list", "strict": controls.strict is not None,
                  "data": [_rule_json(controls, r.id, dict(r.source), r.times) for r in controls.rules]})


async def add_rules(request: web.Request) -> web.Response:
    """A rule object, or `{"rules": [...], "strict": true|false|{error}}`; all are checked before any is added."""
    state = _state(request)
    payload = await _payload(request)
    batch = isinstance(payload, dict) and "rules" in payload and "match" not in payload
    items = payload.get("rules") if batch else [payload]
    if not isinstance(items, list):
        raise ApiError("invalid_request", "Expected {\"rules\": [...], \"strict\": ...}.", param="rules")
    taken = {rule.id for rule in state.controls.rules}
    added = []
    try:
        strict = parse_strict(payload["strict"], "strict") if batch and "strict" in payload else None
        for offset, item in enumerate(items):
            state.rule_serial += 1
            rule = parse_rule(item, f"rules[{offset}]", f"rule-{state.rule_serial}")
            if rule.id in taken:
                raise SettingError(f"rules[{offset}].id", f"a rule with id {rule.id!r} exists already")
            taken.add(rule.id)
            added.append(rule)
    except SettingError as exc:
        raise _invalid(exc) from None
    state.update(rules=(*state.controls.rules, *added))
    if batch and "strict" in payload:
        state.update(strict=strict)
    return _json({"object": "list",
                  "data": [_rule_json(state.controls, r.id, dict(r.source), r.times) for r in added]}, status=201)


async def delete_rule(request: web.Request) -> web.Response:
    state = _state(request)
    rule_id = request.match_info["rule_id"]
    kept = tuple(rule for rule in state.controls.rules if rule.id != rule_id)
    if len(kept) == len(state.controls.rules):
        raise ApiError("not_found", f"No rule with id {rule_id!r}.")
    state.update(rules=kept)
    return _json({"id": rule_id, "deleted": True})


async def delete_rules(request: web.Request) -> web.Response:
    _state(request).update(rules=())
    return _json({"deleted": True})


def _setter(name: str, parse: Callable[[Any], dict[str, Any]]) -> Callable[[web.Request], Any]:
    """`POST /_mock/<name>`: the setting from now on, parsed by the setting's own parser."""
    async def set_it(request: web.Request) -> web.Response:
        state = _state(request)
        try:
            changes = parse(await _payload(request))
        except SettingError as exc:
            raise _invalid(exc) from None
        state.update(**changes)
        return _json(_settings_json(state.controls)[name])
    set_it.__name__ = f"set_{name}"
    return set_it


async def settings(request: web.Request) -> web.Response:
    return _json(_settings_json(_state(request).controls))


async def reset(request: web.Request) -> web.Response:
    _state(request).reset()
    return _json({"reset": True})


SETTERS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "limits": lambda value: {"limits": parse_limits(value), "buckets": {}},
    "chaos": lambda value: {"chaos": parse_chaos(value)},
    "timing": lambda value: {"timing": parse_timing(value)},
    "fault": lambda value: {"fault": None if value is None else parse_fault(value)},
    "quirks": lambda value: {"quirks": parse_quirks(value)},
}
"""Each setting the admin API changes, with the parser the CLI, `Config` and scenario files share."""


def install(app: web.Application, config: Config) -> None:
    if not config.admin:
        return
    prefix = ADMIN_PREFIX.rstrip("/")
    app.router.add_get(prefix, page)
    app.router.add_get(ADMIN_PREFIX, page)
    app.router.add_get(f"{prefix}/health", health)
    app.router.add_get(f"{prefix}/journal", list_journal)
    app.router.add_delete(f"{prefix}/journal", clear_journal)
    app.router.add_get(f"{prefix}/rules", list_rules)
    app.router.add_post(f"{prefix}/rules", add_rules)
    app.router.add_delete(f"{prefix}/rules", delete_rules)
    app.router.add_delete(prefix + "/rules/{rule_id}", delete_rule)
    app.router.add_get(f"{prefix}/settings", settings)
    for name, parse in SETTERS.items():
        app.router.add_post(f"{prefix}/{name}", _setter(name, parse))
    app.router.add_post(f"{prefix}/reset", reset)
