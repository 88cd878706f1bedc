"""Each recorded OpenAI stream, replayed against the mock, has the same event structure.

Structure means: the keys (and value types) of every kind of chunk, where the role, the finish and
the usage chunk sit, how n>1 choices open, and how tool-call deltas are laid out. Content differs by
design. Three differences are expected and ignored: the recordings (September 2024) predate the
`service_tier` and `obfuscation` chunk fields of today's API, they omit the `usage: null` that today's
API documents on every chunk of a stream with `include_usage`, and today's usage object has more
detail fields (the recorded ones must all be present).

Independently of the generator, a plan rebuilt from each recording's own tokens must stream back
into exactly the recorded chunks: that pins the tool-call and refusal layouts before those replies
are generated.

Refusals are the model's decision, so the replay asks for one with the mock's refusal header. Where
the generator's own choice differs from the recorded model's (how many parallel tool calls to make),
the replay adds the first request `seed` that makes the same choice; a recording no seed matches, or
whose reply kind the generator cannot produce, is skipped (detected from the mock's non-streamed reply).
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from mockserver import Config, MockServer
from mockserver.core.plan import ChoicePlan, CompletionPlan, ToolCallPlan
from mockserver.core.render.stream import StreamOptions, stream_chunks
from mockserver.http.pipeline import REFUSAL_HEADER

_RECORDINGS = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "openai-recordings"
_NEWER_FIELDS = {"service_tier", "obfuscation"}
_LITERAL_KEYS = {"role", "type", "object", "finish_reason"}


def _cases() -> list[str]:
    if not (_RECORDINGS / "requests.json").is_file():
        return []
    return sorted(json.loads((_RECORDINGS / "requests.json").read_text()))


@pytest.fixture(scope="module")
def mock() -> Iterator[MockServer]:
    with MockServer(Config(seed=3, clock=1_700_000_000)) as running:
        yield running


def _parse(body: bytes) -> list[dict[str, Any]]:
    events = [e for e in body.split(b"\n\n") if e]
    assert all(e.startswith(b"data: ") for e in events)
    assert events[-1] == b"data: [DONE]"
    return [orjson.loads(e[len(b"data: "):]) for e in events[:-1]]


def _post(mock: MockServer, body: dict[str, Any], headers: dict[str, str]) -> bytes:
    request = urllib.request.Request(mock.base_url + "/chat/completions", data=orjson.dumps(body),
                                     headers={"Content-Type": "application/json", **headers})
    with urllib.request.urlopen(request, timeout=30) as reply:
        return reply.read()


def _kind(chunk: dict[str, Any]) -> str:
    if not chunk["choices"]:
        return "usage"
    choice = chunk["choices"][0]
    delta = choice["delta"]
    if choice["finish_reason"] is not None:
        return "finish"
    if "role" in delta:
        return "role"
    if delta.get("tool_calls"):
        return "tool-header" if "id" in delta["tool_calls"][0] else "tool-arguments"
    if "refusal" in delta:
        return "refusal"
    if "function_call" in delta:
        return "function-call"
    return "content"


def _shape(value: Any, key: str | None = None) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _shape(v, k)) for k, v in value.items()))
    if isinstance(value, list):
        return ("list", _shape(value[0])) if value else ("list",)
    if key in _LITERAL_KEYS:
        return value
    if isinstance(value, str):
        return "str" if value else "''"
    return type(value).__name__


def _signature(chunk: dict[str, Any]) -> Any:
    kept = {k: v for k, v in chunk.items()
            if k not in _NEWER_FIELDS and not (k == "usage" and (v is None or not chunk["choices"]))}
    return _shape(kept)


def _skeleton(chunks: list[dict[str, Any]]) -> dict[int, list[str]]:
    """Per choice, the sequence of chunk kinds with repeats collapsed: e.g. role, content, finish."""
    per_choice: dict[int, list[str]] = {}
    for chunk in chunks:
        if chunk["choices"]:
            kinds = per_choice.setdefault(chunk["choices"][0]["index"], [])
            kind = _kind(chunk)
            if not kinds or kinds[-1] != kind:
                kinds.append(kind)
    return per_choice


def _order(chunks: list[dict[str, Any]]) -> list[tuple[int, str]]:
    return [(c["choices"][0]["index"] if c["choices"] else -1, _kind(c)) for c in chunks]


def _needs(recorded: list[dict[str, Any]], reply: dict[str, Any]) -> str | None:
    """Why the mock cannot be compared with this recording yet, if it cannot."""
    kinds = {_kind(c) for c in recorded}
    message = reply["choices"][0]["message"]
    if "tool-header" in kinds or any("tool_calls" in c["choices"][0]["delta"] for c in recorded if c["choices"]):
        recorded_calls = sum(_kind(c) == "tool-header" for c in recorded) or sum(
            "tool_calls" in c["choices"][0]["delta"] for c in recorded if _kind(c) == "role")
        if not message.get("tool_calls"):
            return "needs tool-call generation"
        if len(message["tool_calls"]) != recorded_calls:
            return "the generator chose a different number of parallel tool calls"
    if "refusal" in kinds and message.get("refusal") is None:
        return "needs refusal generation"
    return None


def _asks_for(recorded: list[dict[str, Any]]) -> dict[str, str]:
    """A refusal is the model's call, not the request's: the mock's switch for one stands in for it."""
    return {REFUSAL_HEADER: "1"} if any(_kind(c) == "refusal" for c in recorded) else {}


