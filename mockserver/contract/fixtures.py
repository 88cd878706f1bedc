"""The contract's files in `fixtures/`, loaded once: the JSON Schemas and the tables beside them.

In a source checkout the files sit in the top-level `fixtures/` folder; an installed wheel carries the
same folder as `mockserver/_fixtures`.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


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
def request_parameters(name: str = "chat_completion_request") -> frozenset[str]:
    """Every top-level field a request schema defines; anything else is an unknown argument."""
    return frozenset(schema(name)["properties"])


@functools.cache
def finish_reasons() -> tuple[str, ...]:
    choice = schema("chat_completion")["properties"]["choices"]["items"]
    return tuple(choice["properties"]["finish_reason"]["enum"])
