"""The contract as data: schemas, error kinds and the model table, loaded once from `fixtures/`.

Both the mock and the conformance suite read the contract from here so that it exists in exactly one
place. In a source checkout the files sit in the top-level `fixtures/` folder; an installed wheel carries
the same folder as `mockserver/_fixtures`.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_PACKAGE_DIR = Path(__file__).resolve().parent.parent

FINISH_STOP = "stop"
FINISH_LENGTH = "length"
FINISH_TOOL_CALLS = "tool_calls"
FINISH_FUNCTION_CALL = "function_call"
FINISH_CONTENT_FILTER = "content_filter"

# The kinds of tool call, each with the field that holds what the model wrote: a function call's JSON
# `arguments`, a custom tool call's free-form `input`. Streams send that field in fragments.
TOOL_CALL_TEXT = {"function": "arguments", "custom": "input"}

# The response names the tier that served the request, which is not always the one asked for: `auto`
# (and no tier at all) runs on the project's tier, `default` unless configured, and `fast` is reported
# as `priority` (OpenAI's API description of `service_tier`).
_SERVED_TIERS = {"auto": "default", "fast": "priority"}


def served_tier(requested: str | None) -> str:
    return _SERVED_TIERS.get(requested or "auto", requested or "default")


@functools.cache
def fixtures_dir() -> Path:
    """The folder that holds the contract files, wherever the package was installed from."""
    for candidate in (_PACKAGE_DIR / "_fixtures", _PACKAGE_DIR.parent / "fixtures"):
        if (candidate / "schemas").is_dir():
            return candidate
    raise FileNotFoundError("chatdouble's fixtures/ folder is missing from this installation")


@functools.cache
def load_json(relative: str) -> Any:
    with open(fixtures_dir() / relative, "rb") as handle:
        return json.load(handle)


def schema(name: str) -> dict[str, Any]:
    """One of the JSON Schemas in `fixtures/schemas/`, by stem (`chat_completion_request`, ...)."""
    return load_json(f"schemas/{name}.schema.json")


@functools.cache
def request_parameters() -> frozenset[str]:
    """Every top-level request field the contract defines; anything else is an unknown argument."""
    return frozenset(schema("chat_completion_request")["properties"])


@functools.cache
def finish_reasons() -> tuple[str, ...]:
    choice = schema("chat_completion")["properties"]["choices"]["items"]
    return tuple(choice["properties"]["finish_reason"]["enum"])


@dataclass(frozen=True, slots=True)
class ErrorKind:
    name: str
    status: int
    type: str
    code: str | None
    message: str | None = None
    """The real API's wording, used when a scripted error gives none."""


@functools.cache
def error_kinds() -> dict[str, ErrorKind]:
    table = load_json("errors.json")
    return {name: ErrorKind(name=name, **row) for name, row in table.items()}


def error_kind(name: str) -> ErrorKind:
    return error_kinds()[name]


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


@functools.cache
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
    )
