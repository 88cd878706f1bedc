"""What every setting of the test double shares: one error type, and one reading of the text form.

Each setting (rules, timing, faults, chaos, rate limits, quirks) is typed data with one parser that
takes its text form (a CLI flag or a request header: `ttft=200,itl=20`) or its mapping form (a
scenario file, the admin API, `Config`, the pytest plugin) and fails with a `SettingError` that names
where the bad value came from. The HTTP layer turns that into a 400, the CLI into a usage error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.core.render.quirks import QUIRKS


class SettingError(ValueError):
    """A setting that cannot be used; `where` names its source and field (`rules[1].match.model`)."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


def key_values(text: str, where: str) -> dict[str, str]:
    """`a=1, b=2` as a mapping; each key once, every item a pair."""
    pairs: dict[str, str] = {}
    for item in text.split(","):
        key, sep, value = (part.strip() for part in item.partition("="))
        if not sep or not key or key in pairs:
            raise SettingError(where, f"expected comma-separated key=value pairs, each key once, got {text!r}")
        pairs[key] = value
    return pairs


def mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SettingError(where, "expected a mapping")
    return value


def unknown_keys(value: Mapping[str, Any], allowed: frozenset[str] | tuple[str, ...], where: str) -> None:
    extra = sorted(set(value) - set(allowed))
    if extra:
        raise SettingError(f"{where}.{extra[0]}", f"unknown field; expected one of {sorted(allowed)}")


def number(value: Any, where: str, low: float, high: float) -> float:
    """A number within [low, high]; text is read as a number (the text forms carry only text)."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise SettingError(where, f"expected a number from {low:g} to {high:g}, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise SettingError(where, f"expected a number from {low:g} to {high:g}, got {value!r}")
    return float(value)


def whole(value: Any, where: str, low: int, high: int) -> int:
    """A whole number within [low, high]; text must be digits."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SettingError(where, f"expected a whole number from {low} to {high}, got {value!r}")
    return value


def parse_quirks(value: str | list[str] | tuple[str, ...] | None, where: str = "quirks") -> tuple[str, ...]:
    """`n_ignored,no_done` or a list of quirk names, in the order of the quirk table."""
    if value is None:
        return ()
    names = [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value
    if not isinstance(names, (list, tuple)) or not all(isinstance(name, str) for name in names):
        raise SettingError(where, "expected a list of quirk names")
    unknown = sorted(set(names) - set(QUIRKS))
    if unknown:
        raise SettingError(where, f"unknown quirk {unknown[0]!r}; known: {', '.join(QUIRKS)}")
    return tuple(name for name in QUIRKS if name in names)
