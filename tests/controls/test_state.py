"""The controls' state: reset returns every counter to the start, so a test never depends on earlier ones."""

from __future__ import annotations

import json

from wire import PLAIN, post, post_raw, send
from yarl import URL

from mockserver import Config, MockServer
from mockserver.controls.journal import Arrival, Journal
from mockserver.controls.state import CACHE_ENTRIES, Controls, cached, stored_with


def _statuses(mock: MockServer, count: int) -> list[int]:
    return [post(mock.url, PLAIN).status for _ in range(count)]


def test_reset_restarts_the_sequence_chaos_and_ids_follow() -> None:
    config = Config(seed=3, clock=1_700_000_000, chaos=(("server_error", 0.5),))
    with MockServer(config) as fresh:
        expected = _statuses(fresh, 8)
        first_ids = [post(fresh.url, PLAIN).json().get("id") for _ in range(1)]
    assert len(set(expected)) == 2, "the seed should fail some requests and not others"
    with MockServer(config) as used:
        _statuses(used, 3)
        assert send(used.url, "POST", "/_mock/reset").status == 200
        assert _statuses(used, 8) == expected
        assert [post(used.url, PLAIN).json().get("id") for _ in range(1)] == first_ids


def test_reset_restarts_request_ids() -> None:
    with MockServer(Config(seed=4)) as mock:
        first = post(mock.url, PLAIN).headers["x-request-id"]
        post(mock.url, PLAIN)
        send(mock.url, "POST", "/_mock/reset")
        assert post(mock.url, PLAIN).headers["x-request-id"] == first


def test_settings_round_trip_through_the_admin_api() -> None:
    with MockServer(Config(quirks=("no_usage",))) as mock:
        for name, value in [("timing", "ttft=10,itl=2"), ("fault", {"kind": "cut", "after": 2}),
                            ("quirks", ["n_ignored"]), ("limits", "rpm=100"), ("chaos", {"stall": 0.1})]:
            reply = send(mock.url, "POST", f"/_mock/{name}", json.dumps(value).encode(),
                         {"Content-Type": "application/json"})
            assert reply.status == 200, reply.raw
        settings = send(mock.url, "GET", "/_mock/settings").json()
        assert settings["timing"] == {"ttft_ms": 10.0, "itl_ms": 2.0, "jitter": 0.0}
        assert settings["fault"] == {"kind": "cut", "after": 2, "error": "server_error", "stall_ms": 0}
        assert settings["quirks"] == ["n_ignored"]
        assert settings["limits"] == {"requests_per_minute": 100, "tokens_per_minute": None}
        assert settings["chaos"] == {"stall": 0.1}
        send(mock.url, "POST", "/_mock/reset")
        assert send(mock.url, "GET", "/_mock/settings").json()["quirks"] == ["no_usage"]


def test_a_bad_setting_is_a_400_naming_the_field() -> None:
    with MockServer() as mock:
        reply = send(mock.url, "POST", "/_mock/timing", b'{"ttft_ms": -5}', {"Content-Type": "application/json"})
        assert reply.status == 400
        assert reply.json()["error"]["param"] == "timing.ttft_ms"
        reply = send(mock.url, "POST", "/_mock/quirks", b'["no_such_quirk"]', {"Content-Type": "application/json"})
        assert reply.status == 400 and "no_such_quirk" in reply.json()["error"]["message"]


def test_journal_holds_a_bounded_amount_of_body_bytes() -> None:
    journal = Journal(capacity=10, body_bytes=1000)
    for number in range(6):
        journal.add(Arrival(number, f"req_{number}", "POST", URL("/v1/chat/completions"), {}, b"x" * 300, None, 200,
                            1.0))
    bodies = [entry.body for entry in journal.entries()]
    assert bodies == [None, None, None, "x" * 300, "x" * 300, "x" * 300]
    for number in range(6, 20):
        journal.add(Arrival(number, f"req_{number}", "POST", URL("/"), {}, b"y" * 100, None, 200, 1.0))
    assert len(journal) == 10
    assert all(entry.body == "y" * 100 for entry in journal.entries())


def test_stored_entries_are_bounded_oldest_first() -> None:
    stored: dict = {}
    for number in range(5):
        stored = stored_with(stored, f"k{number}", number, limit=3)
    assert list(stored) == ["k2", "k3", "k4"]
    stored = stored_with(stored, "k2", "again", limit=3)
    assert list(stored) == ["k3", "k4", "k2"] and stored["k2"] == "again"


def test_the_other_endpoints_are_byte_identical_on_a_fresh_server() -> None:
    """With a fixed clock, a fresh server replaying the same requests returns the same bytes, ids included."""
    requests = [("/v1/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": "Hello", "logprobs": 2}),
                ("/v1/embeddings", {"model": "text-embedding-3-small", "input": ["a", "b c"]}),
                ("/v1/responses", {"model": "gpt-4o-mini", "input": "Hi", "stream": True}),
                ("/v1/responses", {"model": "gpt-4o-mini", "input": "Hi", "tools": [
                    {"type": "function", "name": "f", "parameters": {"type": "object", "properties": {}}}]})]

    def replies() -> list[tuple[int, bytes]]:
        with MockServer(Config(seed=8, clock=1_700_000_000)) as mock:
            sent = [post_raw(mock.url, json.dumps(body).encode(), path=path) for path, body in requests]
            return [(reply.status, reply.raw) for reply in sent]

    first, second = replies(), replies()
    assert first == second
    assert [status for status, _ in first] == [200] * len(requests)
def test_a_gateways_cache_keeps_the_newest_entries() -> None:
    controls = Controls()
    for number in range(CACHE_ENTRIES + 5):
        controls = cached(controls, number.to_bytes(4, "big"), b"reply %d" % number)
    assert len(controls.cache) == CACHE_ENTRIES
    assert min(controls.cache) == (5).to_bytes(4, "big") and controls.cache[(CACHE_ENTRIES + 4).to_bytes(4, "big")]
    again = cached(controls, (5).to_bytes(4, "big"), b"newer")
    assert list(again.cache)[-1] == (5).to_bytes(4, "big") and again.cache[(5).to_bytes(4, "big")] == b"newer"
