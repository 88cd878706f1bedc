"""The Enkrypt AI proxy's saved deployments, from a YAML or JSON file (`--deployments FILE`).

The file's shape is published as `fixtures/schemas/deployments.schema.json`. A deployment names the
tags requests may send and, per direction, the detectors that block and those that only report, the
keywords `keyword_detector` looks for and the policy `policy_violation` enforces. The file is kept by
name so a request with `X-Enkrypt-Refresh-Cache: true` can have it read again.
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
from mockserver.core.gateways.guardrails import Deployment, Guard


@dataclass(frozen=True, slots=True)
class Deployments:
    table: Mapping[str, Deployment] = field(default_factory=dict)
    source: str | None = None
    """The file they were read from, which a refresh reads again."""


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema("deployments"))


def _guard(data: Mapping[str, Any] | None) -> Guard:
    data = data or {}
    block = tuple(data.get("block") or ())
    report = tuple(name for name in data.get("report") or () if name not in block)
    return Guard(detectors=block + report, block=frozenset(block), keywords=tuple(data.get("keywords") or ()),
                 policy=data.get("policy"), policy_terms=tuple(data.get("policy_terms") or ()),
                 block_message=data.get("block_message"))


def parse_deployments(data: Any, source: str) -> Deployments:
    check_shape(data, _validator(), source)
    table: dict[str, Deployment] = {}
    for position, row in enumerate(data["deployments"]):
        if row["name"] in table:
            raise SettingError(f"{source}.deployments.{position}.name", f"duplicate deployment {row['name']!r}")
        table[row["name"]] = Deployment(row["name"], tuple(row.get("tags") or ()), _guard(row.get("input")),
                                        _guard(row.get("output")))
    return Deployments(table, source)


def load_deployments(path: str | Path) -> Deployments:
    return parse_deployments(read_document(path), str(path))
