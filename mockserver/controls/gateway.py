"""The models a watsonx.ai Model Gateway serves, from a YAML or JSON file (`--gateway-models FILE`).

Each model has the provider's own id, and may have an alias clients call it by and an owner
(`"provider type:provider name"`) as the gateway's model list shows it; the shape is published as
`fixtures/schemas/gateway_models.schema.json`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from mockserver.contract.fixtures import schema
from mockserver.controls.documents import check_shape, read_document
from mockserver.controls.settings import SettingError


@dataclass(frozen=True, slots=True)
class GatewayModels:
    cards: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Model id to the fields the model list shows beside the id (`alias`, `owned_by`)."""

    @property
    def models(self) -> tuple[str, ...] | None:
        """The ids served; None when no file was given (any id is served)."""
        return tuple(self.cards) or None

    @property
    def aliases(self) -> dict[str, str]:
        return {card["alias"]: model for model, card in self.cards.items() if "alias" in card}


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema("gateway_models"))


def parse_gateway_models(data: Any, source: str) -> GatewayModels:
    check_shape(data, _validator(), source)
    cards: dict[str, dict[str, str]] = {}
    names: set[str] = set()
    for position, row in enumerate(data["models"]):
        for key in ("id", "alias"):
            if key not in row:
                continue
            if row[key] in names:
                raise SettingError(f"{source}.models.{position}.{key}", f"{row[key]!r} names two models")
            names.add(row[key])
        cards[row["id"]] = {key: value for key, value in row.items() if key != "id"}
    return GatewayModels(cards)


def load_gateway_models(path: str | Path) -> GatewayModels:
    return parse_gateway_models(read_document(path), str(path))
