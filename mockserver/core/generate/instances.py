"""JSON values that validate against a JSON Schema, drawn from a seeded random source.

This is what lets the mock call an application's tools with arguments its code accepts and answer
Structured Outputs requests with JSON its parser accepts. It is pure: a schema and a `random.Random`
in, a value out, the same value for the same seed.

Covered keywords: `type` (single, lists, `null`), `properties`, `required`, `additionalProperties`
(boolean or schema), `patternProperties` (for required names), `minProperties`/`maxProperties`,
`enum`, `const`, `not` (values are drawn until one falls outside it), `items` (schema, or the older
tuple form with `additionalItems`), `prefixItems`,
`minItems`/`maxItems`, `uniqueItems`, `minLength`/`maxLength`, `pattern` (see `patterns`), `format`
(date, date-time, time, email, uri, url, uuid, ipv4, ipv6, hostname and a few more, realistic values
from Faker), `minimum`/`maximum`, `exclusiveMinimum`/`exclusiveMaximum` (numeric and the draft-4
boolean form), `multipleOf`, `anyOf`/`oneOf` (a `oneOf` value is checked to match exactly one
branch), `allOf` (merged), `$ref` into `$defs`/`definitions` or any local JSON pointer, including
recursive schemas. Annotations (`title`, `description`, `default`, `examples`) are ignored, so
Pydantic's output works unchanged. `if`/`then`/`else`, `dependentRequired` and `contains` are not
generated for.

Recursion is bounded: past `SOFT_DEPTH` nested levels the generator takes the smallest way out (only
required properties, minimum array lengths, the `null` or non-recursive branch of a union). A schema
with no finite instance, or with contradictory constraints, raises `UnsatisfiableSchema` naming the
place in the schema, never loops. So does a schema asking for more than the mock will build
(`MAX_VALUES` values in one instance, strings past `MAX_LENGTH`), which keeps a hostile schema cheap.
"""

from __future__ import annotations

import functools
import math
import random
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import timezone
from fractions import Fraction
from typing import Any
from urllib.parse import unquote

import jsonschema
import orjson
from faker import Faker

from mockserver.core.generate.patterns import (
    PatternError,
    compile_pattern,
    matching_string,
)

SOFT_DEPTH = 4
HARD_DEPTH = 32
MAX_VALUES = 10_000
"""Values (of any type, nested ones included) one instance may hold: a schema asking for more is refused."""
MAX_LENGTH = 100_000
_OPTIONAL_PROPERTY_ODDS = 0.6
_NULL_ODDS = 0.25
_DEFAULT_SPAN = 100
_NOT_ATTEMPTS = 8
"""Draws tried for a schema with `not` before it counts as unsatisfiable."""
_MERGE_AS_ALL_OF = ("$ref", "anyOf", "oneOf")
_OBJECT_KEYS = ("properties", "required", "additionalProperties", "patternProperties", "minProperties",
                "maxProperties")
_ARRAY_KEYS = ("items", "prefixItems", "minItems", "maxItems", "uniqueItems", "additionalItems")
_STRING_KEYS = ("minLength", "maxLength", "pattern", "format")
_NUMBER_KEYS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
_TYPE_ORDER = ("null", "boolean", "integer", "number", "string", "array", "object")


