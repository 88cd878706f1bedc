"""The model table (`fixtures/models.json`): what the mock knows about each model id."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from mockserver.contract.fixtures import load_json

MODEL_CACHE_SIZE = 1024
"""Model ids come from clients, so facts about ids outside the table are cached within a bound."""


@dataclass(frozen=True, slots=True)
class ModelInfo:
    id: str
    owned_by: str = "system"
    created: int = 1700000000
    context_window: int = 128000
    max_output_tokens: int = 16384
    reasoning: bool = False
    audio: bool = False
    encoding: str = "o200k_base"
    """The byte-pair encoding the model reads and writes (`o200k_base`, `cl100k_base`)."""
    kind: str = "chat"
    """What the model serves: `chat` (chat completions and responses), `completion` (the legacy
    completions endpoint) or `embedding`."""
    dimensions: int | None = None
    """An embedding model's vector length."""
    shortens: bool = False
    """Whether an embedding model takes `dimensions` (the text-embedding-3 family)."""


@functools.cache
def known_models() -> dict[str, ModelInfo]:
    table = load_json("models.json")
    return {row["id"]: ModelInfo(**row) for row in table["models"]}


@functools.cache
def _reasoning_pattern() -> re.Pattern[str]:
    return re.compile(load_json("models.json")["reasoning_id_pattern"])


def _encoding_by_name(model_id: str) -> str:
    """Ids outside the table read the encoding of the family their name says (gpt-4-0613: cl100k_base)."""
    table = load_json("models.json")
    for pattern, encoding in table["encoding_by_id_pattern"].items():
        if re.match(pattern, model_id):
            return encoding
    return table["default_encoding"]


@functools.lru_cache(maxsize=MODEL_CACHE_SIZE)
def model_info(model_id: str) -> ModelInfo:
    """Facts about a model id; ids outside the table get defaults, reasoning ones and encodings by name."""
    known = known_models().get(model_id)
    if known is not None:
        return known
    table = load_json("models.json")
    return ModelInfo(
        id=model_id,
        context_window=table["default_context_window"],
        max_output_tokens=table["default_max_output_tokens"],
        reasoning=bool(_reasoning_pattern().match(model_id)),
        encoding=_encoding_by_name(model_id),
        dimensions=table["default_dimensions"],
        shortens=True,
    )
