"""Judging one reply: a check's outcome (a check that cannot read a reply reports that as its failure),
the reply shown beside a violation, and the error probe every group's invalid requests go through."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from conformance import checks
from conformance.checks import Violation
from conformance.checks.outcome import CheckFailed, clip
from conformance.engine.client import CHAT_PATH, Client, Reply
from conformance.generate.invalid import InvalidCase

Outcome = tuple[str, Violation | None]
WRONG_KEY = "sk-conformance-wrong-key-0000"
EXCHANGE_SHOWN = 2000
"""Characters of a reply kept with a failure, for the reader to see it."""


def run_check(name: str, check: Callable[..., bool], *args: Any) -> list[Outcome]:
    """One check's outcome. A check that cannot read a reply (a server can send anything) reports that
    as its failure rather than stopping the run."""
    try:
        return [(name, None)] if check(*args) else []
    except CheckFailed as failed:
        return [(name, failed.violation)]
    except Exception as exc:
        return [(name, Violation(name, "a reply the check can read", f"{type(exc).__name__}: {exc}"))]


def exchange(reply: Reply) -> str:
    """The reply as the reader should see it beside a failure: status line, type, the body's start."""
    if reply.status == 0:
        return f"no HTTP reply: {reply.problem}"
    head = f"HTTP {reply.status}, Content-Type: {reply.content_type or '(none)'}"
    if "content-encoding" in reply.headers:
        head += f", Content-Encoding: {reply.headers['content-encoding']}"
    if reply.problem:
        head += f" ({reply.problem})"
    body = reply.text if len(reply.text) <= EXCHANGE_SHOWN else reply.text[:EXCHANGE_SHOWN] + "..."
    return f"{head}\n\n{body}"


def shown(outcomes: list[Outcome], reply: Reply) -> list[Outcome]:
    """The outcomes with the reply attached to each violation, and a transport problem named in it."""
    if all(violation is None for _, violation in outcomes):
        return outcomes
    seen = exchange(reply)
    shown = []
    for name, violation in outcomes:
        if violation is not None and reply.status == 0:
            violation = replace(violation, seen=f"no HTTP reply: {reply.problem}", exchange=seen)
        elif violation is not None:
            extra = f" ({reply.problem})" if reply.problem and reply.problem not in violation.seen else ""
            violation = replace(violation, seen=violation.seen + extra, exchange=seen)
        shown.append((name, violation))
    return shown


def unreadable(reply: Reply) -> str:
    """Why a body is no JSON object, as plainly as it can be said."""
    if reply.problem:
        return reply.problem
    encoding = reply.headers.get("content-encoding", "identity")
    if encoding.lower() != "identity":
        return f"a body in Content-Encoding {clip(encoding, 40)}, though the client asked for identity"
    return clip(reply.text, 200)


def _status_check(case: InvalidCase) -> tuple[str, Callable[[int, Any], bool]]:
    if case.kind == "model_not_found":
        return "unknown_model_404", checks.unknown_model_404
    if case.kind == "invalid_api_key":
        return "auth_required_401", checks.auth_required_401
    return "error_status_400", checks.error_status_400


def probe_error(client: Client, case: InvalidCase, path: str = CHAT_PATH) -> list[Outcome]:
    options: dict[str, Any] = {}
    if case.auth == "missing":
        options["omit_auth"] = True
    elif case.auth == "wrong":
        options["auth"] = WRONG_KEY
    reply = client.post_raw(case.body(), path, **options)
    status_name, status_check = _status_check(case)
    outcomes = run_check("error_not_5xx", checks.error_not_5xx, reply.status, reply.body)
    outcomes += run_check(status_name, status_check, reply.status, reply.body)
    if reply.status >= 400:
        outcomes += run_check("error_envelope", checks.error_envelope, reply.status, reply.body, client.profile)
    return shown(outcomes, reply)


