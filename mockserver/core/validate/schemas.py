"""What the real API checks in the JSON Schemas and grammars a request carries (tool parameters, custom
tool grammars, response formats) before generating anything: that they are JSON Schemas at all, the
Structured Outputs rules of `strict: true` (every object closed with `additionalProperties: false`,
every property required), and that some value satisfies them (a witness exists), so that no request
that passes validation can fail later, whoever answers it.

All of a request's schemas share one `Budget`: reading them, compiling their patterns and finding their
witnesses spend from it, and a request that asks for more work gets a 400 naming the schema and the
place in it where the budget ran out, so no schema can hold the server. The meta-schema check runs in
jsonschema-rs (a large schema costs milliseconds there, seconds in jsonschema), which explains only the
schemas it refuses."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema
import jsonschema_rs
import orjson

from mockserver.contract.errors import ApiError
from mockserver.contract.request import Tool, legacy_functions, offered_tools
from mockserver.core.generate import witness
from mockserver.core.generate.budget import Budget, BudgetExceeded
from mockserver.core.generate.instances import UnsatisfiableSchema
from mockserver.core.generate.patterns import PatternError, compile_pattern

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


def strict_problem(schema: Any, context: Where = (), budget: Budget | None = None) -> str | None:
    """The first strict-mode violation, worded as the real API words it, or None."""
    budget = budget or Budget()
    budget.spend(1, context)
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
        problem = strict_problem(child, child_context, budget)
        if problem is not None:
            return problem
    return None


_EXPLAINED_BYTES = 64 * 1024
"""Refused schemas up to this size are explained by jsonschema (the real API's wording); larger ones by
jsonschema-rs, whose explanation of a big schema costs no more than its check."""
_SHOWN_CHARS = 300
_WALK_STEPS = 3
"""What reading one schema node costs (about as long as three steps of the generator's other work)."""
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_VALUES = ("not", "if", "then", "else", "items", "additionalItems", "additionalProperties", "contains",
                  "propertyNames", "unevaluatedItems", "unevaluatedProperties")


@functools.lru_cache(maxsize=256)
def _explained(canonical: bytes) -> str | None:
    schema = orjson.loads(canonical)
    declared = schema.get("$schema") if isinstance(schema, dict) else None
    # jsonschema looks a `$schema` up as a URI before checking its type; the meta-schema reports the type.
    validator = (jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
                 if isinstance(declared, str) else jsonschema.Draft202012Validator)
    try:
        validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        location = "".join(f"/{part}" for part in exc.path)
        return f"{exc.message} (at #{location})"
    return None


def _rs_explained(schema: Any) -> str:
    try:
        jsonschema_rs.meta.validate(schema)
    except jsonschema_rs.ValidationError as exc:
        message = exc.message.split("\n", 1)[0]
        shown = message if len(message) <= _SHOWN_CHARS else message[:_SHOWN_CHARS] + "..."
        return f"{shown} (at #{''.join(f'/{part}' for part in exc.instance_path)})"
    return "it is not a valid JSON Schema"


def _subschemas(node: dict[str, Any], where: Where) -> Iterator[tuple[Where, Any]]:
    """A schema's subschemas (JSON from the wire: plain dicts and lists)."""
    for key in _SCHEMA_MAPS:
        children = node.get(key)
        if type(children) is dict:
            for name, sub in children.items():
                yield (*where, key, name), sub
    for key in _SCHEMA_LISTS:
        children = node.get(key)
        if type(children) is list:
            for index, sub in enumerate(children):
                yield (*where, key, str(index)), sub
    for key in _SCHEMA_VALUES:
        sub = node.get(key)
        if type(sub) is dict:
            yield (*where, key), sub
        elif type(sub) is list:
            for index, item in enumerate(sub):
                yield (*where, key, str(index)), item


def _pattern_problem_in(schema: Any, budget: Budget) -> str | None:
    """The first `pattern` (or `patternProperties` name) that is not a regular expression, as the
    meta-schema's `format: regex` would report it. Most schemas have none, which their JSON shows."""
    if b'"pattern' not in orjson.dumps(schema):
        return None
    stack: list[tuple[Where, Any]] = [((), schema)]
    while stack:
        where, node = stack.pop()
        budget.spend(_WALK_STEPS, where)
        if type(node) is not dict:
            continue
        patterns = [(("pattern",), node["pattern"])] if isinstance(node.get("pattern"), str) else []
        patterned = node.get("patternProperties")
        patterns += [(("patternProperties", name), name) for name in (patterned if type(patterned) is dict else ())]
        for place, pattern in patterns:
            try:
                compile_pattern(pattern, budget)
            except PatternError:
                location = "".join(f"/{part}" for part in (*where, *place))
                return f"{pattern!r} is not a 'regex' (at #{location})"
        stack.extend(reversed(list(_subschemas(node, where))))
    return None


def meta_problem(schema: Any, budget: Budget | None = None) -> str | None:
    """Why `schema` is not a JSON Schema, or None."""
    budget = budget or Budget()
    try:
        if jsonschema_rs.meta.is_valid(schema):
            return _pattern_problem_in(schema, budget)
    except (jsonschema_rs.ReferencingError, ValueError) as exc:
        return f"its meta-schema cannot be used: {exc}"
    canonical = orjson.dumps(schema, option=orjson.OPT_SORT_KEYS)
    return (_explained(canonical) if len(canonical) <= _EXPLAINED_BYTES else None) or _rs_explained(schema)


def schema_problem(schema: Any, strict: bool, budget: Budget) -> str | None:
    """Why `schema` cannot be used (not a schema, not strict enough, no value, too much work), or None."""
    try:
        problem = meta_problem(schema, budget)
        if problem is None and strict:
            problem = strict_problem(schema, budget=budget)
        if problem is None:
            problem = satisfiability_problem(schema, budget)
    except BudgetExceeded as exc:
        problem = f"{exc}."
    return problem


def _check(schema: Any, strict: bool, label: str, param: str, code: str | None, budget: Budget) -> None:
    problem = schema_problem(schema, strict, budget)
    if problem is not None:
        raise ApiError("invalid_request", f"Invalid schema for {label}: {problem}", param=param, code=code)


def satisfiability_problem(schema: Any, budget: Budget | None = None) -> str | None:
    """Why no value satisfies `schema` (naming the place in it), or None."""
    try:
        witness.instance(schema, budget)
    except (UnsatisfiableSchema, BudgetExceeded) as exc:
        return f"{exc}."
    return None


def pattern_problem(pattern: str, budget: Budget | None = None) -> str | None:
    """Why no string matching `pattern` can be made (invalid, needs lookarounds, or more work than the
    budget allows), or None."""
    try:
        witness.string(pattern, budget)
    except (PatternError, BudgetExceeded) as exc:
        return f"{exc}."
    return None


def _check_grammar(tool: Tool, budget: Budget) -> None:
    """A regex grammar must admit a string; other syntaxes (lark) are accepted as written."""
    fmt = tool.definition.get("format") or {}
    grammar = fmt.get("grammar") or {}
    if fmt.get("type") == "grammar" and grammar.get("syntax") == "regex":
        problem = pattern_problem(grammar.get("definition", ""), budget)
        if problem is not None:
            raise ApiError("invalid_request", f"Invalid grammar for custom tool '{tool.name}': {problem}",
                           param=f"tools.[{tool.position}].custom.format.grammar.definition")


def witnesses_known(body: Any) -> bool:
    """Whether every schema and regex grammar `body` carries already has its witness, so that checking
    them is quick; `body` is JSON as received, not yet validated, so anything odd counts as unknown."""
    try:
        for tool in (*offered_tools(body), *legacy_functions(body)):
            if tool.kind == "custom":
                grammar = (tool.definition.get("format") or {}).get("grammar") or {}
                if isinstance(grammar.get("definition"), str) and not witness.known_string(grammar["definition"]):
                    return False
            elif "parameters" in tool.definition and not witness.known(tool.definition["parameters"]):
                return False
        response_format = body.get("response_format") or {}
        if response_format.get("type") == "json_schema":
            return witness.known((response_format.get("json_schema") or {}).get("schema", {}))
    except (TypeError, AttributeError):
        return False
    return True


def check_request_schemas(body: Mapping[str, Any]) -> None:
    budget = Budget()
    for tool in (*offered_tools(body), *legacy_functions(body)):
        if tool.kind == "custom":
            _check_grammar(tool, budget)
        elif "parameters" in tool.definition:
            _check(tool.definition["parameters"], tool.definition.get("strict") is True and not tool.legacy,
                   f"function '{tool.name}'", f"{tool.param}.parameters", "invalid_function_parameters", budget)
    response_format = body.get("response_format") or {}
    if response_format.get("type") == "json_schema":
        spec = response_format["json_schema"]
        schema = spec.get("schema", {})
        label = f"response_format '{spec.get('name')}'"
        if spec.get("strict") is True and schema.get("type") != "object":
            raise ApiError("invalid_request", f"Invalid schema for {label}: schema must be a JSON Schema of "
                           f"'type: \"object\"', got 'type: \"{schema.get('type')}\"'.", param="response_format")
        _check(schema, spec.get("strict") is True, label, "response_format", None, budget)
