"""`POST /embeddings`: deterministic, unit-length vectors that are lexical, so retrieval works.

A vector is a hashed bag of features of the text: its words (case folded) and the character trigrams of
each word, each feature spreading its weight over a few positions chosen (with a sign) by hashing the
feature with the model and the server seed. Texts that share words share features, so their cosine similarity
is higher than that of texts that share none: a retrieval test against the mock finds the document that
holds the query's words, and a near-duplicate ranks above a stranger. The same text always gets the same
vector. `dimensions` (text-embedding-3 models) gives a vector of that length with the same features
hashed into it. `encoding_format: base64` sends the float32 values little-endian, base64-encoded, which is
what the official clients decode; the float form sends the same float32 values.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import math
import re
import sys
import unicodedata
from array import array
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from mockserver.contract.errors import ApiError, invalid_request, unknown_parameter
from mockserver.contract.fixtures import request_parameters
from mockserver.contract.models import model_info
from mockserver.core.endpoints.model import Endpoint, ServeOptions, Validated, check_kind, check_model
from mockserver.core.generate.planner import Context
from mockserver.core.generate.tokenizer import count, encoding_of, is_token, pieces
from mockserver.core.plan import Script
from mockserver.core.render import quirks
from mockserver.core.validate.rules import check_integers, check_token_lists
from mockserver.core.validate.schema import check_schema, type_name

NAME = "embeddings"
SCHEMA = "embedding_request"
MAX_INPUTS = 2048
MAX_REQUEST_TOKENS = 300_000
_WORD = re.compile(r"\w+")
_WORD_WEIGHT = 1.0
_TRIGRAM_WEIGHT = 0.3
_WORD_SLOTS = 8
_TRIGRAM_SLOTS = 4
"""Positions each word and each trigram feature is spread over (see `_slots`)."""


@dataclass(frozen=True, slots=True)
class EmbeddingPlan:
    model: str
    vectors: tuple[array, ...]
    """float32 values, one array per input."""
    base64: bool
    usage: dict[str, int]


def _inputs(request: Mapping[str, Any]) -> list[str | list[int]]:
    value = request["input"]
    if isinstance(value, str):
        return [value]
    if value and all(isinstance(item, int) and not isinstance(item, bool) for item in value):
        return [list(value)]
    return list(value)


def _text(item: str | list[int], encoding: str) -> str:
    return item if isinstance(item, str) else "".join(pieces(item, encoding))


def _dimensions(request: Mapping[str, Any]) -> int:
    full = model_info(request["model"]).dimensions or 0
    return request.get("dimensions") or full


def _check_inputs(body: Mapping[str, Any], encoding: str) -> list[int]:
    """Each input's token count, once every input is one the real API embeds."""
    value = body["input"]
    if value == []:
        raise ApiError("invalid_request", "Invalid 'input': empty array. Expected an array with minimum length 1, "
                       "but got an empty array instead.", param="input", code="empty_array")
    if isinstance(value, list) and len(value) > MAX_INPUTS:
        raise ApiError("invalid_request", f"Invalid 'input': array too long. Expected an array with maximum length "
                       f"{MAX_INPUTS}, but got an array with length {len(value)} instead.", param="input",
                       code="array_above_max_length")
    check_schema(body, (SCHEMA,))
    check_token_lists(value, "input")
    inputs = _inputs(body)
    nested = isinstance(value, list) and bool(value) and isinstance(value[0], list)
    sizes = []
    for index, item in enumerate(inputs):
        if isinstance(item, str):
            if not item:
                raise invalid_request("'$.input' is invalid. Please check the API reference: "
                                      "https://platform.openai.com/docs/api-reference.", "input")
            sizes.append(count(item, encoding))
            continue
        for position, token in enumerate(item):
            if not is_token(token, encoding):
                where = f"input.[{index}].[{position}]" if nested else f"input.[{position}]"
                raise invalid_request(f"Invalid token in input: {token} is not a token id of this model's encoding "
                                      f"({encoding}).", where)
        sizes.append(len(item))
    return sizes