class UnsatisfiableSchema(ValueError):
    """No value can satisfy the schema (or the part of it at `path`)."""

    def __init__(self, message: str, path: Sequence[Any] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.path = tuple(path)

    @property
    def pointer(self) -> str:
        shown = self.path if len(self.path) <= 12 else (*self.path[:12], "...")
        return "#" + "".join(f"/{part}" for part in shown)

    def __str__(self) -> str:
        return f"{self.message} (at {self.pointer})"


_PER_THREAD = threading.local()


def _faker() -> Faker:
    """One per thread: constructing Faker costs milliseconds and re-seeding it microseconds, but a
    shared instance re-seeded by two threads at once would mix their sequences (servers in several
    threads of one process, as in tests, must still give every request its own values)."""
    fake = getattr(_PER_THREAD, "faker", None)
    if fake is None:
        fake = _PER_THREAD.faker = Faker("en_US")
    return fake


def _rfc3339_time(fake: Faker) -> str:
    return fake.time() + "Z"


_FORMATS: dict[str, Callable[[Faker], str]] = {
    "date": lambda f: f.date(),
    "date-time": lambda f: f.date_time(tzinfo=timezone.utc).isoformat().replace("+00:00", "Z"),
    "time": _rfc3339_time,
    "email": lambda f: f.email(),
    "idn-email": lambda f: f.email(),
    "uri": lambda f: f.url(),
    "url": lambda f: f.url(),
    "iri": lambda f: f.url(),
    "uri-reference": lambda f: f.uri_path(),
    "uuid": lambda f: str(uuid.UUID(int=f.random.getrandbits(128), version=4)),
    "ipv4": lambda f: f.ipv4(),
    "ipv6": lambda f: f.ipv6(),
    "hostname": lambda f: f.hostname(),
    "idn-hostname": lambda f: f.hostname(),
    "duration": lambda f: f"P{f.random.randint(1, 30)}D",
}

# Property names whose values real apps expect to look a certain way; only used for plain strings.
_NAME_HINTS: dict[str, Callable[[Faker], str]] = {
    "name": lambda f: f.name(), "first_name": lambda f: f.first_name(), "last_name": lambda f: f.last_name(),
    "city": lambda f: f.city(), "location": lambda f: f"{f.city()}, {f.country()}", "country": lambda f: f.country(),
    "address": lambda f: f.street_address(), "street": lambda f: f.street_address(), "company": lambda f: f.company(),
    "email": lambda f: f.email(), "phone": lambda f: f.phone_number(), "url": lambda f: f.url(),
    "title": lambda f: f.sentence(nb_words=4).rstrip("."), "query": lambda f: f.sentence(nb_words=5).rstrip("."),
    "description": lambda f: f.sentence(nb_words=10), "summary": lambda f: f.sentence(nb_words=12),
    "currency": lambda f: f.currency_code(), "language": lambda f: f.language_name(),
    "username": lambda f: f.user_name(), "color": lambda f: f.color_name(), "sku": lambda f: f.bothify("??-####").upper(),
}


def canonical(value: Any) -> bytes:
    """Equality in the JSON Schema sense (1 == 1.0, key order irrelevant), for `uniqueItems`/`enum`."""
    def normal(v: Any) -> Any:
        if isinstance(v, float) and v.is_integer():
            return int(v)
        if isinstance(v, list):
            return [normal(x) for x in v]
        if isinstance(v, dict):
            return {k: normal(x) for k, x in v.items()}
        return v
    return orjson.dumps(normal(value), option=orjson.OPT_SORT_KEYS)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _type_allows(types: Sequence[str] | None, value: Any) -> bool:
    if types is None:
        return True
    kind = _json_type(value)
    return kind in types or (kind == "integer" and "number" in types)


def _types_of(schema: Mapping[str, Any]) -> list[str] | None:
    declared = schema.get("type")
    if declared is None:
        return None
    return [declared] if isinstance(declared, str) else list(declared)


def _intersect_types(a: list[str] | None, b: list[str] | None) -> list[str] | None:
    if a is None or b is None:
        return b if a is None else a
    out = [t for t in a if t in b or (t == "integer" and "number" in b)]
    out += [t for t in b if t == "integer" and "number" in a and t not in out]
    return out


def _merge(base: dict[str, Any], extra: Any, path: Sequence[Any]) -> dict[str, Any]:
    """`allOf` semantics for the keywords the generator reads: constraints tighten, never loosen."""
    if extra is True:
        return base
    if extra is False:
        raise UnsatisfiableSchema("the schema 'false' accepts nothing", path)
    if not isinstance(extra, Mapping):
        raise UnsatisfiableSchema("a schema must be an object or a boolean", path)
    merged = dict(base)
    for key, value in extra.items():
        if key not in merged:
            merged[key] = value
            continue
        mine = merged[key]
        if key in _MERGE_AS_ALL_OF:
            merged["allOf"] = [*merged.get("allOf", ()), {key: value}]
        elif key == "allOf":
            merged["allOf"] = [*mine, *value]
        elif key == "type":
            types = _intersect_types(_types_of(merged), _types_of(extra))
            if not types:
                raise UnsatisfiableSchema(f"allOf requires types {mine!r} and {value!r} at once", path)
            merged["type"] = types
        elif key == "properties":
            props = dict(mine)
            for name, sub in value.items():
                props[name] = {"allOf": [props[name], sub]} if name in props else sub
            merged["properties"] = props
        elif key == "required":
            merged["required"] = list(dict.fromkeys([*mine, *value]))
        elif key == "enum":
            theirs = {canonical(v) for v in value}
            kept = [v for v in mine if canonical(v) in theirs]
            if not kept:
                raise UnsatisfiableSchema("allOf enums have no value in common", path)
            merged["enum"] = kept
        elif key == "const":
            if canonical(mine) != canonical(value):
                raise UnsatisfiableSchema(f"allOf requires const {mine!r} and {value!r} at once", path)
        elif key in ("minimum", "minLength", "minItems", "minProperties"):
            merged[key] = max(mine, value)
        elif key in ("maximum", "maxLength", "maxItems", "maxProperties"):
            merged[key] = min(mine, value)
        elif key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(mine, bool):
            merged[key] = max(mine, value) if key == "exclusiveMinimum" else min(mine, value)
        elif key in ("additionalProperties", "items"):
            if mine is False or value is False:
                merged[key] = False
            elif mine is not True and value is not True:
                merged[key] = {"allOf": [mine, value]}
            else:
                merged[key] = value if mine is True else mine
        elif key == "uniqueItems":
            merged[key] = bool(mine or value)
        elif key == "multipleOf":
            a, b = Fraction(str(mine)), Fraction(str(value))
            lcm = Fraction(math.lcm(a.numerator, b.numerator), math.gcd(a.denominator, b.denominator))
            merged[key] = int(lcm) if lcm.denominator == 1 else float(lcm)
    return merged


class _Generator:
    def __init__(self, root: Any, rng: random.Random, soft_depth: int) -> None:
        self.root = root
        self.rng = rng
        self.soft_depth = soft_depth
        self.values = 0

    @functools.cached_property
    def validator(self) -> jsonschema.Draft202012Validator:
        return jsonschema.Draft202012Validator(self.root if isinstance(self.root, Mapping) else {})

    def faker(self) -> Faker:
        fake = _faker()
        fake.seed_instance(self.rng.getrandbits(64))
        return fake

    def resolve(self, ref: str, path: Sequence[Any]) -> Any:
        if not ref.startswith("#"):
            raise UnsatisfiableSchema(f"only local references are supported, got $ref {ref!r}", path)
        node = self.root
        for raw in [p for p in ref[1:].split("/") if p]:
            part = unquote(raw).replace("~1", "/").replace("~0", "~")
            try:
                node = node[int(part)] if isinstance(node, list) else node[part]
            except (KeyError, IndexError, ValueError, TypeError):
                raise UnsatisfiableSchema(f"$ref {ref!r} does not resolve", path) from None
        return node

    def flatten(self, schema: Mapping[str, Any], path: Sequence[Any]) -> dict[str, Any]:
        """Resolve `$ref` and `allOf` into one plain schema (unions are left for `value`)."""
        flat = dict(schema)
        for _ in range(HARD_DEPTH):
            if "$ref" in flat:
                target = self.resolve(flat.pop("$ref"), path)
                if target is False:
                    raise UnsatisfiableSchema("the schema 'false' accepts nothing", path)
                flat = _merge(dict(target) if isinstance(target, Mapping) else {}, flat, path)
            elif "allOf" in flat:
                parts = flat.pop("allOf")
                for part in parts:
                    flat = _merge(flat, part, path)
            else:
                return flat
        raise UnsatisfiableSchema("$ref chain does not reach a schema", path)

    def value(self, schema: Any, path: tuple[Any, ...], depth: int, hint: str | None = None) -> Any:
        if depth > HARD_DEPTH:
            raise UnsatisfiableSchema("the schema's recursion has no finite instance", path)
        self.values += 1
        if self.values > MAX_VALUES:
            raise UnsatisfiableSchema(f"an instance would hold more than {MAX_VALUES} values", path)
        if schema is True:
            schema = {}
        if schema is False:
            raise UnsatisfiableSchema("the schema 'false' accepts nothing", path)
        if not isinstance(schema, Mapping):
            raise UnsatisfiableSchema("a schema must be an object or a boolean", path)
        flat = self.flatten(schema, path)
        negated = flat.pop("not", None)
        for _ in range(_NOT_ATTEMPTS if negated is not None else 1):
            candidate = self.positive(flat, path, depth, hint)
            if negated is None or not self.validator.evolve(schema=negated).is_valid(candidate):
                return candidate
        raise UnsatisfiableSchema("no value was found outside 'not'", (*path, "not"))

    def positive(self, flat: dict[str, Any], path: tuple[Any, ...], depth: int, hint: str | None) -> Any:
        for union in ("anyOf", "oneOf"):
            if union in flat:
                return self.union(dict(flat), union, path, depth, hint)
        return self.plain(dict(flat), path, depth, hint)

    def minimal(self, depth: int) -> bool:
        return depth >= self.soft_depth

    def union(self, flat: dict[str, Any], keyword: str, path: tuple[Any, ...], depth: int, hint: str | None) -> Any:
        branches = flat.pop(keyword)
        if not branches:
            raise UnsatisfiableSchema(f"{keyword} has no branches", path)
        order = list(range(len(branches)))
        if self.minimal(depth):
            order.sort(key=lambda i: self.branch_cost(branches[i]))
        else:
            self.rng.shuffle(order)
        failure: UnsatisfiableSchema | None = None
        rounds = 3 if keyword == "oneOf" else 1
        for index in order * rounds:
            where = (*path, keyword, index)
            try:
                candidate = self.value(_merge(flat, branches[index], where), where, depth, hint)
            except UnsatisfiableSchema as exc:
                failure = exc
                continue
            if keyword == "oneOf" and any(
                    i != index and self.validator.evolve(schema=b).is_valid(candidate)
                    for i, b in enumerate(branches) if isinstance(b, (Mapping, bool))):
                failure = UnsatisfiableSchema("no value matches exactly one oneOf branch", path)
                continue
            return candidate
        assert failure is not None
        raise failure

    def branch_cost(self, branch: Any) -> int:
        """How far a union branch is from ending the recursion: null first, references last."""
        if not isinstance(branch, Mapping):
            return 1
        if "$ref" in branch or "anyOf" in branch or "oneOf" in branch or "allOf" in branch:
            return 4
        types = _types_of(branch) or []
        if "null" in types:
            return 0
        if "object" in types or "array" in types:
            return 3
        return 1

    def pick_type(self, flat: Mapping[str, Any], path: tuple[Any, ...], depth: int) -> str | None:
        types = _types_of(flat)
        if types is None:
            if any(k in flat for k in _OBJECT_KEYS):
                return "object"
            if any(k in flat for k in _ARRAY_KEYS):
                return "array"
            if any(k in flat for k in _STRING_KEYS):
                return "string"
            if any(k in flat for k in _NUMBER_KEYS):
                return "number"
            return None
        if not types:
            raise UnsatisfiableSchema("'type' lists no types", path)
        unknown = [t for t in types if t not in _TYPE_ORDER]
        if unknown:
            raise UnsatisfiableSchema(f"unknown type {unknown[0]!r}", (*path, "type"))
        if self.minimal(depth):
            return min(types, key=_TYPE_ORDER.index)
        others = [t for t in types if t != "null"]
        if not others or ("null" in types and self.rng.random() < _NULL_ODDS):
            return "null"
        return others[self.rng.randrange(len(others))]

    def plain(self, flat: dict[str, Any], path: tuple[Any, ...], depth: int, hint: str | None) -> Any:
        types = _types_of(flat)
        if "const" in flat:
            if not _type_allows(types, flat["const"]):
                raise UnsatisfiableSchema(f"const {flat['const']!r} is not of type {flat.get('type')!r}", path)
            return flat["const"]
        if "enum" in flat:
            options = [v for v in flat["enum"] if _type_allows(types, v)]
            if not options:
                raise UnsatisfiableSchema("no enum value has an allowed type", (*path, "enum"))
            return options[self.rng.randrange(len(options))]
        kind = self.pick_type(flat, path, depth)
        if kind is None:
            return self.words(1, 3)
        if kind == "null":
            return None
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind in ("integer", "number"):
            return self.number(flat, path, kind == "integer")
        if kind == "string":
            return self.string(flat, path, hint)
        if kind == "array":
            return self.array(flat, path, depth)
        return self.object(flat, path, depth)

    def words(self, low: int, high: int) -> str:
        return self.faker().sentence(nb_words=self.rng.randint(low, high)).rstrip(".")

    def string(self, flat: Mapping[str, Any], path: tuple[Any, ...], hint: str | None) -> str:
        low = flat.get("minLength", 0)
        high = flat.get("maxLength")
        if high is not None and low > high:
            raise UnsatisfiableSchema(f"minLength {low} exceeds maxLength {high}", path)
        if low > MAX_LENGTH:
            raise UnsatisfiableSchema(f"minLength {low} exceeds the {MAX_LENGTH} characters the mock generates", path)
        if "pattern" in flat:
            try:
                return matching_string(flat["pattern"], self.rng, low, high)
            except PatternError as exc:
                raise UnsatisfiableSchema(str(exc), (*path, "pattern")) from None
        make = _FORMATS.get(flat.get("format") or "")
        if make is None and hint is not None:
            make = _NAME_HINTS.get(hint.lower())
        text = make(self.faker()) if make is not None else self.words(1, 6)
        if make is not None and flat.get("format") in _FORMATS and low <= len(text) <= (high or len(text)):
            return text
        if len(text) < low:
            text += (" " + self.words(6, 12)) * (1 + (low - len(text)) // 40)
        while len(text) < low:
            text += " " + self.words(2, 6)
        if high is not None and len(text) > high:
            text = text[:high]
        return text

    def number(self, flat: Mapping[str, Any], path: tuple[Any, ...], integer: bool) -> int | float:
        low, low_open = flat.get("minimum"), False
        high, high_open = flat.get("maximum"), False
        ex_low, ex_high = flat.get("exclusiveMinimum"), flat.get("exclusiveMaximum")
        if isinstance(ex_low, bool):
            low_open = ex_low
        elif ex_low is not None and (low is None or ex_low >= low):
            low, low_open = ex_low, True
        if isinstance(ex_high, bool):
            high_open = ex_high
        elif ex_high is not None and (high is None or ex_high <= high):
            high, high_open = ex_high, True
        if low is None and high is None:
            low, high = 0, _DEFAULT_SPAN
        elif low is None:
            low = high - _DEFAULT_SPAN
        elif high is None:
            high = low + _DEFAULT_SPAN
        if low > high or (low == high and (low_open or high_open)):
            raise UnsatisfiableSchema(f"no number lies between {low} and {high}", path)
        step = flat.get("multipleOf")
        if step is not None:
            return self.multiple(Fraction(str(step)), step, low, high, low_open, high_open, integer, path)
        if integer:
            first = math.floor(low) + 1 if low_open and float(low).is_integer() else math.ceil(low)
            last = math.ceil(high) - 1 if high_open and float(high).is_integer() else math.floor(high)
            if first > last:
                raise UnsatisfiableSchema(f"no integer lies between {low} and {high}", path)
            return self.rng.randint(first, last)
        value = round(self.rng.uniform(low, high), 2)
        if value < low or value > high or (low_open and value == low) or (high_open and value == high):
            value = (low + high) / 2
        return value

    def multiple(self, step: Fraction, raw: Any, low: float, high: float, low_open: bool, high_open: bool,
                 integer: bool, path: tuple[Any, ...]) -> int | float:
        if step <= 0:
            raise UnsatisfiableSchema("multipleOf must be positive", (*path, "multipleOf"))
        unit = Fraction(step.numerator) if integer else step
        first = math.ceil(Fraction(str(low)) / unit)
        last = math.floor(Fraction(str(high)) / unit)
        candidates = list(range(first, last + 1)) if last - first < 64 else [
            first + self.rng.randrange(last - first + 1) for _ in range(48)]
        self.rng.shuffle(candidates)
        for k in candidates:
            exact = unit * k
            value: int | float = int(exact) if exact.denominator == 1 else float(exact)
            if (low_open and value == low) or (high_open and value == high) or not low <= value <= high:
                continue
            if isinstance(raw, float) and int(value / raw) != value / raw:
                continue
            return value
        raise UnsatisfiableSchema(f"no multiple of {raw} lies between {low} and {high}", path)

    def array(self, flat: Mapping[str, Any], path: tuple[Any, ...], depth: int) -> list[Any]:
        prefix = list(flat.get("prefixItems") or ())
        items = flat.get("items", True)
        if isinstance(items, list):
            prefix, items = items, flat.get("additionalItems", True)
        low = flat.get("minItems", 0)
        high = flat.get("maxItems")
        if items is False:
            high = len(prefix) if high is None else min(high, len(prefix))
        if high is not None and low > high:
            raise UnsatisfiableSchema(f"minItems {low} exceeds the {high} items allowed", path)
        if low > MAX_VALUES:
            raise UnsatisfiableSchema(f"minItems {low} exceeds the {MAX_VALUES} values the mock builds", path)
        if self.minimal(depth):
            count = low
        else:
            top = low + 3 if high is None else min(high, low + 3)
            count = self.rng.randint(min(max(low, 1), top), top)
        unique = flat.get("uniqueItems", False)
        result: list[Any] = []
        seen: set[bytes] = set()
        misses = 0
        while len(result) < count:
            index = len(result)
            sub = prefix[index] if index < len(prefix) else items
            value = self.value(sub, (*path, "items", index), depth + 1)
            if unique:
                key = canonical(value)
                if key in seen:
                    misses += 1
                    if misses > 16 + 4 * count:
                        if len(result) >= low:
                            break
                        raise UnsatisfiableSchema(f"uniqueItems: could not find {low} distinct items", path)
                    continue
                seen.add(key)
            result.append(value)
        return result

    def object(self, flat: Mapping[str, Any], path: tuple[Any, ...], depth: int) -> dict[str, Any]:
        props: Mapping[str, Any] = flat.get("properties") or {}
        required = list(dict.fromkeys(flat.get("required") or ()))
        additional = flat.get("additionalProperties", True)
        patterned: Mapping[str, Any] = flat.get("patternProperties") or {}
        high = flat.get("maxProperties")
        if high is not None and len(required) > high:
            raise UnsatisfiableSchema(f"{len(required)} required properties exceed maxProperties {high}", path)
        chosen = set(required)
        if not self.minimal(depth):
            # Sorted, so the draws do not depend on the order the client wrote the properties in.
            for name in sorted(props):
                if name not in chosen and self.rng.random() < _OPTIONAL_PROPERTY_ODDS:
                    if high is None or len(chosen) < high:
                        chosen.add(name)
        values: dict[str, Any] = {}
        for name in sorted(chosen):
            values[name] = self.value(self.property_schema(name, props, patterned, additional, path),
                                      (*path, "properties", name), depth + 1, hint=name)
        wanted = max(0, flat.get("minProperties", 0) - len(values))
        if not props and not required and isinstance(additional, Mapping) and not self.minimal(depth):
            wanted = max(wanted, self.rng.randint(1, 2))
        if high is not None:
            wanted = min(wanted, high - len(values))
        extras: dict[str, Any] = {}
        if wanted:
            extras = self.extra_properties(wanted, flat, props, values, path, depth)
        ordered = {name: values[name] for name in props if name in values}
        ordered.update({name: values[name] for name in required if name not in ordered})
        ordered.update(extras)
        return ordered

    def property_schema(self, name: str, props: Mapping[str, Any], patterned: Mapping[str, Any], additional: Any,
                        path: tuple[Any, ...]) -> Any:
        if name in props:
            return props[name]
        for regex, sub in sorted(patterned.items()):
            try:
                if compile_pattern(regex)[1].search(name):
                    return sub
            except PatternError:
                continue
        if additional is False:
            raise UnsatisfiableSchema(f"'{name}' is required, but it is not in 'properties' and "
                                      "additionalProperties is false", (*path, "required"))
        return additional

    def extra_properties(self, wanted: int, flat: Mapping[str, Any], props: Mapping[str, Any],
                         values: Mapping[str, Any], path: tuple[Any, ...], depth: int) -> dict[str, Any]:
        additional = flat.get("additionalProperties", True)
        candidates = [name for name in sorted(props) if name not in values]
        extras: dict[str, Any] = {}
        for name in candidates[:wanted]:
            extras[name] = self.value(props[name], (*path, "properties", name), depth + 1, hint=name)
        if len(extras) < wanted and additional is False:
            raise UnsatisfiableSchema("minProperties asks for more properties than the schema allows", path)
        if wanted > MAX_VALUES:
            raise UnsatisfiableSchema(f"minProperties asks for more than the {MAX_VALUES} values the mock builds", path)
        while len(extras) < wanted:
            base = key = self.faker().word()
            suffix = len(extras)
            while key in values or key in extras or key in props:
                key, suffix = f"{base}_{suffix}", suffix + 1
            extras[key] = self.value(additional, (*path, "additionalProperties"), depth + 1, hint=key)
        return extras


def generate(schema: Any, rng: random.Random, soft_depth: int = SOFT_DEPTH) -> Any:
    """A value that validates against `schema`, or `UnsatisfiableSchema` saying why there is none."""
    return _Generator(schema, rng, soft_depth).value(schema, (), 0)
