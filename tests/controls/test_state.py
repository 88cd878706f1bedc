"""The controls' state: reset returns every counter to the start, so a test never depends on earlier ones."""

from __future__ import annotations

import json

from wire import PLAIN, post, send

from mockserver import Config, MockServer


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