_SEED_TRIES = 20


def _comparable(mock: MockServer, request: dict[str, Any], recorded: list[dict[str, Any]],
                headers: dict[str, str]) -> dict[str, Any]:
    """The recorded request, or, where the generator's own choice (how many parallel calls) differs
    from the recorded model's, the same request with the first `seed` that makes the same choice."""
    reason = None
    for seed in (None, *range(_SEED_TRIES)):
        candidate = request if seed is None else {**request, "seed": seed}
        plain = {k: v for k, v in candidate.items() if k != "stream"}
        reason = _needs(recorded, json.loads(_post(mock, plain, headers)))
        if reason is None:
            return candidate
    pytest.skip(f"{reason} (tried {_SEED_TRIES} seeds)")


@pytest.mark.parametrize("name", _cases())
def test_replayed_stream_has_the_recorded_structure(mock: MockServer, reference: Path, name: str) -> None:
    request = json.loads((reference / "openai-recordings" / "requests.json").read_text())[name]["request"]
    recorded = _parse((reference / "openai-recordings" / name).read_bytes())
    headers = _asks_for(recorded)
    request = _comparable(mock, request, recorded, headers)
    replayed = _parse(_post(mock, {**request, "stream_options": {"include_usage": True}}, headers))

    def by_kind(chunks: list[dict[str, Any]]) -> dict[str, set[Any]]:
        table: dict[str, set[Any]] = {}
        for chunk in chunks:
            table.setdefault(_kind(chunk), set()).add(_signature(chunk))
        return table

    assert by_kind(replayed) == by_kind(recorded)
    assert _skeleton(replayed) == _skeleton(recorded)
    n = len(_skeleton(recorded))
    assert _order(replayed)[:2 * n] == _order(recorded)[:2 * n], "choices open differently"
    assert _order(replayed)[-(n + 1):] == _order(recorded)[-(n + 1):], "finish or usage placed differently"
    assert set(recorded[-1]["usage"]) <= set(replayed[-1]["usage"])
    assert set(recorded[-1]["usage"]["completion_tokens_details"]) <= set(replayed[-1]["usage"]["completion_tokens_details"])
    assert all("usage" in chunk and chunk["usage"] is None for chunk in replayed[:-1])


def _rebuilt_plan(recorded: list[dict[str, Any]]) -> CompletionPlan:
    """The plan that, streamed, should give exactly this recording: its tokens, calls and finishes."""
    parts: dict[int, dict[str, Any]] = {}
    for chunk in recorded:
        for choice in chunk["choices"]:
            slot = parts.setdefault(choice["index"], {"content": None, "refusal": None, "calls": [],
                                                      "logprobs": None, "finish": None})
            delta = choice["delta"]
            for key in ("content", "refusal"):
                if delta.get(key) is not None:
                    slot[key] = (slot[key] or []) + ([delta[key]] if delta[key] else [])
            for call in delta.get("tool_calls") or ():
                if "id" in call:
                    slot["calls"].append([call["id"], call["function"]["name"], []])
                elif call["function"]["arguments"]:
                    slot["calls"][call["index"]][2].append(call["function"]["arguments"])
            if choice["logprobs"] is not None and choice["finish_reason"] is None:
                entries = choice["logprobs"]["content"] or choice["logprobs"]["refusal"] or []
                slot["logprobs"] = (slot["logprobs"] or []) + entries
            if choice["finish_reason"] is not None:
                slot["finish"] = choice["finish_reason"]
    head = recorded[0]
    choices = tuple(
        ChoicePlan(index=index, finish_reason=slot["finish"],
                   content_tokens=None if slot["content"] is None else tuple(slot["content"]),
                   refusal_tokens=None if slot["refusal"] is None else tuple(slot["refusal"]),
                   tool_calls=tuple(ToolCallPlan(i, name, tuple(args)) for i, name, args in slot["calls"]),
                   logprobs=None if slot["logprobs"] is None else tuple(slot["logprobs"]))
        for index, slot in sorted(parts.items()))
    return CompletionPlan(id=head["id"], created=head["created"], model=head["model"],
                          system_fingerprint=head["system_fingerprint"], service_tier="default",
                          choices=choices, usage=recorded[-1]["usage"])


@pytest.mark.parametrize("name", _cases())
def test_recorded_tokens_stream_back_into_the_recording(reference: Path, name: str) -> None:
    recorded = _parse((reference / "openai-recordings" / name).read_bytes())
    chunks = stream_chunks(_rebuilt_plan(recorded), StreamOptions(include_usage=True, include_obfuscation=False))
    for chunk in chunks:
        del chunk["service_tier"]
        if chunk["usage"] is None:
            del chunk["usage"]
    if len(_skeleton(recorded)) == 1:
        assert chunks == recorded
        return
    # With n > 1 the real service's turn-taking is irregular (a choice sometimes sends two tokens in a
    # row); each choice's own chunks, the openings and the endings must still match exactly.
    def of(index: int, stream: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [c for c in stream if c["choices"] and c["choices"][0]["index"] == index]

    for index in _skeleton(recorded):
        assert of(index, chunks) == of(index, recorded)
    n = len(_skeleton(recorded))
    assert chunks[:2 * n] == recorded[:2 * n] and chunks[-(n + 1):] == recorded[-(n + 1):]
