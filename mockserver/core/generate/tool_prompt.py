"""Tool and response-format definitions as the model reads them, so `prompt_tokens` can count them.

Functions are rendered the way OpenAI's chat models are shown them: TypeScript type declarations inside
`namespace functions { ... }`, a `// ...` comment line for each description (the function's, then its
parameters'), `name?:` for an optional property, enums and `const` as unions of literals, and a default as
a trailing `// default: ...` comment. A `json_schema` response format is read as its compact JSON.

What the recordings bill beyond those texts was fitted to them (gpt-4o-2024-08-06, every recorded request
reproduced exactly; `tests/test_usage_recordings.py`): eight tokens per request that offers tools, three per
`title` keyword in a function's parameters, one per tool after the first, and one per `description` keyword
in a response schema. Shapes no recording covers (nested objects, arrays, `anyOf`, custom tools) follow the
same rendering and were not checked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import orjson

TOOLS_FRAMING = 8
TITLE_TOKENS = 3
EXTRA_TOOL_TOKENS = 1
SCHEMA_DESCRIPTION_TOKENS = 1

_PRIMITIVES = {"string": "string", "number": "number", "integer": "number", "boolean": "boolean", "null": "null"}
_MAX_DEPTH = 8

Measure = Callable[[str], int]


def _literal(value: Any) -> str:
    return orjson.dumps(value).decode()


def _resolve(reference: str, root: Mapping[str, Any]) -> Any:
    node: Any = root
    for part in reference.lstrip("#/").split("/"):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _union(members: Sequence[str]) -> str:
    return " | ".join(members)


def _type(schema: Any, root: Mapping[str, Any], depth: int) -> str:
    if not isinstance(schema, Mapping) or depth > _MAX_DEPTH:
        return "any"
    if isinstance(schema.get("$ref"), str):
        return _type(_resolve(schema["$ref"], root), root, depth + 1)
    if "const" in schema:
        return _literal(schema["const"])
    if isinstance(schema.get("enum"), list):
        return _union([_literal(value) for value in schema["enum"]])
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list):
            return _union([_type(branch, root, depth + 1) for branch in schema[key]])
    kind = schema.get("type")
    if isinstance(kind, list):
        return _union([_type({**schema, "type": member}, root, depth + 1) for member in kind])
    if kind == "array":
        inner = _type(schema.get("items"), root, depth + 1)
        return f"({inner})[]" if " | " in inner else f"{inner}[]"
    if kind == "object" or "properties" in schema:
        if not schema.get("properties"):
            return "object"
        return "{\n" + _properties(schema, root, depth + 1) + "\n}"
    return _PRIMITIVES.get(kind, "any") if isinstance(kind, str) else "any"


def _properties(schema: Mapping[str, Any], root: Mapping[str, Any], depth: int) -> str:
    required = schema.get("required") or ()
    lines = []
    for name, prop in (schema.get("properties") or {}).items():
        if isinstance(prop, Mapping) and isinstance(prop.get("description"), str):
            lines.append(f"// {prop['description']}")
        line = f"{name}{'' if name in required else '?'}: {_type(prop, root, depth)},"
        if isinstance(prop, Mapping) and "default" in prop:
            line += f" // default: {_literal(prop['default'])}"
        lines.append(line)
    return "\n".join(lines)


def render_tools(functions: Sequence[Mapping[str, Any]], custom: Sequence[Mapping[str, Any]]) -> str:
    """The `namespace functions` block the model reads: functions first, then custom (free-text) tools."""
    lines = ["namespace functions {", ""]
    for function in functions:
        parameters = function.get("parameters") or {}
        for text in (function.get("description"), parameters.get("description")):
            if isinstance(text, str) and text:
                lines.append(f"// {text}")
        if parameters.get("properties"):
            lines += [f"type {function.get('name', '')} = (_: {{", _properties(parameters, parameters, 0), "}) => any;"]
        else:
            lines.append(f"type {function.get('name', '')} = () => any;")
        lines.append("")
    for tool in custom:
        if isinstance(tool.get("description"), str) and tool["description"]:
            lines.append(f"// {tool['description']}")
        lines += [f"type {tool.get('name', '')} = (_: string) => any;", ""]
    lines.append("} // namespace functions")
    return "\n".join(lines)


def _subschemas(schema: Any) -> Iterator[Mapping[str, Any]]:
    """Every schema inside `schema`, itself included (property names are not keywords)."""
    if not isinstance(schema, Mapping):
        return
    yield schema
    for key in ("properties", "$defs", "definitions", "patternProperties"):
        for child in (schema.get(key) or {}).values() if isinstance(schema.get(key), Mapping) else ():
            yield from _subschemas(child)
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for child in schema.get(key) or () if isinstance(schema.get(key), list) else ():
            yield from _subschemas(child)
    for key in ("items", "additionalProperties", "not"):
        yield from _subschemas(schema.get(key))


def _keywords(schema: Any, keyword: str) -> int:
    return sum(1 for node in _subschemas(schema) if isinstance(node.get(keyword), str))


def tool_definition_tokens(functions: Sequence[Mapping[str, Any]], custom: Sequence[Mapping[str, Any]],
                           measure: Measure) -> int:
    titles = sum(_keywords(function.get("parameters"), "title") for function in functions)
    extra_tools = len(functions) + len(custom) - 1
    return measure(render_tools(functions, custom)) + TOOLS_FRAMING + TITLE_TOKENS * titles + \
        EXTRA_TOOL_TOKENS * extra_tools


def response_format_tokens(json_schema: Mapping[str, Any], measure: Measure) -> int:
    schema = json_schema.get("schema", {"type": "object"})
    return measure(_literal(schema)) + SCHEMA_DESCRIPTION_TOKENS * _keywords(schema, "description")
