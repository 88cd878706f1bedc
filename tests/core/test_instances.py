"""The schema-driven instance generator: every value it produces validates, against a corpus of
real-world tool and response schemas, Pydantic models, and schemas Hypothesis invents."""

from __future__ import annotations

import enum
import json
import random
from datetime import date, datetime
from pathlib import Path
from typing import Literal, Optional

import jsonschema
import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.core.generate.instances import UnsatisfiableSchema, generate

CORPUS = json.loads((Path(__file__).parents[1] / "fixtures" / "tool_schemas.json").read_text())
FORMATS = jsonschema.Draft202012Validator.FORMAT_CHECKER


def assert_valid(value: object, schema: dict) -> None:
    validator = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    validator(schema, format_checker=FORMATS).validate(value)


@pytest.mark.parametrize("entry", CORPUS, ids=[entry["name"] for entry in CORPUS])
def test_corpus_schema_instances_validate(entry: dict) -> None:
    for seed in range(12):
        assert_valid(generate(entry["schema"], random.Random(seed)), entry["schema"])


def test_corpus_is_large_and_varied() -> None:
    assert len(CORPUS) >= 30
    text = json.dumps(CORPUS)
    for keyword in ("$ref", "anyOf", "oneOf", "allOf", "pattern", "multipleOf", "uniqueItems", "prefixItems",
                    "exclusiveMinimum", "const", "\"format\": \"date-time\"", "definitions"):
        assert keyword in text


def test_same_seed_same_value_and_property_order_does_not_change_values() -> None:
    schema = CORPUS[8]["schema"]
    assert generate(schema, random.Random(3)) == generate(schema, random.Random(3))
    reordered = dict(schema, properties=dict(reversed(list(schema["properties"].items()))))
    assert generate(reordered, random.Random(3)) == generate(schema, random.Random(3))


def test_values_follow_schema_property_order() -> None:
    schema = {"type": "object", "properties": {"zeta": {"type": "integer"}, "alpha": {"type": "integer"}},
              "required": ["zeta", "alpha"]}
    assert list(generate(schema, random.Random(0))) == ["zeta", "alpha"]


def test_formats_look_real() -> None:
    schema = {"type": "object", "properties": {f: {"type": "string", "format": f} for f in
                                               ("date", "date-time", "time", "email", "uri", "uuid", "ipv4", "hostname")},
              "required": ["date", "date-time", "time", "email", "uri", "uuid", "ipv4", "hostname"]}
    value = generate(schema, random.Random(1))
    assert_valid(value, schema)
    date.fromisoformat(value["date"])
    datetime.fromisoformat(value["date-time"].replace("Z", "+00:00"))
    assert "@" in value["email"] and value["uri"].startswith("http")
    assert value["ipv4"].count(".") == 3


class Unit(str, enum.Enum):
    celsius = "celsius"
    fahrenheit = "fahrenheit"


class Address(pydantic.BaseModel):
    street: str
    city: str
    zip_code: str = pydantic.Field(pattern=r"^\d{5}$")


class Person(pydantic.BaseModel):
    name: str = pydantic.Field(title="Full name", min_length=2, max_length=40)
    age: int = pydantic.Field(ge=0, le=130, default=30)
    email: Optional[str] = None
    addresses: list[Address] = []
    unit: Unit = Unit.celsius
    role: Literal["admin", "member"]
    score: float = pydantic.Field(gt=0, lt=1)
    birthday: date


class Category(pydantic.BaseModel):
    name: str
    subcategories: list["Category"] = []
    parent: Optional["Category"] = None


@pytest.mark.parametrize("model", [Person, Address, Category])
def test_pydantic_generated_schemas(model: type[pydantic.BaseModel]) -> None:
    schema = model.model_json_schema()
    for seed in range(10):
        value = generate(schema, random.Random(seed))
        assert_valid(value, schema)
        model.model_validate(value)


