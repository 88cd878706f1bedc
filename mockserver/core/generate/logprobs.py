"""Token log-probabilities in the OpenAI shape, consistent with the text they describe.

The chosen token is always the most likely entry of its own `top_logprobs` list, so that a client
reading "the model's favourite at each step" sees the text it received.
"""

from __future__ import annotations

import random
from typing import Any

from mockserver.core.generate.prose import vocabulary


def _entry(token: str, logprob: float) -> dict[str, Any]:
    return {"token": token, "logprob": logprob, "bytes": list(token.encode("utf-8"))}


def token_logprobs(rng: random.Random, tokens: list[str], top: int) -> list[dict[str, Any]]:
    alternatives = vocabulary()
    out = []
    for token in tokens:
        chosen = round(-rng.expovariate(4.0), 6)
        entry = _entry(token, chosen)
        tops = [_entry(token, chosen)] if top else []
        level = chosen
        seen = {token}
        while len(tops) < top:
            alt = alternatives[rng.randrange(len(alternatives))]
            if alt in seen:
                continue
            seen.add(alt)
            level = round(level - rng.uniform(0.05, 3.0), 6)
            tops.append(_entry(alt, max(level, -9999.0)))
        entry["top_logprobs"] = tops
        out.append(entry)
    return out
