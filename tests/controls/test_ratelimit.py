"""The token bucket as pure transitions over injected time: no sleeping, minutes pass in microseconds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.controls.headers import duration, retry_after
from mockserver.controls.ratelimit import Limits, admit


def test_a_burst_spends_the_whole_bucket_then_refills_continuously() -> None:
    limits = Limits(requests_per_minute=6)
    state: dict = {}
    verdicts = []
    for _ in range(7):
        state, verdict = admit(state, "k", 1, now=100.0, limits=limits)
        verdicts.append(verdict)
    assert [v.allowed for v in verdicts] == [True] * 6 + [False]
    assert [v.remaining_requests for v in verdicts[:6]] == [5, 4, 3, 2, 1, 0]
    refused = verdicts[-1]
    assert (refused.exceeded, refused.retry_after) == ("requests", pytest.approx(10.0))
    state, early = admit(state, "k", 1, now=109.9, limits=limits)
    assert not early.allowed
    state, on_time = admit(state, "k", 1, now=110.0, limits=limits)
    assert on_time.allowed and on_time.remaining_requests == 0
    assert on_time.reset_requests == pytest.approx(60.0)


def test_keys_have_separate_buckets_and_refusals_spend_nothing() -> None:
    limits = Limits(tokens_per_minute=100)
    state, first = admit({}, "a", 80, 0.0, limits)
    state, refused = admit(state, "a", 30, 0.0, limits)
    state, other = admit(state, "b", 30, 0.0, limits)
    assert first.allowed and not refused.allowed and other.allowed
    assert refused.exceeded == "tokens" and refused.remaining_tokens == 20
    assert refused.retry_after == pytest.approx(6.0)  # 10 missing tokens at 100 per minute
    state, too_big = admit(state, "a", 101, 1000.0, limits)
    assert not too_big.allowed and too_big.retry_after == float("inf")


@given(rpm=st.integers(1, 50), steps=st.lists(st.floats(0, 30, allow_nan=False), max_size=40))
def test_never_more_than_capacity_plus_refill(rpm: int, steps: list[float]) -> None:
    """Over any arrival pattern, admitted requests never exceed the burst plus what the elapsed time refilled,
    and every refusal's retry_after is enough."""
    limits = Limits(requests_per_minute=rpm)
    state: dict = {}
    now = 0.0
    admitted = 0
    for gap in steps:
        now += gap
        state, verdict = admit(state, "k", 1, now, limits)
        admitted += verdict.allowed
        assert 0 <= verdict.remaining_requests <= rpm
        if not verdict.allowed:
            _, later = admit(state, "k", 1, now + verdict.retry_after + 1e-9, limits)
            assert later.allowed
    assert admitted <= rpm + now * rpm / 60 + 1e-9


def test_unlimited_keys_report_nominal_limits_and_never_refuse() -> None:
    state: dict = {}
    for _ in range(50):
        state, verdict = admit(state, "k", 10**6, 0.0, Limits())
        assert verdict.allowed
    assert verdict.limit_requests > 0 and verdict.limit_tokens > 0


@pytest.mark.parametrize(("seconds", "text"), [(0.0, "0ms"), (0.12, "120ms"), (1.5, "1.5s"), (59.988, "59.988s"),
                                               (360.0, "6m0s"), (90.5, "1m30.5s")])
def test_durations_use_the_real_api_notation(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_retry_after_gives_both_forms() -> None:
    assert retry_after(0.02) == {"retry-after": "1", "retry-after-ms": "20"}
    assert retry_after(2.5) == {"retry-after": "3", "retry-after-ms": "2500"}
