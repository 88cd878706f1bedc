"""`mockserver --workers N`: several processes on one port that answer a run exactly as one process does,
and refuse what they could not serve faithfully."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from servers import mockserver_process
from wire import send

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or not Path("/proc/self/fd").exists(),
                                reason="worker processes are forked, and counted through /proc (Linux)")

FLAGS = ("--seed", "7", "--clock", "1700000000", "--no-admin")


def _chat(index: int, **extra: object) -> dict:
    question = {"role": "user", "content": f"Question {index}: why is the sky blue?"}
    return {"model": "gpt-4o-mini", "messages": [question], "max_tokens": 12 + index % 5, **extra}


def _run() -> list[tuple[str, str, dict | None]]:
    """A run of every kind of reply: bodies, streams, several choices, each endpoint, errors."""
    run: list[tuple[str, str, dict | None]] = []
    for index in range(8):
        run += [("POST", "/v1/chat/completions", _chat(index)),
                ("POST", "/v1/chat/completions", _chat(index, stream=True, stream_options={"include_usage": True})),
                ("POST", "/v1/chat/completions", _chat(index, n=2, logprobs=True, top_logprobs=2)),
                ("POST", "/v1/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": f"Say {index}",
                                             "max_tokens": 8}),
                ("POST", "/v1/embeddings", {"model": "text-embedding-3-small", "input": f"text {index}",
                                            "dimensions": 8}),
                ("POST", "/v1/responses", {"model": "gpt-4o-mini", "input": f"Hello {index}", "store": False,
                                           "max_output_tokens": 16}),
                ("POST", "/v1/chat/completions", {"model": "gpt-4o-mini", "messages": []}),
                ("GET", "/v1/models", None)]
    return run


def _exchange(url: str, method: str, path: str, body: dict | None) -> tuple[int, str | None, bytes]:
    """One request on a connection of its own (so the kernel spreads the run over the workers)."""
    reply = send(url, method, path, None if body is None else json.dumps(body).encode(),
                 {"Content-Type": "application/json"})
    return reply.status, reply.headers.get("x-request-id"), reply.raw


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _sockets(pid: int) -> int:
    """Sockets the process holds open (its listening socket and the connections it serves)."""
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            count += os.readlink(fd).startswith("socket:")
        except OSError:
            continue
    return count


def _settled_sockets(pids: list[int]) -> dict[int, int]:
    """Socket counts once the run's closed connections are gone (two equal readings in a row)."""
    previous: dict[int, int] = {}
    for _ in range(50):
        counts = {pid: _sockets(pid) for pid in pids}
        if counts == previous:
            break
        previous = counts
        time.sleep(0.1)
    return previous


def test_two_workers_answer_a_run_byte_for_byte_as_one() -> None:
    run = _run()
    with mockserver_process(*FLAGS) as url:
        alone = [_exchange(url, *step) for step in run]
    with mockserver_process(*FLAGS, "--workers", "2") as url:
        workers = _children(url.pid)
        shared = [_exchange(url, *step) for step in run]
        # Both workers take connections: 16 held open at once are spread by their source ports (all on one
        # worker would happen once in 2^15 runs).
        before = _settled_sockets(workers)
        held = [http.client.HTTPConnection("127.0.0.1", urlsplit(url).port, timeout=10) for _ in range(16)]
        try:
            for connection in held:
                connection.request("GET", "/v1/models")
                assert connection.getresponse().read()
            gained = {pid: _sockets(pid) - before[pid] for pid in workers}
        finally:
            for connection in held:
                connection.close()
    assert len(workers) == 2
    assert all(count >= 1 for count in gained.values()), gained
    assert [status for status, _, _ in alone].count(200) == 7 * 8
    assert {status for status, _, _ in alone} == {200, 400}
    for step, one, two in zip(run, alone, shared, strict=True):
        assert one == two, step


def test_state_that_would_split_between_workers_is_refused_at_start() -> None:
    for flags, named in (((), "the admin API"), (("--no-admin", "--rate-limit-rpm", "5"), "rate limits")):
        done = subprocess.run([sys.executable, "-m", "mockserver", "--workers", "2", "--port", "0", *flags],
                              capture_output=True, text=True, timeout=30, check=False)
        assert done.returncode == 2
        assert named in done.stderr and "--workers 2 cannot serve" in done.stderr


def test_a_request_reading_stored_state_gets_a_clear_400_from_workers() -> None:
    with mockserver_process(*FLAGS, "--workers", "2") as url:
        status, _, body = _exchange(url, "POST", "/v1/responses", {"model": "gpt-4o-mini", "input": "Hi",
                                                                  "previous_response_id": "resp_123"})
        assert status == 400
        error = json.loads(body)["error"]
        assert error["param"] == "previous_response_id" and "--workers" in error["message"]
        status, _, body = _exchange(url, "GET", "/v1/responses/resp_123", None)
        assert status == 400 and json.loads(body)["error"]["param"] == "response_id"


def test_a_port_another_server_listens_on_is_refused_not_shared() -> None:
    # SO_REUSEPORT would let a second server's workers join the first's port and take half its connections.
    with mockserver_process(*FLAGS, "--workers", "2") as url:
        port = urlsplit(url).port
        for flags in ((), ("--workers", "2", "--no-admin")):
            done = subprocess.run([sys.executable, "-m", "mockserver", "--port", str(port), *flags],
                                  capture_output=True, text=True, timeout=60, check=False)
            assert done.returncode == 1, done.stderr
            assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
            assert "Traceback" not in done.stderr
