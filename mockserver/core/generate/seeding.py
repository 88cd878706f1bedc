"""Where every random choice comes from: a digest of what the request asks for, the server seed and
the request seed. Nothing else (no clock, no arrival order) reaches the generator's random source.
"""

from __future__ import annotations

import functools
import hashlib
import random
import struct
from collections.abc import Mapping
from typing import Any

import orjson

from mockserver.contract.profiles import profiles

# Fields that never change what a choice generates: delivery and billing, and the stopping criteria and
# reporting options a real model applies to the same sampled tokens (a limit or a stop sequence cuts them,
# `n` asks for more choices, logprobs describe them, a prediction only speeds them up), and the profiles'
# parameters of those kinds (`fixtures/profiles.json` marks them `"content": false`).
_NOT_CONTENT = frozenset({
    "stream", "stream_options", "user", "metadata", "store", "service_tier", "seed", "safety_identifier",
    "prompt_cache_key", "prompt_cache_retention", "prompt_cache_options", "moderation", "max_tokens",
    "max_completion_tokens", "stop", "n", "logprobs", "top_logprobs", "prediction",
    *(name for table in profiles().values() for name, parameter in table.parameters.items() if not parameter.content),
})


def content_digest(request: Mapping[str, Any], server_seed: int) -> bytes:
    """Stable across processes and key order: the body is serialised with sorted keys."""
    relevant = {k: v for k, v in request.items() if k not in _NOT_CONTENT}
    temperature = request.get("temperature")
    seed = None if temperature == 0 else request.get("seed")
    payload = orjson.dumps([server_seed, seed, relevant], option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(payload, digest_size=16).digest()


_WORDS = struct.Struct(">16I")


class DigestRandom(random.Random):
    """`random.Random`'s whole interface over BLAKE2b in counter mode.

    Seeding a Mersenne Twister costs about 5 µs, more than all the draws a plain reply makes, and a
    reply needs several independent sources. A hash stream costs a fraction of that to seed, and since
    every draw comes from `getrandbits` here (Random's own methods build on it), the numbers are the
    same on every Python version.
    """

    def seed(self, a: object = None, version: int = 2) -> None:
        material = a if isinstance(a, bytes) else repr(a).encode()
        # BLAKE2b keys hold 64 bytes; longer material is hashed down rather than cut, so it all counts.
        self._key = material if len(material) <= 64 else hashlib.blake2b(material).digest()
        self._counter = 0
        self._words: list[int] = []
        self.gauss_next = None

    def _word(self) -> int:
        """The next 32 bits of the stream; each 64-byte block is unpacked once into sixteen words."""
        words = self._words
        if not words:
            block = hashlib.blake2b(self._counter.to_bytes(8, "big"), key=self._key).digest()
            self._counter += 1
            words.extend(reversed(_WORDS.unpack(block)))
        return words.pop()

    def getrandbits(self, k: int) -> int:
        if k <= 32:
            if k < 0:
                raise ValueError("number of bits must be non-negative")
            return self._word() >> (32 - k)
        count = -(-k // 32)
        value = 0
        for _ in range(count):
            value = (value << 32) | self._word()
        return value >> (count * 32 - k)

    def random(self) -> float:
        return self.getrandbits(53) * (1.0 / 9007199254740992.0)

    def getstate(self) -> tuple[bytes, int, tuple[int, ...], float | None]:
        return self._key, self._counter, tuple(self._words), self.gauss_next

    def setstate(self, state: tuple[bytes, int, tuple[int, ...], float | None]) -> None:  # type: ignore[override]
        self._key, self._counter, words, self.gauss_next = state
        self._words = list(words)


def rng_for(digest: bytes, *labels: object) -> random.Random:
    """An independent random source for one purpose (a choice, its logprobs, its tool calls...)."""
    return DigestRandom(digest + "|".join(str(label) for label in labels).encode())


_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
# Maps every byte value to an alphabet character, so a digest becomes id text in one `translate`.
_ID_TABLE = bytes(ord(_ID_ALPHABET[b % len(_ID_ALPHABET)]) for b in range(256))


def short_id(material: bytes, length: int) -> str:
    """Alphanumeric id text that looks like OpenAI's (`chatcmpl-...`, `call_...`); at most 64 characters."""
    return hashlib.blake2b(material, digest_size=length).digest().translate(_ID_TABLE).decode("ascii")


@functools.cache
def system_fingerprint(server_seed: int) -> str:
    return "fp_" + hashlib.blake2b(str(server_seed).encode(), digest_size=5).hexdigest()