def _check_dimensions(body: Mapping[str, Any]) -> None:
    wanted = body.get("dimensions")
    if wanted is None:
        return
    info = model_info(body["model"])
    if not info.shortens:
        raise invalid_request("This model does not support specifying dimensions.", "dimensions")
    if info.dimensions is not None and wanted > info.dimensions:
        raise invalid_request(f"Invalid value for 'dimensions': {wanted}. This model's embeddings have at most "
                              f"{info.dimensions} dimensions.", "dimensions")


def validate(body: Any, options: ServeOptions) -> Validated:
    if not isinstance(body, dict):
        raise invalid_request(f"Invalid type for request body: expected an object, but got {type_name(body)} instead.")
    unknown = body.keys() - request_parameters(SCHEMA)
    if unknown:
        raise unknown_parameter(min(unknown))
    if "input" not in body or "model" not in body:
        check_schema(body, (SCHEMA,))
    check_integers(body, SCHEMA)
    encoding = encoding_of(body["model"]) if isinstance(body.get("model"), str) else "cl100k_base"
    sizes = _check_inputs(body, encoding)
    check_model(body["model"], options)
    check_kind(body["model"], "embedding", "v1/embeddings")
    _check_dimensions(body)
    window = options.context_windows.get(body["model"]) or model_info(body["model"]).context_window
    for size in sizes:
        if size > window:
            raise invalid_request(f"This model's maximum context length is {window} tokens, however you requested "
                                  f"{size} tokens ({size} in your prompt; 0 for the completion). Please reduce your "
                                  "prompt; or completion length.")
    total = sum(sizes)
    if total > MAX_REQUEST_TOKENS:
        raise invalid_request(f"Requested {total} tokens, max {MAX_REQUEST_TOKENS} tokens per request", "input")
    view = {"model": body["model"], "messages": [{"role": "user", "content": _text(item, encoding)}
                                                  for item in _inputs(body)]}
    return Validated(body, total, total, view=view)


def features(text: str) -> dict[str, float]:
    """The text's lexical features and their weights: words, and the trigrams of each word (so that
    `river` and `rivers` are near); a text without word characters is its characters."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    words = _WORD.findall(folded)
    found: dict[str, float] = {}
    for word in words:
        found["w:" + word] = found.get("w:" + word, 0.0) + _WORD_WEIGHT
        marked = f"<{word}>"
        for start in range(len(marked) - 2):
            gram = "g:" + marked[start:start + 3]
            found[gram] = found.get(gram, 0.0) + _TRIGRAM_WEIGHT
    if not found:
        for character in folded or text:
            found["c:" + character] = found.get("c:" + character, 0.0) + _WORD_WEIGHT
    return found


@functools.lru_cache(maxsize=65536)
def _slots(feature: str, salt: bytes, dimensions: int) -> tuple[tuple[int, float], ...]:
    """Where a feature adds its weight, and how much there (signed): a pure function of the feature and the
    salt. A feature is spread over several positions, each taking an equal share of its squared weight, so
    one collision with another text's feature moves a cosine by a fraction of that feature, not all of it."""
    count_ = _WORD_SLOTS if feature.startswith("w:") else _TRIGRAM_SLOTS
    digest = hashlib.blake2b(feature.encode("utf-8", "surrogatepass"), key=salt, digest_size=8 * count_).digest()
    share = 1.0 / math.sqrt(count_)
    out = []
    for slot in range(count_):
        word = int.from_bytes(digest[slot * 8:slot * 8 + 8], "little")
        out.append((word % dimensions, share if (word >> 63) & 1 else -share))
    return tuple(out)


def _salt(model: str, server_seed: int) -> bytes:
    return hashlib.blake2b(f"{model}|{server_seed}".encode(), digest_size=16).digest()


