"""Cassettes: recorded exchanges with a real server, as readable JSON files, and how replay finds them.

One file per exchange, `NNNN-<key>.json`, holding the request (method, path, body), the response status,
an allowlist of response headers, and either the JSON body or the stream's events with the time each
arrived after the previous one. Request headers are never stored, so keys and tokens cannot land in a
cassette.

Replay matches on the route (with or without `/v1`) and the request body after `normalise`: the fields
in `IGNORED_FIELDS` (client-side bookkeeping that does not change the reply) are dropped and the rest is
compared as canonical JSON (sorted keys), so key order and those fields do not matter; everything else,
`stream` included, must be equal. Identical requests recorded several times replay in recorded order, the last one repeating.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

IGNORED_FIELDS = frozenset({"user", "metadata", "store", "safety_identifier", "prompt_cache_key",
                            "prompt_cache_retention"})
KEPT_RESPONSE_HEADERS = ("content-type", "x-request-id", "openai-processing-ms", "openai-version",
                         "x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests",
                         "x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens",
                         "retry-after", "retry-after-ms")
"""Only these response headers are kept: nothing that could carry a cookie or an account identifier."""


class CassetteError(ValueError):
    """A cassette that cannot be replayed; the message names the file."""


@dataclass(frozen=True, slots=True)
class Event:
    delay_ms: float
    """Time since the previous event (for the first: since the request was sent)."""
    data: str
    """The event text without its terminating blank line, e.g. `data: {...}`."""


@dataclass(frozen=True, slots=True)
class Exchange:
    method: str
    path: str
    request: Any
    status: int
    headers: Mapping[str, str]
    body: Any = None
    events: tuple[Event, ...] | None = None

    def as_json(self) -> dict[str, Any]:
        response: dict[str, Any] = {"status": self.status, "headers": dict(self.headers)}
        if self.events is not None:
            response["events"] = [{"delay_ms": e.delay_ms, "data": e.data} for e in self.events]
        else:
            response["body"] = self.body
        return {"request": {"method": self.method, "path": self.path, "body": self.request}, "response": response}


def normalise(body: Any) -> Any:
    if isinstance(body, Mapping):
        return {k: v for k, v in body.items() if k not in IGNORED_FIELDS}
    return body


def route(path: str) -> str:
    """The endpoint's route whether the client used the `/v1` prefix or not."""
    return path[len("/v1"):] if path.startswith("/v1/") else path


def request_key(body: Any, path: str) -> str:
    material = route(path).encode() + b"\n" + orjson.dumps(normalise(body), option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(material, digest_size=8).hexdigest()


def kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    lowered = {k.lower(): v for k, v in headers.items()}
    return {name: lowered[name] for name in KEPT_RESPONSE_HEADERS if name in lowered}


def write_exchange(directory: Path, exchange: Exchange) -> Path:
    """Add an exchange to the cassette under the next free number."""
    directory.mkdir(parents=True, exist_ok=True)
    number = 1 + max((int(p.name.split("-", 1)[0]) for p in directory.glob("[0-9]*-*.json")), default=0)
    path = directory / f"{number:04d}-{request_key(exchange.request, exchange.path)}.json"
    path.write_bytes(orjson.dumps(exchange.as_json(), option=orjson.OPT_INDENT_2) + b"\n")
    return path


def _exchange(data: Any, path: Path) -> Exchange:
    try:
        request, response = data["request"], data["response"]
        events = response.get("events")
        return Exchange(
            method=str(request["method"]),
            path=str(request["path"]),
            request=request["body"],
            status=int(response["status"]),
            headers={str(k): str(v) for k, v in response.get("headers", {}).items()},
            body=response.get("body"),
            events=None if events is None else tuple(Event(float(e["delay_ms"]), str(e["data"])) for e in events),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CassetteError(f"{path}: not a recorded exchange ({type(exc).__name__}: {exc})") from None


@dataclass(frozen=True, slots=True)
class Cassette:
    directory: str
    exchanges: Mapping[str, tuple[Exchange, ...]]

    def find(self, key: str, occurrence: int) -> Exchange | None:
        """The recording for the `occurrence`-th (0-based) request with this key; the last one repeats."""
        recorded = self.exchanges.get(key)
        if not recorded:
            return None
        return recorded[min(occurrence, len(recorded) - 1)]


def load_cassette(directory: str | Path) -> Cassette:
    folder = Path(directory)
    if not folder.is_dir():
        raise CassetteError(f"{folder}: no such cassette directory")
    grouped: dict[str, list[Exchange]] = {}
    for path in sorted(folder.glob("*.json")):
        try:
            data = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError as exc:
            raise CassetteError(f"{path}: not valid JSON ({exc})") from None
        exchange = _exchange(data, path)
        grouped.setdefault(request_key(exchange.request, exchange.path), []).append(exchange)
    return Cassette(str(folder), {key: tuple(items) for key, items in grouped.items()})


def replay_steps(exchange: Exchange, timed: bool) -> Sequence[tuple[float, bytes]]:
    """A recorded stream as the writer's (seconds to wait, bytes) steps."""
    assert exchange.events is not None
    return tuple(((e.delay_ms / 1000 if timed else 0.0), (e.data + "\n\n").encode("utf-8")) for e in exchange.events)