@pytest.mark.parametrize("schema", [
    {"type": "string", "minLength": 5, "maxLength": 2},
    {"type": "integer", "minimum": 3, "maximum": 1},
    {"type": "integer", "exclusiveMinimum": 1, "exclusiveMaximum": 2},
    {"type": "integer", "minimum": 1, "maximum": 3, "multipleOf": 5},
    {"type": "array", "items": {"type": "boolean"}, "uniqueItems": True, "minItems": 3},
    {"type": "array", "minItems": 4, "maxItems": 2},
    {"enum": []},
    {"type": "string", "enum": [1, 2]},
    {"allOf": [{"type": "string"}, {"type": "integer"}]},
    {"type": "object", "properties": {"a": {"$ref": "#"}}, "required": ["a"]},
    {"$ref": "#/$defs/missing"},
    {"type": "object", "required": ["x"], "additionalProperties": False},
    {"type": "string", "pattern": "^a{3}$", "maxLength": 2},
    {"type": "string", "minLength": 10**9},
    {"type": "array", "minItems": 10**9},
    {"type": "object", "minProperties": 10**9},
    {"type": "array", "minItems": 300, "items": {"type": "array", "minItems": 300}},
    {"type": "string", "pattern": "a{1000000}"},
    False,
])
def test_unsatisfiable_schemas_raise_quickly(schema: object) -> None:
    with pytest.raises(UnsatisfiableSchema) as caught:
        generate(schema, random.Random(0))
    assert str(caught.value).endswith(")") and "#" in str(caught.value)


_PATTERNS = ["^[a-z]{3,8}$", r"^\d{3}-\d{4}$", "^(red|green|blue)$", r"^[A-Z][a-z]+( [A-Z][a-z]+)*$",
             r"^(\w+)@(\w+)\.com$", r"^[^\s]{4}$", "^x?y+z*$", r"^(ab){2}\1$"]


def _leaf() -> st.SearchStrategy[dict]:
    bounds = st.tuples(st.integers(-50, 50), st.integers(0, 60))
    return st.one_of(
        st.builds(lambda b: {"type": "integer", "minimum": b[0], "maximum": b[0] + b[1]}, bounds),
        st.builds(lambda b, m: {"type": "integer", "minimum": b[0], "maximum": b[0] + b[1] + m, "multipleOf": m},
                  bounds, st.integers(1, 7)),
        st.builds(lambda b, lo: {"type": "number", ("exclusiveMinimum" if lo else "minimum"): b[0],
                                 "maximum": b[0] + b[1] + 1}, bounds, st.booleans()),
        st.builds(lambda lo, extra: {"type": "string", "minLength": lo, "maxLength": lo + extra},
                  st.integers(0, 20), st.integers(0, 20)),
        st.sampled_from(_PATTERNS).map(lambda p: {"type": "string", "pattern": p}),
        st.sampled_from(["date", "date-time", "time", "email", "uri", "uuid", "ipv4", "ipv6", "hostname"]).map(
            lambda f: {"type": "string", "format": f}),
        st.lists(st.one_of(st.text(max_size=5), st.integers(), st.none()), min_size=1, max_size=4,
                 unique_by=lambda v: json.dumps(v)).map(lambda values: {"enum": values}),
        st.one_of(st.integers(), st.text(max_size=8), st.booleans()).map(lambda v: {"const": v}),
        st.just({"type": "boolean"}), st.just({"type": "null"}), st.just({"type": ["string", "null"]}),
        st.just({}),
    )


def _compound(children: st.SearchStrategy[dict]) -> st.SearchStrategy[dict]:
    names = st.text("abcdefghij_", min_size=1, max_size=6)

    def obj(props: dict, data: st.DataObject) -> dict:
        required = data.draw(st.lists(st.sampled_from(sorted(props)), unique=True)) if props else []
        closed = data.draw(st.booleans())
        return {"type": "object", "properties": props, "required": required, "additionalProperties": not closed}

    return st.one_of(
        st.builds(obj, st.dictionaries(names, children, max_size=4), st.data()),
        st.builds(lambda item, lo, extra: {"type": "array", "items": item, "minItems": lo, "maxItems": lo + extra},
                  children, st.integers(0, 2), st.integers(0, 3)),
        st.lists(children, min_size=1, max_size=3).map(lambda branches: {"anyOf": branches}),
        st.lists(children, min_size=1, max_size=2).map(lambda parts: {"allOf": [
            {"type": "object", "properties": {f"p{i}": p}, "required": [f"p{i}"]} for i, p in enumerate(parts)]}),
        children.map(lambda inner: {"type": "object", "additionalProperties": inner, "minProperties": 1}),
    )


def _referenced(schema: dict) -> dict:
    """The same schema reached through `$ref` into root-level `$defs`, as Pydantic writes models."""
    return {"$defs": {"Model": schema}, "$ref": "#/$defs/Model"}


SCHEMAS = st.recursive(_leaf(), _compound, max_leaves=12).flatmap(
    lambda schema: st.sampled_from([schema, _referenced(schema)]))


@given(schema=SCHEMAS, seed=st.integers(0, 2**32 - 1))
def test_generated_instances_validate_against_hypothesis_schemas(schema: dict, seed: int) -> None:
    assert_valid(generate(schema, random.Random(seed)), schema)
