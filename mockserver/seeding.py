"""Where every random choice comes from: a digest of what the request asks for, the server seed and
the request seed. Nothing else (no clock, no arrival order) reaches the generator's random source.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from typing import Any

import orjson

# Fields that change how the reply is delivered or billed, never what it says.
_NOT_CONTENT = frozenset({
    "stream", "stream_options", "user", "metadata", "store", "service_tier", "seed", "safety_identifier",
    "prompt_cache_key", "prompt_cache_retention", "prompt_cache_options", "moderation", "request_id",
    "priority", "echo",
})


def content_digest(request: Mapping[str, Any], server_seed: int) -> bytes:
    """Stable across processes and key order: the body is serialised with sorted keys."""
    relevant = {k: v for k, v in request.items() if k not in _NOT_CONTENT}
    temperature = request.get("temperature")
    seed = None if temperature == 0 else request.get("seed")
    payload = orjson.dumps([server_seed, seed, relevant], option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(payload, digest_size=16).digest()


def rng_for(digest: bytes, *labels: object) -> random.Random:
    """An independent random source for one purpose (a choice, its logprobs, its tool calls...)."""
    tag = "|".join(str(label) for label in labels).encode()
    return random.Random(int.from_bytes(hashlib.blake2b(digest + tag, digest_size=8).digest(), "big"))


_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
# Maps every byte value to an alphabet character, so a digest becomes id text in one `translate`.
_ID_TABLE = bytes(ord(_ID_ALPHABET[b % len(_ID_ALPHABET)]) for b in range(256))


def short_id(material: bytes, length: int) -> str:
    """Alphanumeric id text that looks like OpenAI's (`chatcmpl-...`, `call_...`); at most 64 characters."""
    return hashlib.blake2b(material, digest_size=length).digest().translate(_ID_TABLE).decode("ascii")


def system_fingerprint(server_seed: int) -> str:
    return "fp_" + hashlib.blake2b(str(server_seed).encode(), digest_size=5).hexdigest()
