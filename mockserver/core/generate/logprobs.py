"""Token log-probabilities in the OpenAI shape, consistent with the text they describe.

The chosen token is always the most likely entry of its own `top_logprobs` list, so that a client
reading "the model's favourite at each step" sees the text it received. `bytes` are the token's own bytes
in the model's encoding, and `token` their text; a token that holds only part of a character shows the
replacement character there, as its bytes alone do not decode.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from mockserver.core.generate.prose import vocabulary
from mockserver.core.generate.tokenizer import piece_bytes


def _entry(token: bytes, logprob: float) -> dict[str, Any]:
    return {"token": token.decode("utf-8", "replace"), "logprob": logprob, "bytes": list(token)}


def token_logprobs(rng: random.Random, tokens: Sequence[str], top: int, encoding: str) -> list[dict[str, Any]]:
    alternatives = vocabulary(encoding)
    out = []
    for token in piece_bytes(tokens, encoding):
        chosen = round(-rng.expovariate(4.0), 6)
        entry = _entry(token, chosen)
        tops = [_entry(token, chosen)] if top else []
        level = chosen
        seen = {token}
        while len(tops) < top:
            alt = alternatives[rng.randrange(len(alternatives))].encode()
            if alt in seen:
                continue
            seen.add(alt)
            level = round(level - rng.uniform(0.05, 3.0), 6)
            tops.append(_entry(alt, max(level, -9999.0)))
        entry["top_logprobs"] = tops
        out.append(entry)
    return out
