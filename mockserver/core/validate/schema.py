"""The request schema check, with the real API's wording for what it finds.

It runs twice only on failure: jsonschema-rs answers valid or not on the hot path in about a
microsecond, and jsonschema explains a failure precisely, so good requests pay almost nothing and bad
ones get an error message as specific as the real API's.

jsonschema's explanation costs about a millisecond per array item under a `oneOf` (every branch is
tried and every error kept), so a refused body with a long list would hold the server for minutes.
The body is shrunk first, with jsonschema-rs as the judge: long lists are cut to their first items
(in halving groups, so thousands of lists cost a few dozen checks), and a list whose tail holds the
failure to the shortest prefix that still fails (a window ending at the failing item when that prefix
is long, its offset remembered so `param` names the item's real index). Cutting items off a list cannot create an error
in the request schema (its `minItems` are all met by the prefixes tried), so the explanation of the
shrunk body is an explanation of the body.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import jsonschema
import jsonschema_rs
from jsonschema.exceptions import ValidationError, best_match

from mockserver.contract.errors import ApiError
from mockserver.contract.fixtures import schema
from mockserver.contract.profiles import parameter_schema

SchemaKey = tuple[str, ...]
"""Which schema judges a body: `("chat_completion_request",)`, or a profile's parameters for a route,
`("profile", "vllm", "/chat/completions")`."""
REQUEST: SchemaKey = ("chat_completion_request",)
_DISCRIMINATORS = ("role", "type")
_JSON_TYPE_NAMES = {
    "string": "a string", "integer": "an integer", "number": "a decimal", "boolean": "a boolean",
    "object": "an object", "array": "an array", "null": "null",
}


def _document(key: SchemaKey) -> dict[str, Any]:
    return schema(key[0]) if len(key) == 1 else parameter_schema(key[1], key[2])


@functools.cache
def _fast_check(key: SchemaKey) -> Callable[[Any], bool]:
    """Formats go unchecked, as in the explainer (and the real API): both must give the same verdict."""
    return jsonschema_rs.validator_for(_document(key), validate_formats=False).is_valid


@functools.cache
def _explainer(key: SchemaKey) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(_document(key))


def param_path(parts: Iterable[Any]) -> str | None:
    """The real API's notation for a nested parameter: `messages.[0].content`."""
    text = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in parts)
    return text or None


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _discriminator_failed(errors: Sequence[ValidationError]) -> bool:
    return any(
        len(e.relative_path) == 1 and e.relative_path[0] in _DISCRIMINATORS and e.validator in ("enum", "const")
        for e in errors
    )


def _specific(error: ValidationError) -> ValidationError:
    """Descend through oneOf/anyOf into the branch the client evidently meant (the one whose `role` or
    `type` matched), so the message names the real mistake rather than "not valid under any schema"."""
    while error.context:
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        meant = [errs for errs in branches.values() if not _discriminator_failed(errs)]
        if not meant:
            break
        if len(meant) > 1 and all(len(errs) == 1 and not errs[0].relative_path for errs in meant):
            break
        error = best_match(min(meant, key=len))
    return error


def _discriminator_error(error: ValidationError, offsets: Mapping[Path, int]) -> ApiError | None:
    """When no branch of a union accepts the object's `role`/`type`, list the values that would."""
    if error.validator not in ("oneOf", "anyOf") or not isinstance(error.instance, dict):
        return None
    allowed: list[Any] = []
    key = None
    for sub in error.context or ():
        if len(sub.relative_path) == 1 and sub.relative_path[0] in _DISCRIMINATORS and sub.validator in ("enum", "const"):
            key = sub.relative_path[0]
            values = sub.validator_value if sub.validator == "enum" else [sub.validator_value]
            allowed += [v for v in values if v not in allowed]
    if key is None or len({s.relative_schema_path[0] for s in error.context}) != len(
            {s.relative_schema_path[0] for s in error.context if s.relative_path and s.relative_path[0] == key}):
        return None
    param = param_path([*_unshifted(list(error.absolute_path), offsets), key])
    listed = ", ".join(repr(v) for v in allowed)
    return ApiError("invalid_request", f"Invalid value: {error.instance.get(key)!r}. Supported values are: "
                    f"{listed}.", param=param, code="invalid_value")


