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


@functools.cache
def known_models() -> dict[str, ModelInfo]:
    table = load_json("models.json")
    return {row["id"]: ModelInfo(**row) for row in table["models"]}


@functools.cache
def _reasoning_pattern() -> re.Pattern[str]:
    return re.compile(load_json("models.json")["reasoning_id_pattern"])


@functools.lru_cache(maxsize=MODEL_CACHE_SIZE)
def model_info(model_id: str) -> ModelInfo:
    """Facts about a model id; ids outside the table get defaults, reasoning ones by name."""
    known = known_models().get(model_id)
    if known is not None:
        return known
    table = load_json("models.json")
    return ModelInfo(
        id=model_id,
        context_window=table["default_context_window"],
        reasoning=bool(_reasoning_pattern().match(model_id)),
    )
