"""What the test-double controls cost: requests per second with a long rule list and the rate limiter
on, against the same mock with neither, in the same run; plus the pure rule selection on its own.

Every request misses all the rules (the worst case: each rule is tested), so the generator answers
both servers alike and the ratio isolates matching, limiting, journaling and header stamping.

    python benchmarks/controls.py [--requests 600] [--concurrency 8] [--rules 100] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import time

import aiohttp

from mockserver import Config, MockServer
from mockserver.controls.rules import Counts, parse_scenario, select

BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say something short."}], "max_tokens": 16}


def _rules(count: int) -> list[dict]:
    return [{"id": f"r{i}", "match": {"last_user": {"regex": f"^never-{i}$"}, "headers": {"x-case": f"c{i}"}},
             "reply": "unreachable"} for i in range(count)]


async def _drive(url: str, requests: int, concurrency: int) -> float:
    async with aiohttp.ClientSession() as session:
        queue = iter(range(requests))

        async def worker() -> None:
            for _ in queue:
                async with session.post(url + "/v1/chat/completions", json=BODY) as reply:
                    assert reply.status == 200, reply.status
                    await reply.read()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return requests / (time.perf_counter() - started)


def _rate(config: Config, requests: int, concurrency: int) -> float:
    with MockServer(config) as server:
        asyncio.run(_drive(server.url, requests // 10, concurrency))  # warm-up
        return asyncio.run(_drive(server.url, requests, concurrency))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rules", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; the best of each counts")
    args = parser.parse_args()
    scenario = parse_scenario(_rules(args.rules), "benchmark")
    plain_config = Config(seed=1)
    controlled_config = Config(seed=1, scenario=scenario, rate_limit_rpm=10**9, rate_limit_tpm=10**12)
    baseline = controlled = 0.0
    for _ in range(args.rounds):
        baseline = max(baseline, _rate(plain_config, args.requests, args.concurrency))
        controlled = max(controlled, _rate(controlled_config, args.requests, args.concurrency))
    print(f"plain mock:                        {baseline:8.0f} requests/s")
    print(f"{args.rules} rules + rate limiter:         {controlled:8.0f} requests/s")
    print(f"ratio (controlled / plain):        {controlled / baseline:8.2f}")

    counts = Counts()
    rounds = 2000
    started = time.perf_counter()
    for _ in range(rounds):
        _, _, counts = select(scenario.rules, BODY, {"x-case": "none"}, counts)
    per_call = (time.perf_counter() - started) / rounds
    print(f"select() over {args.rules} missing rules:    {per_call * 1e6:8.1f} us per request")


if __name__ == "__main__":
    main()
