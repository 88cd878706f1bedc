"""What the real API checks in the JSON Schemas and grammars a request carries (tool parameters, custom
tool grammars, response formats) before generating anything: that they are JSON Schemas at all, the
Structured Outputs rules of `strict: true` (every object closed with `additionalProperties: false`,
every property required), and that some value satisfies them (a witness exists), so that no request
that passes validation can fail later, whoever answers it."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema
import orjson

from mockserver.contract.errors import ApiError
from mockserver.contract.request import Tool, legacy_functions, offered_tools
from mockserver.core.generate import witness
from mockserver.core.generate.instances import UnsatisfiableSchema
from mockserver.core.generate.patterns import PatternError

Where = tuple[str, ...]
"""A place in a schema, as the real API writes it in messages: `("properties", "address")`."""


def _is_object(node: Mapping[str, Any]) -> bool:
    declared = node.get("type")
    return declared == "object" or (isinstance(declared, list) and "object" in declared) or "properties" in node


def _children(node: Mapping[str, Any], context: Where) -> Iterator[tuple[Where, Any]]:
    for name, sub in (node.get("properties") or {}).items():
        yield (*context, "properties", name), sub
    for key in ("$defs", "definitions"):
        for name, sub in (node.get(key) or {}).items():
            yield (*context, key, name), sub
    items = node.get("items")
    if isinstance(items, Mapping):
        yield (*context, "items"), items
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for index, sub in enumerate(node.get(key) or ()):
            yield (*context, key, str(index)), sub


def strict_problem(schema: Any, context: Where = ()) -> str | None:
    """The first strict-mode violation, worded as the real API words it, or None."""
    if not isinstance(schema, Mapping):
        return None
    if _is_object(schema):
        where = f"In context={context!r}, "
        if schema.get("additionalProperties") is not False:
            return where + "'additionalProperties' is required to be supplied and to be false."
        properties = list(schema.get("properties") or {})
        required = schema.get("required")
        missing = [name for name in properties if not isinstance(required, list) or name not in required]
        if missing:
            return (where + "'required' is required to be supplied and to be an array including every key in "
                    f"properties. Missing '{missing[0]}'.")
    for child_context, child in _children(schema, context):
        problem = strict_problem(child, child_context)
        if problem is not None:
            return problem
    return None


@functools.lru_cache(maxsize=1024)
def _meta_problem(canonical: bytes) -> str | None:
    schema = orjson.loads(canonical)
    try:
        jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator).check_schema(schema)
    except jsonschema.SchemaError as exc:
        location = "".join(f"/{part}" for part in exc.path)
        return f"{exc.message} (at #{location})"
    return None


def meta_problem(schema: Any) -> str | None:
    """Why `schema` is not a JSON Schema, or None. Cached: clients send the same tools on every turn."""
    return _meta_problem(orjson.dumps(schema, option=orjson.OPT_SORT_KEYS))


def _check(schema: Any, strict: bool, label: str, param: str, code: str | None) -> None:
    problem = meta_problem(schema)
    if problem is None and strict:
        problem = strict_problem(schema)
    if problem is None:
        problem = satisfiability_problem(schema)
    if problem is not None:
        raise ApiError("invalid_request", f"Invalid schema for {label}: {problem}", param=param, code=code)


def satisfiability_problem(schema: Any) -> str | None:
    """Why no value satisfies `schema` (naming the place in it), or None."""
    try:
        witness.instance(schema)
    except UnsatisfiableSchema as exc:
        return f"{exc}."
    return None


def pattern_problem(pattern: str) -> str | None:
    """Why no string matching `pattern` can be made (invalid, or needs lookarounds), or None."""
    try:
        witness.string(pattern)
    except PatternError as exc:
        return f"{exc}."
    return None


def _check_grammar(tool: Tool) -> None:
    """A regex grammar must admit a string; other syntaxes (lark) are accepted as written."""
    fmt = tool.definition.get("format") or {}
    grammar = fmt.get("grammar") or {}
    if fmt.get("type") == "grammar" and grammar.get("syntax") == "regex":
        problem = pattern_problem(grammar.get("definition", ""))
        if problem is not None:
            raise ApiError("invalid_request", f"Invalid grammar for custom tool '{tool.name}': {problem}",
                           param=f"tools.[{tool.position}].custom.format.grammar.definition")


def check_request_schemas(body: Mapping[str, Any]) -> None:
    for tool in (*offered_tools(body), *legacy_functions(body)):
        if tool.kind == "custom":
            _check_grammar(tool)
        elif "parameters" in tool.definition:
            _check(tool.definition["parameters"], tool.definition.get("strict") is True and not tool.legacy,
                   f"function '{tool.name}'", f"{tool.param}.parameters", "invalid_function_parameters")
    response_format = body.get("response_format") or {}
    if response_format.get("type") == "json_schema":
        spec = response_format["json_schema"]
        schema = spec.get("schema", {})
        label = f"response_format '{spec.get('name')}'"
        if spec.get("strict") is True and schema.get("type") != "object":
            raise ApiError("invalid_request", f"Invalid schema for {label}: schema must be a JSON Schema of "
                           f"'type: \"object\"', got 'type: \"{schema.get('type')}\"'.", param="response_format")
        _check(schema, spec.get("strict") is True, label, "response_format", None)