def _schema_error(error: ValidationError, body: Any, offsets: Mapping[Path, int]) -> ApiError:
    """`body` is the request as sent and `error` is about the shrunk body: positions are shifted back by
    `offsets`, and the value is read from the request (a list's real length, not its prefix's)."""
    error = _specific(error)
    by_discriminator = _discriminator_error(error, offsets)
    if by_discriminator is not None:
        return by_discriminator
    path = _unshifted(list(error.absolute_path), offsets)
    param = param_path(path)
    try:
        value = _at(body, tuple(path))
    except (KeyError, IndexError, TypeError):
        value = error.instance
    kind = error.validator
    if kind == "required":
        missing = re.search(r"'([^']+)' is a required property", error.message)
        name = missing.group(1) if missing else ""
        return ApiError("invalid_request", f"Missing required parameter: '{param_path([*path, name])}'.",
                        param=param_path([*path, name]), code="missing_required_parameter")
    if kind == "type" or (kind in ("oneOf", "anyOf") and not isinstance(value, (dict, list))):
        expected = error.validator_value if kind == "type" else None
        if expected is None:
            expected = [b.get("type") for b in error.validator_value if isinstance(b, dict) and isinstance(b.get("type"), str)]
        if isinstance(expected, str):
            wanted = _JSON_TYPE_NAMES.get(expected, expected)
        elif expected:
            wanted = " or ".join(_JSON_TYPE_NAMES.get(t, t) for t in expected)
        else:
            wanted = "a value of another type"
        return ApiError("invalid_request", f"Invalid type for '{param}': expected {wanted}, but got "
                        f"{type_name(value)} instead.", param=param, code="invalid_type")
    if kind in ("enum", "const"):
        allowed = error.validator_value if kind == "enum" else [error.validator_value]
        listed = ", ".join(repr(v) for v in allowed if v is not None)
        return ApiError("invalid_request", f"Invalid value: {value!r}. Supported values are: {listed}.",
                        param=param, code="invalid_value")
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        number = "integer" if error.schema.get("type") in ("integer", ["integer", "null"]) else "decimal"
        below = kind in ("minimum", "exclusiveMinimum")
        sign = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}[kind]
        word = "below minimum" if below else "above maximum"
        return ApiError("invalid_request", f"Invalid '{param}': {number} {word} value. Expected a value "
                        f"{sign} {error.validator_value}, but got {value} instead.",
                        param=param, code=f"{number}_{'below_min' if below else 'above_max'}_value")
    if kind == "minItems":
        return ApiError("invalid_request", f"Invalid '{param}': empty array. Expected an array with minimum "
                        f"length {error.validator_value}, but got an empty array instead.",
                        param=param, code="empty_array")
    if kind == "maxItems":
        return ApiError("invalid_request", f"Invalid '{param}': array too long. Expected an array with maximum "
                        f"length {error.validator_value}, but got an array with length {len(value)} instead.",
                        param=param, code="array_above_max_length")
    if kind in ("maxLength", "minLength"):
        which = "long" if kind == "maxLength" else "short"
        bound = "maximum" if kind == "maxLength" else "minimum"
        return ApiError("invalid_request", f"Invalid '{param}': string too {which}. Expected a string with "
                        f"{bound} length {error.validator_value}, but got a string with length {len(value)} "
                        "instead.", param=param, code=f"string_{'above_max' if kind == 'maxLength' else 'below_min'}_length")
    if kind == "additionalProperties":
        extra = re.search(r"\('([^']+)'", error.message)
        name = param_path([*path, extra.group(1)]) if extra else param
        return ApiError("invalid_request", f"Unrecognized request argument supplied: {name}", param=name)
    return ApiError("invalid_request", f"Invalid '{param}': {error.message}", param=param, code="invalid_value")


Path = tuple[Any, ...]
_SHORT = 8
"""Lists this long are explained as they are."""
_WINDOW = 8
"""Items kept before (and including) the failing one when the failing prefix is long."""
_LONG_PREFIX = 256
"""A failing prefix up to this long is kept whole (a `maxItems` error needs all of its items)."""
_MAX_CHECKS = 512
"""Checks spent cutting lists in groups; past them, the body is explained as far as it was shrunk."""
_CUT_HERE = object()


def _walk_minimum(node: Any) -> Iterator[int]:
    if isinstance(node, Mapping):
        if isinstance(node.get("minItems"), int):
            yield node["minItems"]
        for child in node.values():
            yield from _walk_minimum(child)
    elif isinstance(node, list):
        for child in node:
            yield from _walk_minimum(child)


@functools.cache
def _shortest_cut(key: SchemaKey) -> int:
    """No list of the request is cut shorter than the schema's largest `minItems`."""
    return max([1, *_walk_minimum(_document(key))])


def _at(node: Any, path: Path) -> Any:
    for part in path:
        node = node[part]
    return node


