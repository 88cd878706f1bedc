"""Compatibility profiles as data (`fixtures/profiles.json`): the servers the mock can stand in for.

A profile names where it is served (its own route prefixes, and which of the API's routes it answers),
the body parameters it adds to the contract with their JSON Schemas, the headers it requires, the header
that carries the key, the fields it adds to replies, how its errors and streams look, and the models it
serves by default. The mock serves each profile from this table and the conformance suite sends each
profile's parameters and headers from it, so the two cannot disagree about what a profile is.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mockserver.contract.fixtures import load_json, schema

DEFAULT_PROFILE = "openai"
API_PREFIXES = ("/v1", "")
"""Where the server's own profile (`--profile`) answers: the OpenAI routes, with and without `/v1`."""


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    schema: Mapping[str, Any]
    routes: tuple[str, ...]
    content: bool
    """Whether it changes what a choice generates (part of the reply's random source), as sampling
    parameters do, rather than how the reply is cut, delivered or reported."""
    doc: str


@dataclass(frozen=True, slots=True)
class Header:
    name: str
    required: bool
    doc: str
    enum: tuple[str, ...] | None = None
    pattern: str | None = None


@dataclass(frozen=True, slots=True)
class Auth:
    header: str
    scheme: str | None
    """`Bearer` when the key follows a scheme word; None when the header holds the key alone."""

    def key(self, headers: Mapping[str, str]) -> str | None:
        """The key a request carries in this header, or None."""
        value = headers.get(self.header, "")
        if self.scheme is None:
            return value.strip() or None
        scheme, _, key = value.partition(" ")
        return key.strip() if scheme.lower() == self.scheme.lower() and key.strip() else None


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    doc: str
    prefixes: tuple[str, ...]
    """Route prefixes that always answer as this profile (`/ml/gateway/v1`), whatever `--profile` says."""
    routes: tuple[str, ...] | None
    """The API routes it answers (`/chat/completions`, `/models`, ...); None answers every one."""
    models: tuple[str, ...] | None
    """The model ids it serves when the server names none; None serves any id."""
    auth: Auth
    headers: Mapping[str, Header]
    parameters: Mapping[str, Parameter]
    reply: Mapping[str, Mapping[str, Mapping[str, Any]]]
    """Per route, the fields its replies carry beyond OpenAI's (or with other values), by level: `top`,
    `choice`, `message`, `usage`."""
    error_style: str
    """`openai` (the envelope), `vllm` (the envelope with vLLM's type names and the status as `code`), or
    `watsonx` (watsonx.ai's `{"errors": [...], "trace", "status_code"}`)."""
    error_types: Mapping[int, str]
    stream: str
    """`openai`, or `vllm` (the finish reason on the last content chunk, vLLM's chunk fields)."""
    schema_patches: Mapping[str, tuple[Mapping[str, Any], ...]]
    """Per contract schema (`chat_completion`, `error`, ...), where the profile's replies depart from it:
    `{"at": JSON pointer, "nullable": true | "optional": [names] | "replace": schema}`."""

    def serves(self, path: str) -> bool:
        """Whether it answers an API route: a listed route, or a route under one (`/models/{id}`)."""
        if self.routes is None:
            return True
        return any(path == route or path.startswith(route + "/") for route in self.routes)

    def parameters_for(self, route: str) -> dict[str, Parameter]:
        return {name: parameter for name, parameter in self.parameters.items() if route in parameter.routes}

    def reply_fields(self, route: str, level: str) -> Mapping[str, Any]:
        return self.reply.get(route, {}).get(level, {})


def _profile(name: str, row: Mapping[str, Any]) -> Profile:
    routes = row["routes"]
    return Profile(
        name=name,
        doc=row["doc"],
        prefixes=tuple(row["prefixes"]),
        routes=None if routes == "*" else tuple(routes),
        models=tuple(row["models"]) if row["models"] is not None else None,
        auth=Auth(row["auth"]["header"], row["auth"]["scheme"]),
        headers={header: Header(header, spec["required"], spec["doc"], tuple(spec["enum"]) if "enum" in spec else None,
                                spec.get("pattern")) for header, spec in row["headers"].items()},
        parameters={parameter: Parameter(parameter, spec["schema"], tuple(spec["routes"]), spec["content"], spec["doc"])
                    for parameter, spec in row["parameters"].items()},
        reply=row["reply"],
        error_style=row["errors"]["style"],
        error_types={int(status): kind for status, kind in row["errors"].get("types", {}).items()},
        stream=row["stream"],
        schema_patches={name: tuple(patches) for name, patches in row["schemas"].items()},
    )


@functools.cache
def profiles() -> dict[str, Profile]:
    return {name: _profile(name, row) for name, row in load_json("profiles.json").items()}


def profile(name: str) -> Profile:
    return profiles()[name]


@functools.cache
def parameter_schema(profile_name: str, route: str) -> dict[str, Any]:
    """A schema of a body holding only the profile's parameters for `route`: how they are checked on any
    endpoint, whatever schema the endpoint checks the rest of the body with."""
    parameters = profile(profile_name).parameters_for(route)
    return {"type": "object", "properties": {name: copy.deepcopy(dict(p.schema)) for name, p in parameters.items()}}


def _patched(node: Any, patch: Mapping[str, Any]) -> Any:
    if "replace" in patch:
        return copy.deepcopy(patch["replace"])
    if patch.get("nullable"):
        return {"anyOf": [node, {"type": "null"}]}
    return {**node, "required": [name for name in node.get("required", ()) if name not in patch["optional"]]}


@functools.cache
def reply_schema(profile_name: str, name: str) -> dict[str, Any]:
    """Contract schema `name` as the profile's server keeps it: the same schema where the profile's
    replies follow OpenAI's, patched where they depart (vLLM's null `annotations`, watsonx.ai's errors)."""
    document = copy.deepcopy(schema(name))
    for patch in profile(profile_name).schema_patches.get(name, ()):
        parts = [part.replace("~1", "/").replace("~0", "~") for part in patch["at"].split("/")[1:]]
        if not parts:
            document = _patched(document, patch)
            continue
        parent = document
        for part in parts[:-1]:
            parent = parent[int(part) if isinstance(parent, list) else part]
        last = int(parts[-1]) if isinstance(parent, list) else parts[-1]
        parent[last] = _patched(parent[last], patch)
    return document
