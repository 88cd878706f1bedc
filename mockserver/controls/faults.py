"""Failures a test can ask the mock to inject into a reply, as plain data.

A `Fault` says what goes wrong and after how many chunks. Tests pick one per request with the
`X-Mock-Fault` header or for every reply with `--fault`; scenario rules carry the same objects, and
`parse_fault` reads both the text and the mapping form. `apply_fault` turns a fault and a stream's
events into the exact byte steps to send, so every fault is a pure function of the reply and testable
without a socket.

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
from typing import Any, Literal

from mockserver.contract import error_kind, error_kinds
from mockserver.contract.errors import ApiError
from mockserver.contract.sse import encode_event
from mockserver.controls.settings import SettingError, key_values, mapping, unknown_keys, whole

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


_FAULT_FIELDS = ("kind", "after", "error", "stall_ms")
_MAX_AFTER = 1_000_000


def _fault_text(text: str, where: str) -> dict[str, Any]:
    """`cut-after=3`, `error-after=2,error=<kind>`, `stall-after=2,stall-ms=1500` as the mapping form."""
    pairs = key_values(text, where)
    kinds = [key[: -len("-after")] for key in pairs if key.endswith("-after")]
    if len(kinds) != 1 or kinds[0] not in FAULT_KINDS:
        raise SettingError(where, "expected exactly one of " + ", ".join(f"{k}-after=<n>" for k in FAULT_KINDS)
                           + f", got {text!r}")
    kind = kinds[0]
    allowed = {f"{kind}-after"} | ({"error"} if kind == "error" else set()) | (
        {"stall-ms"} if kind == "stall" else set())
    extra = sorted(set(pairs) - allowed)
    if extra:
        raise SettingError(where, f"'{extra[0]}' does not apply to a {kind} fault")
    fields: dict[str, Any] = {"kind": kind, "after": pairs[f"{kind}-after"]}
    if "error" in pairs:
        fields["error"] = pairs["error"]
    if "stall-ms" in pairs:
        fields["stall_ms"] = pairs["stall-ms"]
    return fields


def parse_fault(value: str | Mapping[str, Any], where: str = "fault") -> Fault:
    """The text form (the `X-Mock-Fault` header, `--fault`) or the mapping `{kind, after, error, stall_ms}`."""
    fields = _fault_text(value, where) if isinstance(value, str) else mapping(value, where)
    unknown_keys(fields, _FAULT_FIELDS, where)
    kind = fields.get("kind")
    if kind not in FAULT_KINDS:
        raise SettingError(f"{where}.kind", f"expected one of {list(FAULT_KINDS)}")
    error = fields.get("error", "server_error")
    if error not in error_kinds():
        raise SettingError(f"{where}.error", f"unknown error kind {error!r}; known: {', '.join(sorted(error_kinds()))}")
    if kind == "stall" and "stall_ms" not in fields:
        raise SettingError(f"{where}.stall_ms", "a stall fault needs stall_ms")
    return Fault(kind=kind, after=whole(fields.get("after", 0), f"{where}.after", 0, _MAX_AFTER), error=error,
                 stall_ms=whole(fields.get("stall_ms", 0), f"{where}.stall_ms", 0, _MAX_STALL_MS))


def _malformed(event: bytes) -> bytes:
    """The event with its JSON cut in half (an `event:` line before it, as the Responses API names its
    events, is kept)."""
    head, _, payload = event.partition(b"data: ")
    payload = payload[:-2]
    return head + b"data: " + payload[: max(1, len(payload) // 2)] + b"\n\n"


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
