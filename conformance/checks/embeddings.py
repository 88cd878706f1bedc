"""The checks of `/embeddings`: the list's shape, one vector per input, their length and norm, usage, and
base64 replies that decode (little-endian float32, as the official clients read them) to the float ones."""

from __future__ import annotations

import base64
import binascii
import math
import struct
from collections.abc import Mapping
from typing import Any

from conformance.checks.catalogue import register
from conformance.checks.outcome import fail
from conformance.checks.schemas import schema_error
from mockserver.contract import known_models

Request = Mapping[str, Any]
NORM_TOLERANCE = 1e-3


def inputs(request: Request) -> list[Any]:
    """The inputs a request sends: a text, a token list, or a list of either."""
    value = request.get("input")
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(item, int) for item in value):
        return [value]
    return list(value) if isinstance(value, list) else [value]


def _items(listing: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    data = listing.get("data")
    return [item for item in data if isinstance(item, Mapping)] if isinstance(data, list) else []


def decode(value: Any) -> list[float] | None:
    """A vector as floats: a float list as it is, a base64 string as little-endian float32; None when it
    is neither."""
    if isinstance(value, list):
        return value if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value) else None
    if isinstance(value, str):
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return None
        if len(raw) % 4:
            return None
        return [number for (number,) in struct.iter_unpack("<f", raw)]
    return None


@register("embeddings")
def embedding_schema(request: Request, listing: Mapping[str, Any]) -> bool:
    """The reply validates against the embedding list schema (`object: "list"`, `data` of `embedding`
    objects, `usage`)."""
    problem = schema_error("embedding_list", listing)
    if problem is not None:
        raise fail("embedding_schema", "a body valid against the embedding list schema", problem)
    if listing.get("object") != "list":
        raise fail("embedding_schema", "object 'list'", listing.get("object"))
    return True


@register("embeddings")
def embedding_count(request: Request, listing: Mapping[str, Any]) -> bool:
    """One embedding per input, with indices 0..k-1 in input order."""
    expected = list(range(len(inputs(request))))
    indices = [item.get("index") for item in _items(listing)]
    if indices != expected:
        raise fail("embedding_count", f"indices {expected}", indices)
    return True


def _vectors(listing: Mapping[str, Any]) -> list[list[float]]:
    vectors = []
    for item in _items(listing):
        vector = decode(item.get("embedding"))
        if vector is None:
            raise fail("embedding_dimensions", "an embedding as a list of numbers or base64 float32",
                       item.get("embedding"))
        vectors.append(vector)
    return vectors


@register("embeddings")
def embedding_dimensions(request: Request, listing: Mapping[str, Any]) -> bool:
    """Every vector has the length `dimensions` asks for, else the model's own (all the same length for a
    model the contract's table does not know)."""
    vectors = _vectors(listing)
    if not vectors:
        return False
    known = known_models().get(str(request.get("model")))
    wanted = request.get("dimensions") or (known.dimensions if known is not None else None)
    lengths = sorted({len(vector) for vector in vectors})
    if wanted is not None and lengths != [wanted]:
        raise fail("embedding_dimensions", f"vectors of {wanted} values", f"lengths {lengths}")
    if len(lengths) != 1 or lengths[0] == 0:
        raise fail("embedding_dimensions", "vectors of one non-zero length", f"lengths {lengths}")
    return True


@register("embeddings")
def embedding_norm(request: Request, listing: Mapping[str, Any]) -> bool:
    """Every vector has unit length (OpenAI's embeddings are normalised, so a dot product is the cosine)."""
    vectors = _vectors(listing)
    for index, vector in enumerate(vectors):
        norm = math.sqrt(sum(value * value for value in vector))
        if abs(norm - 1) > NORM_TOLERANCE:
            raise fail("embedding_norm", "unit-length vectors", f"norm {norm:.6f} at index {index}")
    return bool(vectors)


@register("embeddings")
def embedding_usage(request: Request, listing: Mapping[str, Any]) -> bool:
    """`usage.prompt_tokens` is positive and equals `total_tokens` (embedding has no completion)."""
    usage = listing.get("usage")
    if not isinstance(usage, Mapping):
        raise fail("embedding_usage", "a usage object", usage)
    prompt, total = usage.get("prompt_tokens"), usage.get("total_tokens")
    if not isinstance(prompt, int) or prompt <= 0 or prompt != total:
        raise fail("embedding_usage", "prompt_tokens > 0 and total_tokens == prompt_tokens", usage)
    return True


@register("embeddings")
def embedding_base64_matches_float(request: Request, as_float: Mapping[str, Any],
                                   as_base64: Mapping[str, Any]) -> bool:
    """The same request with `encoding_format: base64` decodes (little-endian float32) to the float reply's
    values, to float32 precision."""
    floats = [decode(item.get("embedding")) for item in _items(as_float)]
    packed = [item.get("embedding") for item in _items(as_base64)]
    if len(floats) != len(packed):
        raise fail("embedding_base64_matches_float", f"{len(floats)} base64 embeddings", len(packed))
    for index, (expected, value) in enumerate(zip(floats, packed)):
        if not isinstance(value, str):
            raise fail("embedding_base64_matches_float", "a base64 string with encoding_format base64", value)
        decoded = decode(value)
        if decoded is None or expected is None or len(decoded) != len(expected):
            seen = "not base64 of float32 values" if decoded is None else f"{len(decoded)} float32 values"
            raise fail("embedding_base64_matches_float", f"{len(expected or ())} little-endian float32 values",
                       f"{seen} at index {index}")
        worst = max((abs(a - b) for a, b in zip(decoded, expected)), default=0.0)
        if worst > 1e-6:
            raise fail("embedding_base64_matches_float", "the float values, to float32 precision",
                       f"a difference of {worst:g} at index {index}")
    return bool(packed)
