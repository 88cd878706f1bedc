"""Hypothesis strategies for requests: valid ones the way the real API means valid, and invalid ones that
each break exactly one rule.

Field names, enums and numeric bounds come from the contract's request schema
(`fixtures/schemas/chat_completion_request.schema.json`); the rules the schema cannot state (logprobs
before top_logprobs, stream before stream_options, tool_choice against tools, tool results answering
calls) are the ones `mockserver.validation` enforces. Requests stay small on purpose: a real, paid
endpoint must not be hammered with long prompts or long outputs.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from mockserver.contract import model_info, request_parameters, schema

Request = dict[str, Any]

WORDS = ("hello", "weather", "city", "blue", "river", "count", "apple", "seven", "quiet", "north", "table",
         "music", "green", "light", "stone", "write", "short", "story", "about", "the", "a", "sea")
_ONE_PIXEL_PNG = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQ"
                  "DwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def _one_page_pdf(text: str) -> bytes:
    """A well-formed PDF of one page that says `text`: a real API parses the file it is sent, so the
    file part must hold a document a PDF reader opens, cross-reference offsets included."""
    stream = f"BT /F1 12 Tf 10 40 Td ({text}) Tj ET".encode()
    objects = [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
               b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 80]/Resources<</Font<</F1 5 0 R>>>>/Contents 4 0 R>>",
               b"<</Length %d>>stream\n%s\nendstream" % (len(stream), stream),
               b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


_PDF_FILE_DATA = "data:application/pdf;base64," + base64.b64encode(_one_page_pdf("The river is blue.")).decode()


def _defs() -> dict[str, Any]:
    return schema("chat_completion_request")["$defs"]


def _resolve(node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        node = _defs()[node["$ref"].rsplit("/", 1)[-1]]
    return node


def _branches(node: Any) -> Iterator[dict[str, Any]]:
    """The node and every alternative below it (anyOf/oneOf), references resolved."""
    node = _resolve(node)
    if not isinstance(node, dict):
        return
    yield node
    for key in ("anyOf", "oneOf"):
        for branch in node.get(key, ()):
            yield from _branches(branch)


def _property(name: str) -> Any:
    return schema("chat_completion_request")["properties"][name]


@functools.cache
def bounds(name: str) -> tuple[float, float]:
    """The [minimum, maximum] the contract gives a numeric request field."""
    low = high = None
    for branch in _branches(_property(name)):
        low = branch.get("minimum", low)
        high = branch.get("maximum", high)
    if low is None or high is None:
        raise KeyError(f"the request schema gives {name!r} no numeric range")
    return low, high


def enum_values(node: Any) -> tuple[Any, ...]:
    values: list[Any] = []
    for branch in _branches(node):
        values += [v for v in branch.get("enum", ()) if v is not None and v not in values]
    return tuple(values)


@functools.cache
def json_types(name: str) -> frozenset[str]:
    """The JSON types a top-level request field accepts."""
    found: set[str] = set()
    for branch in _branches(_property(name)):
        kind = branch.get("type")
        found |= {kind} if isinstance(kind, str) else set(kind or ())
    return frozenset(found)


@functools.cache
def message_roles() -> tuple[str, ...]:
    return tuple(role for branch in _branches(_defs()["ChatCompletionRequestMessage"])
                 for role in enum_values(branch.get("properties", {}).get("role", {})))


# -- valid requests -----------------------------------------------------------------------------------

def for_model(build: Callable[[str], st.SearchStrategy[Request]]) -> Callable[[str], st.SearchStrategy[Request]]:
    """Valid for the model the way the real API means it: reasoning models take `max_completion_tokens`
    rather than `max_tokens`, and only the default temperature."""
    @functools.wraps(build)
    def made(model: str) -> st.SearchStrategy[Request]:
        strategy = build(model)
        if not model_info(model).reasoning:
            return strategy
        return strategy.map(_for_reasoning)
    return made


def _for_reasoning(request: Request) -> Request:
    out = {k: v for k, v in request.items() if k not in ("max_tokens", "temperature")}
    if "max_tokens" in request and "max_completion_tokens" not in request:
        out["max_completion_tokens"] = request["max_tokens"]
    return out


def text(max_words: int = 6) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(WORDS), min_size=1, max_size=max_words).map(" ".join)


def _scaled(name: str, step: float) -> st.SearchStrategy[float]:
    low, high = bounds(name)
    return st.integers(round(low / step), round(high / step)).map(lambda i: round(i * step, 6))


def _text_parts(rich: bool) -> st.SearchStrategy[list[dict[str, Any]]]:
    part = st.builds(lambda t: {"type": "text", "text": t}, text())
    if rich:
        image = st.sampled_from(enum_values(_defs()["ChatCompletionRequestMessageContentPartImage"]["properties"]
                                            ["image_url"]["properties"]["detail"])).map(
            lambda detail: {"type": "image_url", "image_url": {"url": _ONE_PIXEL_PNG, "detail": detail}})
        document = st.just({"type": "file", "file": {"filename": "note.pdf", "file_data": _PDF_FILE_DATA}})
        part = st.one_of(part, image, document)
    return st.lists(part, min_size=1, max_size=2)


def _content(rich: bool) -> st.SearchStrategy[Any]:
    return st.one_of(text(), _text_parts(rich)) if rich else text()


def _message(role: str, rich: bool) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"role": st.just(role), "content": _content(rich and role == "user")},
                                 optional={"name": st.sampled_from(WORDS)} if rich else {})


def _tool_exchange() -> st.SearchStrategy[list[dict[str, Any]]]:
    """An earlier assistant turn that called a function or a custom tool, and the tool's answer to it."""
    def build(name: str, value: str, number: int, custom: bool) -> list[dict[str, Any]]:
        call_id = f"call_{number}"
        call = ({"id": call_id, "type": "custom", "custom": {"name": name, "input": value}} if custom else
                {"id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps({"q": value})}})
        return [
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": call_id, "content": value},
        ]
    return st.builds(build, st.sampled_from(WORDS), text(3), st.integers(1, 99), st.booleans())


def conversation(rich: bool = False) -> st.SearchStrategy[list[dict[str, Any]]]:
    """An optional instruction message, earlier turns, and the user's last turn."""
    instruction_roles = [r for r in ("system", "developer") if r in message_roles()]
    instruction = st.one_of(st.just([]), st.sampled_from(instruction_roles).flatmap(
        lambda role: _message(role, rich).map(lambda m: [m])))
    earlier_turn = st.tuples(_message("user", rich), _message("assistant", rich)).map(list)
    history = st.lists(earlier_turn, max_size=1).map(lambda turns: [m for turn in turns for m in turn])
    if rich:
        history = st.one_of(history, _tool_exchange().map(lambda ex: [
            {"role": "user", "content": "look it up"}, *ex]))
    return st.builds(lambda a, b, c: a + b + [c], instruction, history, _message("user", rich))


def _request(model: str, messages: st.SearchStrategy[list[dict[str, Any]]],
             required: Mapping[str, st.SearchStrategy[Any]] | None = None,
             optional: Mapping[str, st.SearchStrategy[Any]] | None = None) -> st.SearchStrategy[Request]:
    return st.fixed_dictionaries({"model": st.just(model), "messages": messages, **(required or {})},
                                 optional=dict(optional or {}))


def sampling() -> dict[str, st.SearchStrategy[Any]]:
    return {
        "temperature": _scaled("temperature", 0.25),
        "top_p": _scaled("top_p", 0.25),
        "presence_penalty": _scaled("presence_penalty", 0.5),
        "frequency_penalty": _scaled("frequency_penalty", 0.5),
        "seed": st.integers(0, 2**31 - 1),
        "max_completion_tokens": st.integers(1, 32),
        "user": st.sampled_from(WORDS),
    }


@for_model
def shape_requests(model: str) -> st.SearchStrategy[Request]:
    """Plain chat with the common sampling parameters."""
    return _request(model, conversation(), optional=sampling())


@for_model
def message_requests(model: str) -> st.SearchStrategy[Request]:
    """Every message kind and content part: instructions, names, text, image and file parts, results of
    function and custom tool calls."""
    return _request(model, conversation(rich=True), optional={"max_completion_tokens": st.integers(1, 16)})


@for_model
def choice_requests(model: str) -> st.SearchStrategy[Request]:
    low, _ = bounds("n")
    return _request(model, conversation(), required={"n": st.integers(int(low), 3)},
                    optional={"temperature": _scaled("temperature", 0.5), "max_tokens": st.integers(1, 16)})


def _stop() -> st.SearchStrategy[Any]:
    common = st.sampled_from([" ", ".", ",", "e", "the", "a", "\n", "s"])
    return st.one_of(common, st.lists(common, min_size=1, max_size=4, unique=True))


@for_model
def limit_requests(model: str) -> st.SearchStrategy[Request]:
    """Token limits (both spellings) and stop sequences, which must cut the output."""
    limit = st.one_of(st.fixed_dictionaries({"max_tokens": st.integers(1, 8)}),
                      st.fixed_dictionaries({"max_completion_tokens": st.integers(1, 8)}),
                      st.fixed_dictionaries({"stop": _stop()}),
                      st.fixed_dictionaries({"stop": _stop(), "max_tokens": st.integers(1, 24)}))
    return st.tuples(_request(model, conversation()), limit).map(lambda pair: {**pair[0], **pair[1]})


@for_model
def logprob_requests(model: str) -> st.SearchStrategy[Request]:
    _, high = bounds("top_logprobs")
    return _request(model, conversation(), required={"logprobs": st.just(True)},
                    optional={"top_logprobs": st.integers(0, min(int(high), 5)),
                              "max_completion_tokens": st.integers(1, 16)})


@for_model
def stream_requests(model: str) -> st.SearchStrategy[Request]:
    return _request(model, conversation(), required={"stream": st.just(True)}, optional={
        "stream_options": st.fixed_dictionaries({"include_usage": st.booleans()}),
        "n": st.integers(1, 2),
        "max_tokens": st.integers(1, 16),
        "logprobs": st.just(True),
        "stop": _stop(),
    })


@for_model
def consistency_requests(model: str) -> st.SearchStrategy[Request]:
    """Seeded, greedy requests: the same one is sent streamed and not, and twice."""
    return _request(model, conversation(), required={
        "seed": st.integers(0, 2**31 - 1), "temperature": st.just(0), "max_tokens": st.integers(1, 16)})


# -- generated JSON Schemas (tool parameters, structured outputs) -------------------------------------

def _leaf_schema() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.just({"type": "string"}),
        st.just({"type": "integer"}),
        st.just({"type": "number"}),
        st.just({"type": "boolean"}),
        st.lists(st.sampled_from(WORDS), min_size=1, max_size=4, unique=True).map(
            lambda values: {"type": "string", "enum": values}),
        st.just({"type": "array", "items": {"type": "string"}}),
    )


def object_schema(strict: bool, depth: int = 1) -> st.SearchStrategy[dict[str, Any]]:
    """An object schema of simple fields; strict ones follow OpenAI's strict-mode rules (every property
    required, no additional properties)."""
    field = _leaf_schema() if depth == 0 else st.one_of(_leaf_schema(), object_schema(strict, depth - 1))
    names = st.lists(st.sampled_from(WORDS), min_size=1, max_size=3, unique=True)

    def build(keys: list[str], fields: list[dict[str, Any]], keep: int) -> dict[str, Any]:
        properties = dict(zip(keys, fields))
        required = list(properties) if strict else list(properties)[:keep]
        node: dict[str, Any] = {"type": "object", "properties": properties, "required": required}
        if strict:
            node["additionalProperties"] = False
        return node

    return names.flatmap(lambda keys: st.builds(
        build, st.just(keys), st.lists(field, min_size=len(keys), max_size=len(keys)), st.integers(0, len(keys))))


def _tool(name: str) -> st.SearchStrategy[dict[str, Any]]:
    def build(strict: bool, parameters: dict[str, Any], description: str) -> dict[str, Any]:
        function: dict[str, Any] = {"name": name, "description": description, "parameters": parameters}
        if strict:
            function["strict"] = True
        return {"type": "function", "function": function}
    return st.booleans().flatmap(lambda strict: st.builds(build, st.just(strict), object_schema(strict), text(4)))


# Regex grammars for custom tools, in the syntax Python, Rust's regex crate and llguidance share.
_GRAMMARS = (r"[0-9]{3}-[0-9]{4}", r"(yes|no|maybe)", r"[a-z]+( [a-z]+){0,3}", r"#[0-9a-f]{6}")


def _custom_tool(name: str) -> st.SearchStrategy[dict[str, Any]]:
    """A custom (free-form input) tool: no format, plain text, or a regex grammar."""
    grammar = st.sampled_from(_GRAMMARS).map(
        lambda pattern: {"type": "grammar", "grammar": {"syntax": "regex", "definition": pattern}})
    fmt = st.one_of(st.none(), st.just({"type": "text"}), grammar)

    def build(form: dict[str, Any] | None, description: str) -> dict[str, Any]:
        custom: dict[str, Any] = {"name": name, "description": description}
        if form is not None:
            custom["format"] = form
        return {"type": "custom", "custom": custom}
    return st.builds(build, fmt, text(4))


def _tool_reference(tool: Mapping[str, Any]) -> dict[str, Any]:
    """How tool_choice names a tool: its type and name, nothing else."""
    kind = tool["type"]
    return {"type": kind, kind: {"name": tool[kind]["name"]}}


def _tool_choice(tools: list[dict[str, Any]]) -> st.SearchStrategy[Any]:
    """Every form of tool_choice: a mode, one named tool, or a non-empty subset of allowed tools."""
    named = st.sampled_from(tools).map(_tool_reference)
    allowed = st.builds(
        lambda mode, subset: {"type": "allowed_tools", "allowed_tools": {
            "mode": mode, "tools": [_tool_reference(tool) for tool in subset]}},
        st.sampled_from(("auto", "required")),
        st.lists(st.sampled_from(tools), min_size=1, max_size=len(tools), unique_by=lambda t: t[t["type"]]["name"]))
    return st.one_of(st.sampled_from(enum_values(_property("tool_choice"))), named, allowed)


@for_model
def tool_requests(model: str) -> st.SearchStrategy[Request]:
    """Function and custom tools, every kind of tool_choice (allowed_tools included), streamed or not."""
    names = st.lists(st.sampled_from(["get_weather", "lookup", "add_item", "send_note"]), min_size=1,
                     max_size=3, unique=True)

    def tool(name: str) -> st.SearchStrategy[dict[str, Any]]:
        return st.one_of(_tool(name), _custom_tool(name))

    def build(tools: list[dict[str, Any]]) -> st.SearchStrategy[Request]:
        messages = text(5).map(lambda t: [{"role": "user", "content": f"Use a tool: {t}"}])
        return _request(model, messages, required={"tools": st.just(tools)}, optional={
            "tool_choice": _tool_choice(tools), "stream": st.just(True), "parallel_tool_calls": st.booleans()})

    return names.flatmap(lambda chosen: st.tuples(*[tool(name) for name in chosen]).map(list)).flatmap(build)


@for_model
def structured_requests(model: str) -> st.SearchStrategy[Request]:
    """response_format json_object and json_schema (strict or not) with generated schemas."""
    json_schema = st.booleans().flatmap(lambda strict: object_schema(strict).map(lambda s: {
        "type": "json_schema", "json_schema": {"name": "reply", "schema": s, "strict": strict}}))
    response_format = st.one_of(st.just({"type": "json_object"}), json_schema)
    messages = text(5).map(lambda t: [{"role": "system", "content": "Reply in JSON."},
                                      {"role": "user", "content": t}])
    return _request(model, messages, required={"response_format": response_format},
                    optional={"stream": st.just(True)})


# -- invalid requests ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class InvalidCase:
    """A request that breaks exactly one rule, and the error kind (in `fixtures/errors.json`) it earns."""

    rule: str
    kind: str
    payload: Any = None
    raw: bytes | None = None
    auth: str | None = None
    """For auth cases: "missing" sends no key, "wrong" a wrong one."""

    def body(self) -> bytes:
        return self.raw if self.raw is not None else json.dumps(self.payload).encode()


_WRONG_VALUES: tuple[tuple[frozenset[str], Any], ...] = (
    (frozenset({"integer", "number"}), 12), (frozenset({"string"}), "many"), (frozenset({"boolean"}), True),
    (frozenset({"array"}), [1]), (frozenset({"object"}), {"a": 1}),
)
_TYPED_FIELDS = ("temperature", "top_p", "n", "max_tokens", "max_completion_tokens", "stream", "logprobs",
                 "presence_penalty", "frequency_penalty", "seed", "messages", "user", "stop")
_RANGED_FIELDS = ("temperature", "top_p", "n", "top_logprobs", "presence_penalty", "frequency_penalty")


def _base(model: str) -> st.SearchStrategy[Request]:
    return _request(model, conversation())


def _wrong_type(model: str) -> st.SearchStrategy[InvalidCase]:
    def build(base: Request, name: str) -> InvalidCase:
        allowed = json_types(name)
        value = next(value for types, value in _WRONG_VALUES if not types & allowed)
        return InvalidCase(f"wrong type for {name}", "invalid_request", {**base, name: value})
    return st.builds(build, _base(model), st.sampled_from(_TYPED_FIELDS))


def _out_of_range(model: str) -> st.SearchStrategy[InvalidCase]:
    def build(base: Request, name: str, above: bool, by: int) -> InvalidCase:
        low, high = bounds(name)
        value = high + by if above else low - by
        extra = {"logprobs": True} if name == "top_logprobs" else {}
        return InvalidCase(f"{name} {'above maximum' if above else 'below minimum'}", "invalid_request",
                           {**base, **extra, name: value})
    return st.builds(build, _base(model), st.sampled_from(_RANGED_FIELDS), st.booleans(), st.integers(1, 3))


def _missing_required(model: str) -> st.SearchStrategy[InvalidCase]:
    required = schema("chat_completion_request")["required"]

    def build(base: Request, name: str) -> InvalidCase:
        return InvalidCase(f"missing required {name}", "invalid_request",
                           {k: v for k, v in base.items() if k != name})

    missing_content = _base(model).map(lambda base: InvalidCase(
        "user message without content", "invalid_request", {**base, "messages": [{"role": "user"}]}))
    return st.one_of(st.builds(build, _base(model), st.sampled_from(required)), missing_content)


def _unknown_parameter(model: str) -> st.SearchStrategy[InvalidCase]:
    names = st.sampled_from(WORDS).map(lambda w: f"x_{w}").filter(lambda n: n not in request_parameters())
    return st.builds(lambda base, name: InvalidCase(f"unknown parameter {name}", "invalid_request",
                                                    {**base, name: 1}), _base(model), names)


def _bad_enum(model: str) -> st.SearchStrategy[InvalidCase]:
    role = _base(model).map(lambda base: InvalidCase("unknown message role", "invalid_request", {
        **base, "messages": [{"role": "wizard", "content": "hi"}]}))
    response_format = _base(model).map(lambda base: InvalidCase(
        "unknown response_format type", "invalid_request", {**base, "response_format": {"type": "yaml"}}))
    empty = _base(model).map(lambda base: InvalidCase("empty messages", "invalid_request",
                                                      {**base, "messages": []}))
    return st.one_of(role, response_format, empty)


def _semantic(model: str) -> st.SearchStrategy[InvalidCase]:
    tool = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}
    cases = [
        ("top_logprobs without logprobs", {"top_logprobs": 2}),
        ("stream_options without stream", {"stream_options": {"include_usage": True}}),
        ("tool_choice without tools", {"tool_choice": "required"}),
        ("tool_choice names an undeclared function",
         {"tools": [tool], "tool_choice": {"type": "function", "function": {"name": "missing"}}}),
        ("max_tokens below 1", {"max_tokens": 0}),
        ("logit_bias value out of range", {"logit_bias": {"1000": 150}}),
        ("logit_bias key is not a token id", {"logit_bias": {"hello": 1}}),
        ("function_call without functions", {"function_call": "auto"}),
        ("audio output without the audio parameter", {"modalities": ["text", "audio"]}),
        ("json_object without the word json in the messages",
         {"messages": [{"role": "user", "content": "Describe a river."}], "response_format": {"type": "json_object"}}),
    ]
    orphan = _base(model).map(lambda base: InvalidCase("tool message without a preceding tool call",
                                                       "invalid_request", {**base, "messages": [
                                                           *base["messages"],
                                                           {"role": "tool", "tool_call_id": "call_1",
                                                            "content": "x"}]}))
    unanswered = _base(model).map(lambda base: InvalidCase("tool call left unanswered", "invalid_request", {
        **base, "messages": [*base["messages"],
                             {"role": "assistant", "content": None, "tool_calls": [
                                 {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
                             {"role": "user", "content": "and then?"}]}))
    return st.one_of(st.builds(lambda base, case: InvalidCase(case[0], "invalid_request", {**base, **case[1]}),
                               _base(model), st.sampled_from(cases)), orphan, unanswered)


def _malformed(model: str) -> st.SearchStrategy[InvalidCase]:
    return _base(model).map(lambda base: InvalidCase(
        "malformed JSON body", "invalid_request", raw=json.dumps(base).encode()[:-1]))


def _unknown_model(model: str) -> st.SearchStrategy[InvalidCase]:
    return st.builds(lambda base, word: InvalidCase("unknown model", "model_not_found",
                                                    {**base, "model": f"no-such-model-{word}"}),
                     _base(model), st.sampled_from(WORDS))


def invalid_requests(model: str) -> dict[str, st.SearchStrategy[InvalidCase]]:
    """Each example breaks exactly one rule: a type, a range, a required field, an unknown parameter, an
    enum, a semantic rule, the JSON syntax, or the model id. One strategy per kind of rule, so each kind
    is explored (and reported) even when another one fails."""
    return {"wrong type": _wrong_type(model), "out of range": _out_of_range(model),
            "missing required": _missing_required(model), "unknown parameter": _unknown_parameter(model),
            "unknown enum value": _bad_enum(model), "semantic rule": _semantic(model),
            "malformed JSON": _malformed(model), "unknown model": _unknown_model(model)}


def auth_requests(model: str) -> st.SearchStrategy[InvalidCase]:
    return st.builds(lambda base, how: InvalidCase(f"{how} API key", "invalid_api_key", base, auth=how),
                     _base(model), st.sampled_from(["missing", "wrong"]))
