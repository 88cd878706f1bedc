"""Throughput at 64 concurrent connections: the mock against a bare aiohttp handler, and against the peers.

Arms, each its own server in its own subprocess on loopback, driven by `wrk` (one thread, a Lua script that
hands out pre-formatted requests, the same mechanism for every arm):

- bare: an aiohttp handler that reads the body and returns the mock's own reply as fixed bytes (the body
  and its Content-Type, nothing else), non-streamed and streamed (the whole event stream as one body, which
  is how the mock delivers a stream with no delays to pace);
- repeated: the mock, every request the same body;
- distinct: the mock, a counter in the user message, so no two requests of a server's life are alike and
  every one is validated, counted and generated afresh;
- with `--peers`, mocktopus (pip) and aimock (npm) when they are installed, on the same request.

Every reply is 50 tokens (`max_tokens: 50` on requests whose reply runs past it: the bodies are picked
by planning them with the mock's pure core before the run), so a streamed reply is 54 events and
events per second are requests per second times that. A round measures every arm once, in turn, and each
arm's ratio is taken to the bare handler of its own round (streamed arms to the streamed bare), so a
neighbour's load hits both sides of a ratio alike; the summary gives each ratio's median over the rounds.

    python benchmarks/load.py [--seconds 5] [--connections 64] [--rounds 3] [--peers] [--workers N]
"""

from __future__ import annotations

import argparse
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
from dataclasses import dataclass
from pathlib import Path

SEED = 1
CLOCK = 1_700_000_000
TOKENS = 50
PATH = "/v1/chat/completions"
_QUESTION = "Summarise the plot of a short story about a lighthouse keeper."
BODY = {
    "model": "gpt-4o-mini",
    "messages": [
        {"role": "system", "content": "You are a helpful assistant that answers briefly."},
        {"role": "user", "content": _QUESTION},
    ],
    "temperature": 0.7,
    "max_tokens": TOKENS,
}


def body(label: str | None = None, stream: bool = False) -> dict:
    """The benchmark's request; `label` goes before the question (a counter makes each body distinct)."""
    user = _QUESTION if label is None else f"Request {label}: {_QUESTION}"
    request = {**BODY, "messages": [BODY["messages"][0], {"role": "user", "content": user}]}
    return {**request, "stream": True} if stream else request