def embed(text: str, model: str, dimensions: int, server_seed: int = 0) -> array:
    """The unit-length float32 vector of `text`, `dimensions` long. Features are hashed into the length
    asked for, so a shortened vector keeps every feature (a vector cut to its first values, as
    text-embedding-3 shortens, would lose most features of a short text)."""
    salt = _salt(model, server_seed)
    values: dict[int, float] = {}
    for feature, weight in features(text).items():
        for position, sign in _slots(feature, salt, dimensions):
            values[position] = values.get(position, 0.0) + sign * weight
    norm = math.sqrt(sum(value * value for value in values.values()))
    if norm == 0.0:
        return _unit(text, dimensions)
    vector = array("f", bytes(4 * dimensions))
    for position, value in values.items():
        vector[position] = value / norm
    return vector


def _unit(text: str, dimensions: int) -> array:
    """A text whose features cancelled out (opposite signs at one position): a unit vector of its own."""
    values = array("f", bytes(4 * dimensions))
    values[int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(),
                          "little") % dimensions] = 1.0
    return values


def plan(request: Mapping[str, Any], context: Context) -> EmbeddingPlan:
    encoding = encoding_of(request["model"])
    dimensions = _dimensions(request)
    vectors = tuple(embed(_text(item, encoding), request["model"], dimensions, context.server_seed)
                    for item in _inputs(request))
    prompt = context.prompt_tokens
    if prompt is None:
        prompt = sum(count(item, encoding) if isinstance(item, str) else len(item) for item in _inputs(request))
    return EmbeddingPlan(request["model"], vectors, request.get("encoding_format") == "base64",
                         {"prompt_tokens": prompt, "total_tokens": prompt})


def encoded(vector: array) -> str:
    """float32 values little-endian, base64: what the official clients decode."""
    if sys.byteorder == "big":
        vector = array("f", vector)
        vector.byteswap()
    return base64.b64encode(vector.tobytes()).decode("ascii")


def embedding_list(plan: EmbeddingPlan) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [{"object": "embedding", "index": index,
                  "embedding": encoded(vector) if plan.base64 else vector.tolist()}
                 for index, vector in enumerate(plan.vectors)],
        "model": plan.model,
        "usage": plan.usage,
    }


def body(plan: EmbeddingPlan, quirk_names: tuple[str, ...]) -> bytes:
    """The list's JSON, written vector by vector: 2048 inputs of 3072 floats as one list of Python floats
    would hold some 150 MB at once; written one vector at a time, the bytes are the same. Quirks that bend
    the body get the object."""
    if quirks.bends(quirk_names, NAME):
        return orjson.dumps(quirks.apply_body(quirk_names, embedding_list(plan), NAME))
    items = b",".join(b'{"object":"embedding","index":%d,"embedding":%s}' % (
        index, orjson.dumps(encoded(vector) if plan.base64 else vector.tolist()))
        for index, vector in enumerate(plan.vectors))
    return (b'{"object":"list","data":[' + items + b'],"model":' + orjson.dumps(plan.model) + b',"usage":'
            + orjson.dumps(plan.usage) + b"}")


def scripted(script: Script, request: Mapping[str, Any], context: Context) -> EmbeddingPlan:
    """Scripted words stand in for every input: each vector is the script text's embedding."""
    text = script.text if script.text is not None else "".join(arguments for _, arguments in script.tool_calls)
    dimensions = _dimensions(request)
    vectors = tuple(embed(text or " ", request["model"], dimensions, context.server_seed) for _ in _inputs(request))
    prompt = context.prompt_tokens or 0
    return EmbeddingPlan(request["model"], vectors, request.get("encoding_format") == "base64",
                         {"prompt_tokens": prompt, "total_tokens": prompt})


def pacing(plan: EmbeddingPlan) -> tuple[int, str]:
    """An embedding is one forward pass per input, paced like one token each."""
    return len(plan.vectors), plan.model


def quick(body: Any) -> bool:
    return not (isinstance(body, dict) and isinstance(body.get("input"), list) and len(body["input"]) > 16)


EMBEDDINGS = Endpoint(
    name=NAME,
    method="POST",
    paths=("/embeddings",),
    validate=validate,
    plan=plan,
    scripted=scripted,
    body=body,
    pacing=pacing,
    quick=quick,
)

