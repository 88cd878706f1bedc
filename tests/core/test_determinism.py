"""The reply is a pure function of the request, the server seed and the request seed, across processes."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from bodies import bodies
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from servers import mockserver_process
from wire import PLAIN, post

from mockserver import Config, MockServer
from mockserver.core.generate.seeding import DigestRandom

CLOCK = "1700000000"


@pytest.fixture(scope="module")
def twin_processes() -> Iterator[tuple[str, str]]:
    """Two independent interpreters with the same seed and clock, fed the same requests in lockstep."""
    with mockserver_process("--seed", "11", "--clock", CLOCK) as first, \
            mockserver_process("--seed", "11", "--clock", CLOCK) as second:
        yield first, second


def _contents(reply_body: dict[str, Any]) -> list[Any]:
    return [choice["message"]["content"] for choice in reply_body["choices"]]


def _reply(url: str, body: dict[str, Any]) -> dict[str, Any]:
    reply = post(url, body)
    assert reply.status == 200, reply.raw[:300]
    return reply.json()


@settings(max_examples=25)
@given(body=bodies())
def test_two_processes_answer_byte_for_byte_alike(twin_processes: tuple[str, str], body: dict[str, Any]) -> None:
    first, second = (post(url, body) for url in twin_processes)
    assert first.status == second.status == 200
    assert first.raw == second.raw


@settings(max_examples=20)
@given(body=bodies(), data=st.data())
def test_key_order_does_not_matter(server: MockServer, body: dict[str, Any], data: st.DataObject) -> None:
    shuffled = dict(data.draw(st.permutations(list(body.items()))))
    assert _contents(_reply(server.url, body)) == _contents(_reply(server.url, shuffled))


@settings(max_examples=20)
@given(body=bodies(limiting=False), seeds=st.lists(st.integers(0, 2**31), min_size=2, max_size=2, unique=True))
def test_different_seeds_give_different_content(server: MockServer, body: dict[str, Any], seeds: list[int]) -> None:
    assume(body.get("temperature") != 0)
    first, second = (_contents(_reply(server.url, {**body, "seed": seed})) for seed in seeds)
    assert first != second


@settings(max_examples=20)
@given(body=bodies(), seeds=st.lists(st.integers(-2**63, 2**63 - 1) | st.none(), min_size=2, max_size=2, unique=True))
def test_temperature_zero_ignores_the_seed(server: MockServer, body: dict[str, Any], seeds: list[int | None]) -> None:
    first, second = (_contents(_reply(server.url, {**body, "temperature": 0, "seed": seed})) for seed in seeds)
    assert first == second


@settings(max_examples=20)
@given(body=bodies(limiting=False))
def test_different_server_seeds_give_different_content(body: dict[str, Any]) -> None:
    with MockServer(Config(seed=1)) as one, MockServer(Config(seed=2)) as two:
        assert _contents(_reply(one.url, body)) != _contents(_reply(two.url, body))


@settings(max_examples=20)
@given(body=bodies(), user=st.text(max_size=10), metadata=st.dictionaries(st.text(max_size=5), st.text(max_size=5)),
       store=st.booleans())
def test_delivery_fields_do_not_change_content(server: MockServer, body: dict[str, Any], user: str,
                                               metadata: dict[str, str], store: bool) -> None:
    plain = {k: v for k, v in body.items() if k not in ("user", "metadata", "store")}
    decorated = {**plain, "user": user, "metadata": metadata, "store": store}
    assert _contents(_reply(server.url, plain)) == _contents(_reply(server.url, decorated))


@settings(max_examples=10)
@given(sequence=st.lists(bodies(), min_size=1, max_size=5))
def test_fixed_clock_replay_is_byte_identical(sequence: list[dict[str, Any]]) -> None:
    """A fresh server fed the same requests in the same order returns the same bodies, ids included."""
    recordings = []
    for _ in range(2):
        with MockServer(Config(seed=4, clock=int(CLOCK))) as fresh:
            recordings.append([post(fresh.url, body).raw for body in sequence])
    assert recordings[0] == recordings[1]
    ids = [json.loads(raw)["id"] for raw in recordings[0]]
    assert len(set(ids)) == len(ids)


def test_without_a_fixed_clock_created_is_the_current_time() -> None:
    before = int(time.time())
    with MockServer(Config(seed=4)) as live:
        created = _reply(live.url, PLAIN)["created"]
    assert before <= created <= int(time.time())


@settings(max_examples=50)
@given(material=st.binary(max_size=100), bits=st.lists(st.integers(0, 100), min_size=1, max_size=40))
def test_digest_random_is_a_pure_function_of_its_seed(material: bytes, bits: list[int]) -> None:
    """Each reply's random source: the same material gives the same draws, each within its bit width, and
    a saved state resumes the stream exactly."""
    first, second = DigestRandom(material), DigestRandom(material)
    halfway = len(bits) // 2
    drawn = [first.getrandbits(k) for k in bits[:halfway]]
    state = first.getstate()
    rest = [first.getrandbits(k) for k in bits[halfway:]]
    assert drawn + rest == [second.getrandbits(k) for k in bits]
    assert all(0 <= value < 2**k or (k == 0 and value == 0) for value, k in zip(drawn + rest, bits))
    resumed = DigestRandom(b"other")
    resumed.setstate(state)
    assert [resumed.getrandbits(k) for k in bits[halfway:]] == rest


def test_digest_random_draws_are_uniform_enough() -> None:
    """A chi-square check over 16 buckets; 37.7 is the 0.001 critical value for 15 degrees of freedom."""
    source = DigestRandom(b"uniform")
    counts = Counter(source.randrange(16) for _ in range(16_000))
    chi_square = sum((count - 1000) ** 2 / 1000 for count in counts.values())
    assert len(counts) == 16 and chi_square < 37.7
    assert DigestRandom(b"a").random() != DigestRandom(b"b").random()
