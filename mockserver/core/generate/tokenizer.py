"""A built-in tokenizer close enough to OpenAI's byte-pair encodings for counting and chunking.

It splits text with the same pre-tokenisation rule the cl100k/o200k encodings use (words with their
leading space, numbers in groups of up to three digits, punctuation runs, whitespace), and it is exactly
reversible: the tokens of a text concatenate back to the text. Token ids are stable hashes of the token
text, so `logit_bias` can name them and `bytes` in logprobs are the token's UTF-8 bytes.
"""

from __future__ import annotations

import functools
import re
import zlib
from collections.abc import Mapping
from typing import Any

import orjson

VOCABULARY_SIZE = 200_000

_PRETOKEN = re.compile(
    r"'(?:[sdmt]|ll|ve|re)| ?[^\W\d_]+| ?\d{1,3}| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+",
    re.IGNORECASE,
)

# Per-message framing tokens, as in OpenAI's cookbook recipe for counting chat tokens.
_TOKENS_PER_MESSAGE = 3
_TOKENS_PER_NAME = 1
_REPLY_PRIMING = 3
_IMAGE_TOKENS = {"low": 85, "high": 765, "auto": 765}
_AUDIO_BYTES_PER_TOKEN = 400
_FILE_BYTES_PER_TOKEN = 600


def tokenize(text: str) -> list[str]:
    return _PRETOKEN.findall(text)


# System prompts and conversation history repeat from request to request; counting each distinct
# short text once keeps prompt accounting off the hot path. Long texts are counted afresh so the cache
# never holds large bodies.
_CACHED_TEXT_LENGTH = 2048


@functools.lru_cache(maxsize=8192)
def _cached_count(text: str) -> int:
    return len(_PRETOKEN.findall(text))


_COUNTED_AT_ONCE = 1 << 20
# A space before a letter, after a character that is not whitespace, always starts a token.
_TOKEN_START = re.compile(r"(?<=\S) (?=[^\W\d_])")


def count(text: str) -> int:
    """Long texts are counted a megabyte at a time, cut where a token surely starts, so counting a large
    prompt never holds a list of millions of tokens."""
    if len(text) <= _CACHED_TEXT_LENGTH:
        return _cached_count(text)
    total = start = 0
    while len(text) - start > _COUNTED_AT_ONCE:
        cut = _TOKEN_START.search(text, start + _COUNTED_AT_ONCE)
        if cut is None:
            break
        total += len(_PRETOKEN.findall(text, start, cut.start()))
        start = cut.start()
    return total + len(_PRETOKEN.findall(text, start))


def token_id(token: str) -> int:
    return zlib.crc32(token.encode("utf-8")) % VOCABULARY_SIZE


def _part_tokens(part: Mapping[str, Any]) -> int:
    kind = part.get("type")
    if kind in ("text", "refusal"):
        return count(part.get(kind) or "")
    if kind == "image_url":
        detail = (part.get("image_url") or {}).get("detail") or "auto"
        return _IMAGE_TOKENS.get(detail, _IMAGE_TOKENS["auto"])
    if kind == "input_audio":
        data = (part.get("input_audio") or {}).get("data") or ""
        return max(1, len(data) // _AUDIO_BYTES_PER_TOKEN)
    if kind == "file":
        data = (part.get("file") or {}).get("file_data") or ""
        return max(1, len(data) // _FILE_BYTES_PER_TOKEN)
    return 0


def content_tokens(content: Any) -> int:
    if isinstance(content, str):
        return count(content)
    if isinstance(content, list):
        return sum(_part_tokens(part) for part in content if isinstance(part, Mapping))
    return 0


def _json_tokens(value: Any) -> int:
    return count(orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode())


def message_tokens(message: Mapping[str, Any]) -> int:
    total = _TOKENS_PER_MESSAGE + 1 + content_tokens(message.get("content"))
    if message.get("name"):
        total += _TOKENS_PER_NAME + count(message["name"])
    for key in ("tool_calls", "function_call", "audio"):
        if message.get(key):
            total += _json_tokens(message[key])
    return total


def prompt_audio_tokens(request: Mapping[str, Any]) -> int:
    """The share of the prompt that is audio input, which usage reports on its own."""
    return sum(_part_tokens(part) for message in request["messages"] if isinstance(message.get("content"), list)
               for part in message["content"] if isinstance(part, Mapping) and part.get("type") == "input_audio")


def prompt_tokens(request: Mapping[str, Any]) -> int:
    """Tokens the request's prompt costs: messages, plus tool and schema definitions the model reads
    (and the RAG `documents` a compatibility profile lets through, which the chat template renders)."""
    total = sum(message_tokens(m) for m in request["messages"]) + _REPLY_PRIMING
    for key in ("tools", "functions", "documents"):
        if request.get(key):
            total += _json_tokens(request[key])
    response_format = request.get("response_format")
    if isinstance(response_format, Mapping) and response_format.get("type") == "json_schema":
        total += _json_tokens(response_format.get("json_schema"))
    return total
