"""Non-streamed throughput at 64 concurrent connections: the mock against a bare aiohttp handler.

The bare handler reads the request body and returns, as a fixed body, the very reply the mock gave to
the same request, so the ratio says what parsing, validation, generation and serialisation cost on top
of aiohttp itself. Each server runs in its own subprocess on loopback. The load comes from `wrk` (with
a Lua script for the POST body) when it is installed, otherwise from an aiohttp client in a separate
process; the output says which. Rounds alternate bare and mock so that a neighbour's CPU use affects
both alike, and every round's ratio is printed with the median.

    python benchmarks/load.py [--seconds 10] [--connections 64] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BODY = {
    "model": "gpt-4o-mini",
    "messages": [
        {"role": "system", "content": "You are a helpful assistant that answers briefly."},
        {"role": "user", "content": "Summarise the plot of a short story about a lighthouse keeper."},
    ],
    "temperature": 0.7,
    "max_tokens": 256,
}
PATH = "/v1/chat/completions"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post(port: int, body: bytes) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("POST", PATH, body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_until_serving(process: subprocess.Popen, port: int, timeout: float) -> None:
    """Poll with the benchmark's request until the server answers; fail if it dies or the time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            post(port, json.dumps(BODY).encode())
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {process.args}") from None
            time.sleep(0.05)


@contextmanager
def server(command: list[str], port: int) -> Iterator[None]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_serving(process, port, timeout=20)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


def serve_bare(port: int, reply_path: str) -> None:
    """The baseline: the least an aiohttp JSON endpoint can do (read the body, write fixed bytes)."""
    from aiohttp import web

    reply = Path(reply_path).read_bytes()

    async def handler(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=reply, content_type="application/json")

    app = web.Application()
    app.router.add_post(PATH, handler)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def _wrk(port: int, seconds: int, connections: int, script: Path) -> float:
    done = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script),
                           f"http://127.0.0.1:{port}{PATH}"], capture_output=True, text=True, check=True,
                          timeout=seconds + 30)
    if "Non-2xx" in done.stdout or "Socket errors" in done.stdout:
        raise RuntimeError(f"wrk saw failed requests:\n{done.stdout}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))


def _client_process(port: int, seconds: int, connections: int) -> float:
    done = subprocess.run([sys.executable, __file__, "--client", str(port), str(seconds), str(connections)],
                          capture_output=True, text=True, check=True, timeout=seconds + 60)
    return float(done.stdout.strip())


def _run_client(port: int, seconds: int, connections: int) -> None:
    """The fallback load generator: `connections` keep-alive aiohttp workers in this process."""
    import aiohttp

    body = json.dumps(BODY).encode()
    url = f"http://127.0.0.1:{port}{PATH}"

    async def drive() -> float:
        count = 0
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections)) as session:
            end = time.perf_counter() + seconds

            async def worker() -> None:
                nonlocal count
                while time.perf_counter() < end:
                    async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as r:
                        await r.read()
                        if r.status != 200:
                            raise RuntimeError(f"status {r.status}")
                    count += 1

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(connections)))
            return count / (time.perf_counter() - started)

    print(asyncio.run(drive()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each measurement (default 10)")
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections (default 64)")
    parser.add_argument("--rounds", type=int, default=3, help="bare/mock pairs to measure (default 3)")
    args = parser.parse_args()

    mock_port, bare_port = free_port(), free_port()
    mock = [sys.executable, "-m", "mockserver", "--port", str(mock_port), "--seed", "1", "--clock", "1700000000"]
    with tempfile.TemporaryDirectory() as scratch, server(mock, mock_port):
        status, reply = post(mock_port, json.dumps(BODY).encode())
        assert status == 200, reply
        reply_path = Path(scratch) / "reply.json"
        reply_path.write_bytes(reply)
        script = Path(scratch) / "post.lua"
        script.write_text(f'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                          f"wrk.body = [==[{json.dumps(BODY)}]==]\n")
        bare = [sys.executable, __file__, "--bare-server", str(reply_path), "--port", str(bare_port)]
        with server(bare, bare_port):
            use_wrk = shutil.which("wrk") is not None

            def measure(port: int) -> float:
                if use_wrk:
                    return _wrk(port, args.seconds, args.connections, script)
                return _client_process(port, args.seconds, args.connections)

            print(f"load generator: {'wrk (1 thread)' if use_wrk else 'aiohttp client in a separate process'}, "
                  f"{args.connections} connections, {args.seconds} s per measurement, reply {len(reply)} bytes")
            ratios = []
            for round_number in range(1, args.rounds + 1):
                bare_rate = measure(bare_port)
                mock_rate = measure(mock_port)
                ratios.append(mock_rate / bare_rate)
                print(f"round {round_number}: bare aiohttp {bare_rate:8.0f} req/s   mockserver {mock_rate:8.0f} req/s"
                      f"   ratio {ratios[-1]:.2f}")
    print(f"ratio mock / bare: median {statistics.median(ratios):.2f}, range {min(ratios):.2f}-{max(ratios):.2f}"
          " (target >= 0.5)")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--bare-server" and sys.argv[3] == "--port":
        serve_bare(int(sys.argv[4]), sys.argv[2])
    elif len(sys.argv) > 1 and sys.argv[1] == "--client":
        _run_client(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
