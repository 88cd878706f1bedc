"""What generating tool arguments and structured outputs costs in the pure core, against a plain text
reply planned in the same run: microseconds per `plan_completion` and the ratio to the plain reply.

The tools are the first five schemas of the test corpus (weather, forecast, search, documents, SQL).

    python benchmarks/tools.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from mockserver.core.generate.planner import Context, plan_completion
from mockserver.core.validate.request import validate_request

CORPUS = json.loads((Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "tool_schemas.json").read_text())
USER = [{"role": "user", "content": "Plan my afternoon."}]
TOOLS = [{"type": "function", "function": {"name": e["name"], "parameters": e["schema"]}} for e in CORPUS[:5]]
CASES = {
    "plain text": {"model": "gpt-4o", "messages": USER},
    "5 tools, required": {"model": "gpt-4o", "messages": USER, "tools": TOOLS, "tool_choice": "required"},
    "json_schema (order)": {"model": "gpt-4o", "messages": USER, "response_format": {
        "type": "json_schema", "json_schema": {"name": "order", "schema": CORPUS[8]["schema"]}}},
    "json_schema (recursive)": {"model": "gpt-4o", "messages": USER, "response_format": {
        "type": "json_schema", "json_schema": {"name": "ui", "schema": CORPUS[19]["schema"]}}},
}


def _per_request_us(body: dict, requests: int) -> float:
    validate_request(body)
    started = time.perf_counter()
    for sequence in range(requests):
        plan_completion(body, Context(server_seed=sequence, sequence=sequence))
    return (time.perf_counter() - started) / requests * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    costs = {name: _per_request_us(body, args.requests) for name, body in CASES.items()}
    for name, cost in costs.items():
        print(f"{name:26} {cost:8.1f} us/request   ratio to plain text {cost / costs['plain text']:5.2f}")


if __name__ == "__main__":
    main()
