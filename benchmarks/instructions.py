"""CPU instructions per non-streamed request: the mock against the bare aiohttp handler of `load.py`.

Throughput on a shared machine moves by a third from one minute to the next, which hides changes of a
few per cent. Instruction counts do not move: each server runs under valgrind's callgrind, once for a
short warm-up and once for `--requests` more, and the difference divided by the extra requests is the
cost of one request, the same on every run of the same code. The ratio bare / mock is the throughput
ratio a machine would see if every instruction cost the same; the mock's own code runs at a lower
rate than aiohttp's in practice, so `load.py`'s figure comes out somewhat lower.

    python benchmarks/instructions.py [--requests 1000] [--connections 16]

Needs `valgrind` (Debian: `apt-get install valgrind`); takes a few minutes, since code under valgrind
runs some fifty times slower.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from load import BODY, PATH, free_port, post, server, wait_until_serving

_WARM_UP = 100


def _drive(port: int, total: int, connections: int) -> None:
    """Exactly `total` requests over `connections` keep-alive sockets, every reply checked for 200."""
    body = json.dumps(BODY).encode()
    request = (f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    left = total

    async def worker() -> None:
        nonlocal left
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while left > 0:
            left -= 1
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"unexpected reply: {head[:80]!r}")
            length = re.search(rb"(?i)content-length: *(\d+)", head)
            await reader.readexactly(int(length.group(1)))
        writer.close()

    async def run() -> None:
        await asyncio.gather(*(worker() for _ in range(connections)))

    asyncio.run(run())


def _instructions(command: list[str], requests: int, connections: int, scratch: Path) -> int:
    """Instructions a server executes from start to exit, serving `requests` requests in between."""
    port = free_port()
    out = scratch / f"callgrind.{port}"
    process = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                                *command, "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_serving(process, port, timeout=300)
        _drive(port, requests, connections)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=300)
    return int(re.search(r"^summary: (\d+)", out.read_text(), re.MULTILINE).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests measured per server (default 1000)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections (default 16)")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian: apt-get install valgrind)")

    here = Path(__file__).resolve().parent
    with tempfile.TemporaryDirectory() as scratch:
        mock_port = free_port()
        mock_command = [sys.executable, "-m", "mockserver", "--seed", "1", "--clock", "1700000000"]
        reply_path = Path(scratch) / "reply.json"
        with server([*mock_command, "--port", str(mock_port)], mock_port):
            status, reply = post(mock_port, json.dumps(BODY).encode())
        assert status == 200, reply
        reply_path.write_bytes(reply)
        servers = {
            "bare aiohttp": [sys.executable, str(here / "load.py"), "--bare-server", str(reply_path)],
            "mockserver": mock_command,
        }
        per_request = {}
        for name, command in servers.items():
            short = _instructions(command, _WARM_UP, args.connections, Path(scratch))
            long = _instructions(command, _WARM_UP + args.requests, args.connections, Path(scratch))
            per_request[name] = (long - short) / args.requests
            print(f"{name:13s} {per_request[name] / 1000:8.1f} thousand instructions per request")
    ratio = per_request["bare aiohttp"] / per_request["mockserver"]
    print(f"ratio bare / mock instructions: {ratio:.2f} ({args.requests} requests, {args.connections} connections)")


if __name__ == "__main__":
    main()
