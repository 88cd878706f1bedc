"""Injected faults and per-request timing, through HTTP and the official client; header parsing as data."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import openai
import pytest
from wire import raw_post

from mockserver import Config, Fault, MockServer, Timing
from mockserver.controls.faults import apply_fault, parse_fault
from mockserver.controls.settings import SettingError
from mockserver.controls.timing import event_delays, generation_seconds, parse_timing
from mockserver.run.cli import config_from_args

_REQUEST = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Tell me a story"}], "stream": True}


@pytest.fixture(scope="module")
def mock() -> Iterator[MockServer]:
    with MockServer(Config(seed=5, clock=1_700_000_000)) as running:
        yield running


def _events(data: bytes) -> list[bytes]:
    return [event for event in data.split(b"\n\n") if event]


def test_parse_fault_forms() -> None:
    assert parse_fault("cut-after=3") == Fault("cut", after=3)
    assert parse_fault(" error-after=2 , error=rate_limit_exceeded") == Fault("error", 2, error="rate_limit_exceeded")
    assert parse_fault("stall-after=1,stall-ms=1500") == Fault("stall", 1, stall_ms=1500)
    for bad in ["", "cut=3", "cut-after=x", "cut-after=1,truncate-after=2", "stall-after=1", "cut-after=1,error=x",
                "error-after=1,error=no_such_kind", "explode-after=1", "cut-after=1,cut-after=2"]:
        with pytest.raises(SettingError):
            parse_fault(bad)


def test_parse_timing_forms() -> None:
    assert parse_timing("ttft=200,itl=20") == Timing(200, 20)
    assert parse_timing("ttft=200,itl=20,jitter=0.25") == Timing(200, 20, 0.25)
    assert parse_timing("itl=5", Timing(100, 1)) == Timing(100, 5)
    assert parse_timing("realistic").ttft_ms > 0
    assert parse_timing("none") == Timing()
    for bad in ["fast", "ttft=-1", "ttft=abc", "latency=3", "ttft=1e9", "jitter=1.5", "jitter=-0.1"]:
        with pytest.raises(SettingError):
            parse_timing(bad)


def test_schedule_paces_tokens_only() -> None:
    assert event_delays(Timing(100, 10), 3, 5) == [0.1, 0.01, 0.01, 0.0, 0.0]
    assert event_delays(Timing(), 3, 5) == [0.0] * 5
    assert generation_seconds(Timing(100, 10), 3) == pytest.approx(0.12)


def test_jitter_is_bounded_and_reproducible() -> None:
    timing = Timing(100, 10, jitter=0.5)
    delays = event_delays(timing, 50, 52, "chatcmpl-a")
    assert delays == event_delays(timing, 50, 52, "chatcmpl-a")
    assert delays != event_delays(timing, 50, 52, "chatcmpl-b")
    assert 0.05 <= delays[0] <= 0.15 and all(0.005 <= d <= 0.015 for d in delays[1:50])
    assert len(set(delays[1:50])) > 1 and delays[50:] == [0.0, 0.0]
    assert generation_seconds(timing, 50, "chatcmpl-a") == pytest.approx(sum(delays))


def test_apply_fault_never_sends_done_once_it_acts() -> None:
    events = [b"data: {\"n\":1}\n\n", b"data: {\"n\":2}\n\n", b"data: [DONE]\n\n"]
    delays = [0.0] * 3
    for fault in [Fault("cut", 99), Fault("truncate", 99), Fault("error", 99)]:
        sent = [data for _, data in apply_fault(events, delays, fault).steps]
        assert b"data: [DONE]\n\n" not in sent
    assert apply_fault(events, delays, Fault("cut", 1)).abort
    stalled = apply_fault(events, delays, Fault("stall", 1, stall_ms=250))
    assert [d for d, _ in stalled.steps] == [0.0, 0.25, 0.0]
    malformed = [data for _, data in apply_fault(events, delays, Fault("malformed", 1)).steps]
    assert malformed[0] == events[0] and malformed[2:] == events[1:]
    with pytest.raises(ValueError):
        json.loads(malformed[1][len(b"data: "):])


def test_cut_drops_the_connection_before_done(mock: MockServer) -> None:
    status, data = raw_post(mock.port, _REQUEST, {"X-Mock-Fault": "cut-after=3"})
    assert status == 200
    assert len(_events(data)) == 3 and b"[DONE]" not in data
    client = openai.OpenAI(base_url=mock.base_url, api_key="sk-test", max_retries=0)
    with pytest.raises(openai.APIConnectionError):
        list(client.chat.completions.create(**_REQUEST, extra_headers={"X-Mock-Fault": "cut-after=3"}))


def test_truncate_ends_cleanly_without_done(mock: MockServer) -> None:
    status, data = raw_post(mock.port, _REQUEST, {"X-Mock-Fault": "truncate-after=4"})
    assert status == 200
    events = _events(data)
    assert len(events) == 4 and all(json.loads(e[len(b"data: "):])["object"] == "chat.completion.chunk"
                                    for e in events)


def test_error_event_mid_stream(mock: MockServer) -> None:
    status, data = raw_post(mock.port, _REQUEST, {"X-Mock-Fault": "error-after=2,error=overloaded"})
    assert status == 200
    events = _events(data)
    assert len(events) == 3
    error = json.loads(events[-1][len(b"data: "):])
    assert set(error) == {"error"} and error["error"]["code"] == "overloaded"
    assert error["error"]["type"] == "server_error"
    client = openai.OpenAI(base_url=mock.base_url, api_key="sk-test", max_retries=0)
    with pytest.raises(openai.APIError, match="overloaded"):
        list(client.chat.completions.create(**_REQUEST, extra_headers={"X-Mock-Fault": "error-after=2,error=overloaded"}))


def test_malformed_chunk_breaks_the_client_parser(mock: MockServer) -> None:
    status, data = raw_post(mock.port, _REQUEST, {"X-Mock-Fault": "malformed-after=1"})
    events = _events(data)
    assert status == 200 and events[-1] == b"data: [DONE]"
    with pytest.raises(ValueError):
        json.loads(events[1][len(b"data: "):])
    clean = _events(raw_post(mock.port, _REQUEST, {})[1])
    assert len(events) == len(clean) + 1


def test_stall_pauses_then_completes(mock: MockServer) -> None:
    started = time.monotonic()
    status, data = raw_post(mock.port, _REQUEST, {"X-Mock-Fault": "stall-after=2,stall-ms=200"})
    assert time.monotonic() - started >= 0.2
    assert status == 200 and _events(data)[-1] == b"data: [DONE]"


def test_non_streamed_faults(mock: MockServer) -> None:
    body = {k: v for k, v in _REQUEST.items() if k != "stream"}
    status, data = raw_post(mock.port, body, {"X-Mock-Fault": "error-after=0,error=rate_limit_exceeded"})
    assert status == 429 and json.loads(data)["error"]["code"] == "rate_limit_exceeded"
    status, data = raw_post(mock.port, body, {"X-Mock-Fault": "truncate-after=0"})
    assert status == 200
    with pytest.raises(ValueError):
        json.loads(data)
    client = openai.OpenAI(base_url=mock.base_url, api_key="sk-test", max_retries=0)
    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(**body, extra_headers={"X-Mock-Fault": "cut-after=0"})


def test_bad_headers_get_the_error_envelope(mock: MockServer) -> None:
    for header, value in [("X-Mock-Fault", "cut-after=soon"), ("X-Mock-Timing", "warp")]:
        status, data = raw_post(mock.port, _REQUEST, {header: value})
        assert status == 400
        assert header in json.loads(data)["error"]["message"]


def test_timing_header_delays_streamed_and_plain_replies(mock: MockServer) -> None:
    for body in (_REQUEST, {k: v for k, v in _REQUEST.items() if k != "stream"}):
        started = time.monotonic()
        status, _ = raw_post(mock.port, body, {"X-Mock-Timing": "ttft=150,itl=1"})
        assert status == 200 and time.monotonic() - started >= 0.15


def test_cli_timing_flags() -> None:
    assert config_from_args([]).timing == Timing()
    assert config_from_args(["--timing", "realistic"]).timing == parse_timing("realistic")
    assert config_from_args(["--timing", "realistic", "--itl-ms", "5"]).timing.itl_ms == 5
    assert config_from_args(["--ttft-ms", "40", "--itl-ms", "2"]).timing == Timing(40, 2)
    assert config_from_args(["--timing", "realistic", "--jitter", "0"]).timing.jitter == 0
    for bad in (["--itl-ms", "-1"], ["--jitter", "2"]):
        with pytest.raises(SystemExit):
            config_from_args(bad)
