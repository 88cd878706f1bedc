"""Starting `python -m mockserver` in a subprocess on a free loopback port, bounded in time."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

STARTUP_SECONDS = 20


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request("GET", "/v1/models")
        return connection.getresponse().status < 500
    except OSError:
        return False
    finally:
        connection.close()


class Served(str):
    """A served mock's root URL, which also knows the process serving it."""

    pid: int


@contextmanager
def mockserver_process(*args: str, env: dict[str, str] | None = None) -> Iterator[Served]:
    """The root URL of a mock running in its own interpreter with these CLI flags (plus `--port`)."""
    port = free_port()
    command: Sequence[str] = [sys.executable, "-m", "mockserver", "--port", str(port), *args]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _answers(port):
            if process.poll() is not None:
                raise RuntimeError(f"mockserver exited early: {process.stderr.read().decode()[-2000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"mockserver did not answer on port {port} within {STARTUP_SECONDS} s")
            time.sleep(0.05)
        served = Served(f"http://127.0.0.1:{port}")
        served.pid = process.pid
        yield served
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stderr.close()
