"""Failures a test can ask the mock to inject into a reply, as plain data.

A `Fault` says what goes wrong and after how many chunks. Tests pick one per request with the
`X-Mock-Fault` header (`parse_fault` reads its text form); scripted scenarios build the same objects
directly. `apply_fault` turns a fault and a stream's events into the exact byte steps to send, so
every fault is a pure function of the reply and testable without a socket.

Kinds (`after` counts the chunks delivered intact first; `[DONE]` is never sent once a fault acts):

- `cut`: the connection is dropped mid-body, as when a proxy or the network fails.
- `truncate`: the body ends cleanly but early, without `[DONE]`.
- `error`: an error event `data: {"error": {...}}` as the real API sends mid-stream, then the end.
- `stall`: the stream pauses for `stall_ms`, then carries on to the end.
- `malformed`: one chunk arrives with its JSON cut short, then the stream carries on.

A non-streamed reply is one unit: `stall` delays it, `error` replaces it with the error's HTTP status
and envelope, `cut` drops the connection without an answer, `truncate` and `malformed` send half the body.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from mockserver.contract import error_kind, error_kinds
from mockserver.contract.errors import ApiError
from mockserver.contract.sse import encode_event

FAULT_HEADER = "X-Mock-Fault"
FaultKind = Literal["cut", "truncate", "error", "stall", "malformed"]
FAULT_KINDS: tuple[FaultKind, ...] = ("cut", "truncate", "error", "stall", "malformed")

_MAX_STALL_MS = 600_000


@dataclass(frozen=True, slots=True)
class Fault:
    kind: FaultKind
    after: int = 0
    """Chunks delivered intact before the fault acts."""
    error: str = "server_error"
    """For `error`: the error kind (a key of fixtures/errors.json) whose envelope is sent."""
    stall_ms: int = 0
    """For `stall`: how long the stream pauses."""

    def api_error(self) -> ApiError:
        message = error_kind(self.error).message or f"The request failed with a simulated {self.error} error."
        return ApiError(self.error, message)


@dataclass(frozen=True, slots=True)
class Delivery:
    """What the writer sends: (seconds to wait, bytes) steps, then either a clean end or a dropped line."""

    steps: tuple[tuple[float, bytes], ...]
    abort: bool = False


def _header_error(text: str, why: str) -> ApiError:
    return ApiError("invalid_request", f"Invalid {FAULT_HEADER} header '{text}': {why}")


def _count(text: str, key: str, value: str, ceiling: int) -> int:
    if not value.isdigit() or int(value) > ceiling:
        raise _header_error(text, f"'{key}' must be a whole number from 0 to {ceiling}.")
    return int(value)


def parse_fault(text: str) -> Fault:
    """`cut-after=3`, `truncate-after=3`, `error-after=2[,error=<kind>]`, `stall-after=2,stall-ms=1500`,
    `malformed-after=1`."""
    fields: dict[str, str] = {}
    for item in text.split(","):
        key, sep, value = (part.strip() for part in item.partition("="))
        if not sep or key in fields:
            raise _header_error(text, "expected comma-separated key=value pairs, each key once.")
        fields[key] = value
    kinds = [key[: -len("-after")] for key in fields if key.endswith("-after")]
    if len(kinds) != 1 or kinds[0] not in FAULT_KINDS:
        raise _header_error(text, "expected exactly one of " + ", ".join(f"{k}-after=<n>" for k in FAULT_KINDS)
                            + ".")
    kind = next(known for known in FAULT_KINDS if known == kinds[0])
    allowed = {f"{kind}-after"} | ({"error"} if kind == "error" else set()) | (
        {"stall-ms"} if kind == "stall" else set())
    extra = sorted(set(fields) - allowed)
    if extra:
        raise _header_error(text, f"'{extra[0]}' does not apply to a {kind} fault.")
    error = fields.get("error", "server_error")
    if error not in error_kinds():
        raise _header_error(text, f"unknown error kind '{error}'; known: {', '.join(sorted(error_kinds()))}.")
    if kind == "stall" and "stall-ms" not in fields:
        raise _header_error(text, "a stall fault needs 'stall-ms=<milliseconds>'.")
    return Fault(kind=kind, after=_count(text, f"{kind}-after", fields[f"{kind}-after"], 1_000_000), error=error,
                 stall_ms=_count(text, "stall-ms", fields.get("stall-ms", "0"), _MAX_STALL_MS))


def request_fault(headers: Mapping[str, str]) -> Fault | None:
    header = headers.get(FAULT_HEADER)
    return None if header is None else parse_fault(header)


def _malformed(event: bytes) -> bytes:
    """The event's JSON cut in half: still one well-framed event, but not parseable."""
    payload = event[len(b"data: "):-2]
    return b"data: " + payload[: max(1, len(payload) // 2)] + b"\n\n"


def apply_fault(events: Sequence[bytes], delays: Sequence[float], fault: Fault | None) -> Delivery:
    """The steps for a stream whose last event is `[DONE]`; `after` stops short of `[DONE]`."""
    steps = list(zip(delays, events))
    if fault is None:
        return Delivery(tuple(steps))
    at = min(fault.after, len(steps) - 1)
    if fault.kind == "cut":
        return Delivery(tuple(steps[:at]), abort=True)
    if fault.kind == "truncate":
        return Delivery(tuple(steps[:at]))
    if fault.kind == "error":
        return Delivery(tuple(steps[:at]) + ((0.0, encode_event(fault.api_error().envelope())),))
    if fault.kind == "stall":
        delay, event = steps[at]
        return Delivery(tuple(steps[:at]) + ((delay + fault.stall_ms / 1000, event),) + tuple(steps[at + 1:]))
    source = steps[min(at, len(steps) - 2)][1]
    return Delivery(tuple(steps[:at]) + ((0.0, _malformed(source)),) + tuple(steps[at:]))
