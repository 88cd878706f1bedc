"""Settings files (scenarios, deployments, gateway models): read as YAML or JSON, checked against their
published JSON Schema in `fixtures/schemas/`, every problem a `SettingError` naming the file and the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from jsonschema.exceptions import best_match

from mockserver.controls.settings import SettingError


def _where(base: str, path: Sequence[Any]) -> str:
    """`rules[1].match.model`: the field's path under the rule, list indices as plain parts."""
    return ".".join([base, *(str(part) for part in path)])


def _wording(error: jsonschema.ValidationError) -> str:
    """The schema's complaint in the words the rest of the settings use."""
    value, bound = error.instance, error.validator_value
    if error.validator == "minimum":
        wanted = "a positive integer" if bound == 1 else f"at least {bound}"
        return f"expected {wanted}, got {value!r}"
    if error.validator == "maximum":
        return f"expected at most {bound}, got {value!r}"
    if error.validator == "type":
        wanted = " or ".join(bound) if isinstance(bound, list) else bound
        return f"expected {wanted}, got {value!r}"
    if error.validator in ("enum", "const"):
        return f"expected one of {bound if error.validator == 'enum' else [bound]}, got {value!r}"
    return error.message


def check_shape(data: Any, validator: jsonschema.protocols.Validator, where: str) -> None:
    """`data` against a schema; the first problem as a `SettingError` naming the field under `where`."""
    error = best_match(validator.iter_errors(data))
    if error is None:
        return
    path = list(error.absolute_path)
    if error.validator == "additionalProperties":
        extra = re.search(r"'([^']+)' was unexpected", error.message)
        if extra:
            path.append(extra.group(1))
            raise SettingError(_where(where, path), "unknown field")
    raise SettingError(_where(where, path), _wording(error))


def read_document(path: str | Path) -> Any:
    """A settings file's raw data (a scenario's, also for passing on to another server's admin API)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingError(str(path), f"cannot read: {exc.strerror or exc}") from None
    try:
        return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise SettingError(str(path), f"not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {exc}") from None