def full_length_bodies(prefix: str, count: int, stream: bool) -> list[bytes]:
    """`count` distinct bodies (labels `prefix-0`, `prefix-1`, ...) whose reply runs the full 50 tokens,
    found by planning each candidate with the mock's pure core (the same seed as the servers)."""
    from mockserver.core.endpoints import ENDPOINTS
    from mockserver.core.endpoints.model import ServeOptions
    from mockserver.core.generate.planner import Context

    chat, options = ENDPOINTS["chat.completions"], ServeOptions()
    found: list[bytes] = []
    candidate = 0
    while len(found) < count:
        request = body(f"{prefix}-{candidate}", stream)
        candidate += 1
        plan = chat.plan(chat.validate(request, options).request, Context(server_seed=SEED))
        if len(plan.choices[0].content_tokens) == TOKENS:
            found.append(json.dumps(request).encode())
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post(port: int, payload: bytes, path: str = PATH) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("POST", path, body=payload, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_until_serving(process: subprocess.Popen, port: int, timeout: float, payload: bytes | None = None) -> None:
    """Poll with a request until the server answers; fail if it dies or the time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            post(port, payload or json.dumps(BODY).encode())
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {process.args}") from None
            time.sleep(0.05)


@contextmanager
def server(command: list[str], port: int, cwd: str | None = None) -> Iterator[None]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd,
                               start_new_session=True)
    try:
        wait_until_serving(process, port, timeout=60)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def mock_command(port: int | None, workers: int = 1) -> list[str]:
    """The mock as every arm runs it (fixed seed and clock); without a port for callers that add one."""
    command = [sys.executable, "-m", "mockserver", "--seed", str(SEED), "--clock", str(CLOCK)]
    if port is not None:
        command += ["--port", str(port)]
    return command + ["--workers", str(workers), "--no-admin"] if workers > 1 else command


def bare_command(reply_path: Path, content_type: str) -> list[str]:
    """The bare server for a canned reply; `--port N` goes after it."""
    return [sys.executable, str(Path(__file__).resolve()), "--bare-server", str(reply_path), content_type]


def serve_bare(port: int, reply_path: str, content_type: str) -> None:
    """The baseline: the least an aiohttp endpoint can do (read the body, write fixed bytes)."""
    from aiohttp import web

    reply = Path(reply_path).read_bytes()

    async def handler(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=reply, content_type=content_type)

    app = web.Application()
    app.router.add_post(PATH, handler)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def lua_script(path: Path, bodies: list[bytes], target: str = PATH) -> None:
    """A wrk script that sends `bodies` in turn (pre-formatted once) and reports how many it sent."""
    quoted = ",\n".join(f"[==[{payload.decode()}]==]" for payload in bodies)
    path.write_text(
        f"local bodies = {{\n{quoted}\n}}\nlocal requests = {{}}\nlocal sent = 0\n"
        "function init(args)\n  for i, b in ipairs(bodies) do\n"
        f'    requests[i] = wrk.format("POST", "{target}", {{["Content-Type"] = "application/json"}}, b)\n'
        "  end\nend\n"
        "function request()\n  sent = sent + 1\n  return requests[(sent - 1) % #requests + 1]\nend\n")


def wrk(port: int, seconds: int, connections: int, script: Path) -> tuple[float, int]:
    """Requests per second and requests completed."""
    done = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script),
                           f"http://127.0.0.1:{port}{PATH}"], capture_output=True, text=True, check=True,
                          timeout=seconds + 30)
    if "Non-2xx" in done.stdout or "Socket errors" in done.stdout:
        raise RuntimeError(f"wrk saw failed requests:\n{done.stdout}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))
    return rate, int(re.search(r"(\d+) requests in", done.stdout).group(1))


@dataclass
class Arm:
    name: str
    port: int
    streamed: bool
    distinct: bool = False
    rates: list[float] | None = None
    ratios: list[float] | None = None
    target: float | None = None


def _peer_arms(scratch: Path) -> tuple[list[Arm], list[tuple[list[str], int, str | None]]]:
    """mocktopus and aimock, each when it can be started here."""
    arms, commands = [], []
    mocktopus = shutil.which("mocktopus")
    if mocktopus is not None:
        port = free_port()
        scenario = scratch / "mocktopus.yaml"
        scenario.write_text(PEER_SCENARIO)
        arms.append(Arm("mocktopus", port, streamed=False))
        commands.append(([mocktopus, "serve", "--scenario", str(scenario), "--port", str(port)], port, None))
    else:
        print("mocktopus is not installed (pip install mocktopus); skipped")
    # `llmock` is aimock's command that takes a fixture file (`aimock` itself wants a config file).
    aimock = shutil.which("llmock")
    if aimock is not None:
        port = free_port()
        fixtures = scratch / "aimock.json"
        fixtures.write_text(json.dumps(AIMOCK_FIXTURES))
        arms.append(Arm("aimock", port, streamed=False))
        commands.append(([aimock, "--port", str(port), "--fixtures", str(fixtures), "--log-level", "warn"], port,
                         None))
    else:
        print("aimock is not installed (npm install -g @copilotkit/aimock); skipped")
    return arms, commands


PEER_REPLY = "The keeper tends the light through one long winter and learns to hear the sea."
PEER_SCENARIO = f"""version: 1
rules:
  - type: llm.openai
    when:
      messages_contains: "lighthouse"
    respond:
      content: "{PEER_REPLY}"
"""
AIMOCK_FIXTURES = {"fixtures": [{"match": {"userMessage": "lighthouse"}, "response": {"content": PEER_REPLY}}]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of each measurement (default 5)")
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections (default 64)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every arm (default 3)")
    parser.add_argument("--peers", action="store_true", help="also measure mocktopus and aimock when installed")
    parser.add_argument("--workers", type=int, default=1, help="worker processes for the mock (default 1)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")

    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        mock_port = free_port()
        with server(mock_command(mock_port), mock_port):
            canned = {}
            for streamed in (False, True):
                sample = full_length_bodies("sample", 1, streamed)[0]
                status, reply = post(mock_port, sample)
                assert status == 200, reply
                canned[streamed] = (sample, reply)
        arms = [Arm("bare", free_port(), False), Arm("mock, repeated body", mock_port, False, target=0.8),
                Arm("mock, distinct bodies", mock_port, False, True, target=0.5),
                Arm("bare, streamed", free_port(), True), Arm("mock, streamed, repeated", mock_port, True),
                Arm("mock, streamed, distinct", mock_port, True, True, target=0.5)]
        commands: list[tuple[list[str], int, str | None]] = [(mock_command(mock_port, args.workers), mock_port, None)]
        for arm in arms:
            if arm.name.startswith("bare"):
                sample, reply = canned[arm.streamed]
                reply_path = scratch / f"reply-{arm.port}"
                reply_path.write_bytes(reply)
                content_type = "text/event-stream" if arm.streamed else "application/json"
                commands.append(([*bare_command(reply_path, content_type), "--port", str(arm.port)], arm.port, None))
        if args.peers:
            peers, peer_commands = _peer_arms(scratch)
            arms += peers
            commands += peer_commands
        events = canned[True][1].count(b"\n\n")
        print(f"wrk (1 thread), {args.connections} connections, {args.seconds} s per measurement; replies "
              f"{len(canned[False][1])} bytes, streams {events} events ({len(canned[True][1])} bytes); "
              f"mock workers: {args.workers}")
        with _servers(commands):
            for round_number in range(1, args.rounds + 1):
                bare_rate: dict[bool, float] = {}
                for arm in arms:
                    script = scratch / f"{arm.port}-{arm.name.replace(' ', '_').replace(',', '')}.lua"
                    if arm.distinct:
                        # Enough bodies for the fastest this arm could go (its bare's rate), none sent before.
                        need = int(bare_rate[arm.streamed] * args.seconds * 1.2) + 1000
                        lua_script(script, full_length_bodies(f"r{round_number}-{arm.port}-{arm.streamed}", need,
                                                              arm.streamed))
                    else:
                        lua_script(script, [canned[arm.streamed][0]])
                    rate, sent = wrk(arm.port, args.seconds, args.connections, script)
                    if arm.distinct and sent > need:
                        raise RuntimeError(f"{arm.name}: {sent} requests but only {need} distinct bodies")
                    if arm.name.startswith("bare"):
                        bare_rate[arm.streamed] = rate
                    arm.rates = [*(arm.rates or []), rate]
                    arm.ratios = [*(arm.ratios or []), rate / bare_rate[arm.streamed]]
                print(f"round {round_number}: " + "   ".join(
                    f"{arm.name} {arm.rates[-1]:,.0f}/s" + ("" if arm.name.startswith("bare") else
                                                           f" ({arm.ratios[-1]:.2f})") for arm in arms))
    print(f"\nmedians over {args.rounds} rounds (ratio to the bare handler of the same round):")
    for arm in arms:
        unit = f"requests/s ({statistics.median(arm.rates) * events:,.0f} events/s)" if arm.streamed else "requests/s"
        line = f"  {arm.name:28s} {statistics.median(arm.rates):9,.0f} {unit}"
        if not arm.name.startswith("bare"):
            line += (f"   ratio {statistics.median(arm.ratios):.2f} (rounds {min(arm.ratios):.2f}-"
                     f"{max(arm.ratios):.2f})")
            if arm.target is not None:
                line += f"   target >= {arm.target}"
        print(line)


@contextmanager
def _servers(commands: list[tuple[list[str], int, str | None]]) -> Iterator[None]:
    if not commands:
        yield
        return
    (command, port, cwd), rest = commands[0], commands[1:]
    with server(command, port, cwd), _servers(rest):
        yield


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--bare-server" and sys.argv[4] == "--port":
        serve_bare(int(sys.argv[5]), sys.argv[2], sys.argv[3])
    else:
        main()
