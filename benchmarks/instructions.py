"""CPU instructions per request for each arm of `load.py`: the bare aiohttp handler, the mock with a repeated
body and with distinct bodies, non-streamed and streamed.

Throughput on a shared machine moves by a third from one minute to the next, which hides changes of a
few per cent. Instruction counts do not move: each server runs under valgrind's callgrind, once for a
short warm-up and once for `--requests` more, and the difference divided by the extra requests is the
cost of one request, the same on every run of the same code. The ratio bare / mock is the throughput
ratio a machine would see if every instruction cost the same; the mock's own code runs at a lower
rate than aiohttp's in practice, so `load.py`'s figure comes out somewhat lower.

    python benchmarks/instructions.py [--requests 1000] [--connections 16] [--arms bare,repeated,...]

Needs `valgrind` (Debian: `apt-get install valgrind`); takes several minutes, since code under valgrind
runs some fifty times slower (two runs at a time, one per core).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from load import PATH, bare_command, free_port, full_length_bodies, mock_command, post, server, wait_until_serving

_WARM_UP = 100
ARMS = ("bare", "repeated", "distinct", "bare-streamed", "streamed-repeated", "streamed-distinct")


def _drive(port: int, bodies: list[bytes], connections: int) -> None:
    """Every body once, over `connections` keep-alive sockets, every reply checked for 200."""
    requests = [(f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(payload)}\r\n\r\n").encode() + payload for payload in bodies]
    queue = iter(requests)

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for request in queue:
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


def _instructions(command: list[str], bodies: list[bytes], connections: int, scratch: Path) -> int:
    """Instructions a server executes from start to exit, serving `bodies` in between."""
    port = free_port()
    out = scratch / f"callgrind.{port}"
    process = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                                *command, "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "PYTHONHASHSEED": "0"})
    try:
        wait_until_serving(process, port, timeout=600, payload=bodies[0])
        _drive(port, bodies[1:], connections)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=600)
    return int(re.search(r"^summary: (\d+)", out.read_text(), re.MULTILINE).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests measured per arm (default 1000)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections (default 16)")
    parser.add_argument("--arms", default=",".join(ARMS), help=f"which arms, comma-separated (default all: "
                                                              f"{','.join(ARMS)})")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian: apt-get install valgrind)")
    chosen = [arm for arm in args.arms.split(",") if arm]
    unknown = set(chosen) - set(ARMS)
    if unknown:
        sys.exit(f"unknown arms: {', '.join(sorted(unknown))}")

    mock = mock_command(None)
    total = _WARM_UP + args.requests
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        plans: dict[str, tuple[list[str], list[bytes]]] = {}
        for streamed in (False, True):
            suffix = "-streamed" if streamed else ""
            sample = full_length_bodies("sample", 1, streamed)[0]
            distinct = full_length_bodies("distinct" + suffix, total, streamed)
            port = free_port()
            with server([*mock, "--port", str(port)], port):
                status, reply = post(port, sample)
            assert status == 200, reply
            reply_path = scratch / f"reply{suffix}"
            reply_path.write_bytes(reply)
            content_type = "text/event-stream" if streamed else "application/json"
            plans["bare" + suffix] = (bare_command(reply_path, content_type), [sample] * total)
            plans[("streamed-" if streamed else "") + "repeated"] = (mock, [sample] * total)
            plans[("streamed-" if streamed else "") + "distinct"] = (mock, distinct)

        def measure(arm: str) -> float:
            command, bodies = plans[arm]
            short = _instructions(command, bodies[:_WARM_UP], args.connections, scratch)
            long = _instructions(command, bodies, args.connections, scratch)
            return (long - short) / args.requests

        with ThreadPoolExecutor(max_workers=2) as pool:
            per_request = dict(zip(chosen, pool.map(measure, chosen)))
    for arm, count in per_request.items():
        bare = per_request.get("bare-streamed" if "streamed" in arm else "bare")
        ratio = f"   ratio bare / this {bare / count:.2f}" if bare is not None and not arm.startswith("bare") else ""
        print(f"{arm:18s} {count / 1000:8.1f} thousand instructions per request{ratio}")
    print(f"({args.requests} requests after {_WARM_UP} of warm-up, {args.connections} connections)")


if __name__ == "__main__":
    main()