def _replaced(node: Any, path: Path, value: Any) -> Any:
    """`node` with the value at `path` replaced, sharing everything off the path."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    copy = list(node) if isinstance(node, list) else dict(node)
    copy[head] = _replaced(node[head], rest, value)
    return copy


def _shortest_failing(body: Any, path: Path, items: list[Any], fails: Callable[[Any], bool], shortest: int) -> int:
    """The shortest prefix of the list at `path` that keeps `body` failing (the whole list does), and
    at least `shortest` long."""
    low, high = shortest, len(items)
    probe = low
    while probe < high and not fails(_replaced(body, path, items[:probe])):
        low, probe = probe + 1, probe * 2
    high = min(probe, high)
    while low < high:
        middle = (low + high) // 2
        if fails(_replaced(body, path, items[:middle])):
            high = middle
        else:
            low = middle + 1
    return high


def _outermost_long_lists(body: Any, decided: set[Path]) -> list[Path]:
    """Paths of the lists longer than `_SHORT` that are not `decided` and lie in no such list."""
    found: list[Path] = []
    stack: list[tuple[Path, Any]] = [((), body)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, list):
            if len(node) > _SHORT and path not in decided:
                found.append(path)
                continue
            children: Iterable[tuple[Any, Any]] = enumerate(node)
        elif isinstance(node, dict):
            children = node.items()
        else:
            continue
        stack.extend(reversed([((*path, key), child) for key, child in children if isinstance(child, (dict, list))]))
    return found


def _cut(body: Any, paths: Iterable[Path]) -> Any:
    """`body` with the lists at `paths` cut to their first `_SHORT` items, sharing everything else (a path
    inside a part that was cut away is ignored)."""
    trie: dict[Any, Any] = {}
    for path in paths:
        node = trie
        for part in path:
            node = node.setdefault(part, {})
        node[_CUT_HERE] = True

    def cut(node: Any, branch: dict[Any, Any]) -> Any:
        if isinstance(node, list):
            copy = node[:_SHORT] if branch.get(_CUT_HERE) else list(node)
            for key, sub in branch.items():
                if key is not _CUT_HERE and key < len(copy):
                    copy[key] = cut(copy[key], sub)
            return copy
        copy = dict(node)
        for key, sub in branch.items():
            if key is not _CUT_HERE and key in copy:
                copy[key] = cut(copy[key], sub)
        return copy

    return cut(body, trie) if trie else body


def _shrunk(body: Any, fails: Callable[[Any], bool], shortest: int) -> tuple[Any, dict[Path, int]]:
    """A small body that fails for the same reason as `body`, and the index offset of each list that was
    cut to a window (keyed by the list's path in the small body).

    Lists are shrunk outermost first, so each level works on what the levels above left. Within a level,
    long lists are cut to their first items in groups, halving a group whose cut makes the body pass
    (delta debugging): thousands of lists cost a few dozen checks. A list whose tail holds the failure is
    then cut to the shortest failing prefix, or to a window ending at the failing item."""
    small = body
    offsets: dict[Path, int] = {}
    decided: set[Path] = set()
    checks = _MAX_CHECKS
    while checks > 0:
        level = _outermost_long_lists(small, decided)
        if not level:
            break
        decided.update(level)
        cut: set[Path] = set()
        needed: list[Path] = []
        pending = [level]
        while pending:
            group = pending.pop()
            checks -= 1
            if checks >= 0 and fails(_cut(small, cut.union(group))):
                cut.update(group)
            elif len(group) > 1 and checks >= 0:
                middle = len(group) // 2
                pending += [group[middle:], group[:middle]]
            else:
                needed.extend(group)
        small = _cut(small, cut)
        for path in needed:
            items = _at(small, path)
            end = _shortest_failing(small, path, items, fails, shortest)
            kept = items[:end]
            if end > _LONG_PREFIX:
                window = items[end - _WINDOW:end]
                if fails(_replaced(small, path, window)):
                    kept, offsets[path] = window, end - _WINDOW
            small = _replaced(small, path, kept)
    return small, offsets


def _unshifted(path: Sequence[Any], offsets: Mapping[Path, int]) -> list[Any]:
    """A path in the shrunk body as the path in the body the client sent."""
    return [part + offsets.get(tuple(path[:i]), 0) if isinstance(part, int) else part for i, part in enumerate(path)]


def check_schema(body: Mapping[str, Any], key: SchemaKey = REQUEST) -> None:
    """jsonschema has the last word: the fast check only spares valid requests the slow one. They differ
    at a few edges, such as an integer literal beyond 64 bits that the JSON parser widened to a float."""
    valid = _fast_check(key)
    if valid(body):
        return
    small, offsets = _shrunk(body, lambda candidate: not valid(candidate), _shortest_cut(key))
    error = best_match(_explainer(key).iter_errors(small))
    if error is not None:
        raise _schema_error(error, body, offsets)
