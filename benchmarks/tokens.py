"""What tokenising costs per request in the pure core, against parsing the request and writing the reply
as JSON (orjson) in the same run: CPU microseconds per request (the fastest of five rounds) and the ratio to that baseline.

Counting the prompt is measured cold (a user message no earlier request sent, so the per-text cache misses)
and warm (the same request again, as a repeated system prompt and history are); cutting a reply into
tokens is measured on a plain text reply and on a JSON one; the whole core (validation with the prompt
count, planning, the reply body) on a plain request and on one with tools and a schema.

    python benchmarks/tokens.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from mockserver.core.generate.planner import Context, plan_completion
from mockserver.core.generate.tokenizer import encoding_of, prompt_tokens, tokenize
from mockserver.core.render.body import completion_body
from mockserver.core.validate.request import validate_request

CORPUS = json.loads((Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "tool_schemas.json").read_text())
SYSTEM = {"role": "system", "content": "You are a concise assistant for a travel agency. Answer in plain English, "
                                       "name prices in euros and keep every answer under a hundred words."}
QUESTION = ("I am planning four days in Lisbon in late October with two children aged seven and ten. Which "
            "neighbourhoods are easy to walk, which museums suit the kids, and how do we get from the airport?")
PLAIN = {"model": "gpt-4o", "messages": [SYSTEM, {"role": "user", "content": QUESTION}]}
RICH = {**PLAIN, "tools": [{"type": "function", "function": {"name": e["name"], "parameters": e["schema"]}}
                           for e in CORPUS[:3]],
        "response_format": {"type": "json_schema", "json_schema": {"name": "order", "schema": CORPUS[8]["schema"]}}}


_ROUNDS = 5


def _us(step: Callable[[int], Any], requests: int) -> float:
    """CPU time of this process (time spent descheduled by neighbours does not count), the fastest of a few
    rounds: their load only ever adds time, so the minimum is the steadiest."""
    step(-1)
    best = float("inf")
    for round_number in range(_ROUNDS):
        started = time.process_time()
        for sequence in range(round_number * requests, (round_number + 1) * requests):
            step(sequence)
        best = min(best, time.process_time() - started)
    return best / requests * 1e6


def _asking(sequence: int) -> dict[str, Any]:
    return {**PLAIN, "messages": [SYSTEM, {"role": "user", "content": f"{QUESTION} (trip {sequence})"}]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per round (default 2000)")
    args = parser.parse_args()
    encoding = encoding_of(PLAIN["model"])
    text_reply = completion_body(plan_completion(PLAIN, Context()))
    json_reply = completion_body(plan_completion({**PLAIN, "response_format": RICH["response_format"]}, Context()))
    body = orjson.dumps(PLAIN)
    baseline = _us(lambda _: (orjson.loads(body), orjson.dumps(text_reply)), args.requests)
    cases = {
        "prompt count, cold": lambda i: prompt_tokens(_asking(i)),
        "prompt count, warm": lambda i: prompt_tokens(PLAIN),
        "prompt count, tools + schema": lambda i: prompt_tokens({**RICH, "messages": _asking(i)["messages"]}),
        "reply text into tokens": lambda i: tokenize(text_reply["choices"][0]["message"]["content"], encoding),
        "JSON reply into tokens": lambda i: tokenize(json_reply["choices"][0]["message"]["content"], encoding),
        "whole core, plain": lambda i: completion_body(plan_completion(validate_request(_asking(i)),
                                                                       Context(sequence=i))),
        "whole core, tools + schema": lambda i: completion_body(plan_completion(
            validate_request({**RICH, "messages": _asking(i)["messages"], "tool_choice": "required"}),
            Context(sequence=i))),
    }
    print(f"{'JSON parse + write (baseline)':32} {baseline:8.1f} us/request")
    for name, step in cases.items():
        cost = _us(step, args.requests)
        print(f"{name:32} {cost:8.1f} us/request   ratio to baseline {cost / baseline:6.2f}")


if __name__ == "__main__":
    main()
