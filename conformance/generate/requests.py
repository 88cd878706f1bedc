"""Hypothesis strategies for valid requests, valid the way the real API means valid (invalid ones are in
`conformance.generate.invalid`).

Field names, enums and numeric bounds come from the contract's request schema
(`fixtures/schemas/chat_completion_request.schema.json`); the rules the schema cannot state (logprobs
before top_logprobs, stream before stream_options, tool_choice against tools, tool results answering
calls) are the ones the mock's validation enforces. Requests stay small on purpose: a real, paid
endpoint must not be hammered with long prompts or long outputs.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from hypothesis import strategies as st

from mockserver.contract import model_info, schema

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


NOT_FOR_REASONING = ("max_tokens", "temperature")
"""Parameters requests for a reasoning model leave out."""


def _for_reasoning(request: Request) -> Request:
    out = {k: v for k, v in request.items() if k not in NOT_FOR_REASONING}
    if "max_tokens" in request and "max_completion_tokens" not in request:
        out["max_completion_tokens"] = request["max_tokens"]
    return out


@functools.cache
def text(max_words: int = 6) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(WORDS), min_size=1, max_size=max_words).map(" ".join)


def _scaled(name: str, step: float) -> st.SearchStrategy[float]:
    low, high = bounds(name)
    return st.integers(round(low / step), round(high / step)).map(lambda i: round(i * step, 6))


@functools.cache
def _text_parts(rich: bool) -> st.SearchStrategy[list[dict[str, Any]]]:
    part = st.builds(lambda t: {"type": "text", "text": t}, text())
    if rich:
        image = st.sampled_from(enum_values(_defs()["ChatCompletionRequestMessageContentPartImage"]["properties"]
                                            ["image_url"]["properties"]["detail"])).map(
            lambda detail: {"type": "image_url", "image_url": {"url": _ONE_PIXEL_PNG, "detail": detail}})
        document = st.just({"type": "file", "file": {"filename": "note.pdf", "file_data": _PDF_FILE_DATA}})
        part = st.one_of(part, image, document)
    return st.lists(part, min_size=1, max_size=2)


@functools.cache
def _content(rich: bool) -> st.SearchStrategy[Any]:
    return st.one_of(text(), _text_parts(rich)) if rich else text()


@functools.cache
def _message(role: str, rich: bool) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"role": st.just(role), "content": _content(rich and role == "user")},
                                 optional={"name": st.sampled_from(WORDS)} if rich else {})


@functools.cache
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


@functools.cache
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


def chat_request(model: str, messages: st.SearchStrategy[list[dict[str, Any]]],
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
    return chat_request(model, conversation(), optional=sampling())


@for_model
def message_requests(model: str) -> st.SearchStrategy[Request]:
    """Every message kind and content part: instructions, names, text, image and file parts, results of
    function and custom tool calls."""
    return chat_request(model, conversation(rich=True), optional={"max_completion_tokens": st.integers(1, 16)})


@for_model
def choice_requests(model: str) -> st.SearchStrategy[Request]:
    low, _ = bounds("n")
    return chat_request(model, conversation(), required={"n": st.integers(int(low), 3)},
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
    return st.tuples(chat_request(model, conversation()), limit).map(lambda pair: {**pair[0], **pair[1]})


@for_model
def logprob_requests(model: str) -> st.SearchStrategy[Request]:
    _, high = bounds("top_logprobs")
    return chat_request(model, conversation(), required={"logprobs": st.just(True)},
                    optional={"top_logprobs": st.integers(0, min(int(high), 5)),
                              "max_completion_tokens": st.integers(1, 16)})


@for_model
def stream_requests(model: str) -> st.SearchStrategy[Request]:
    return chat_request(model, conversation(), required={"stream": st.just(True)}, optional={
        "stream_options": st.fixed_dictionaries({"include_usage": st.booleans()}),
        "n": st.integers(1, 2),
        "max_tokens": st.integers(1, 16),
        "logprobs": st.just(True),
        "stop": _stop(),
    })


@for_model
def consistency_requests(model: str) -> st.SearchStrategy[Request]:
    """Seeded, greedy requests: the same one is sent streamed and not, and twice."""
    return chat_request(model, conversation(), required={
        "seed": st.integers(0, 2**31 - 1), "temperature": st.just(0), "max_tokens": st.integers(1, 16)})


# -- generated JSON Schemas (tool parameters, structured outputs) -------------------------------------

@functools.cache
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


@functools.cache
def _field_schema(strict: bool, depth: int) -> st.SearchStrategy[dict[str, Any]]:
    return _leaf_schema() if depth == 0 else st.one_of(_leaf_schema(), object_schema(strict, depth - 1))


_KEYS = st.lists(st.sampled_from(WORDS), min_size=1, max_size=3, unique=True)


@st.composite
def _object_schema(draw: st.DrawFn, strict: bool, depth: int) -> dict[str, Any]:
    field = _field_schema(strict, depth)
    keys = draw(_KEYS)
    properties = {key: draw(field) for key in keys}
    required = list(properties) if strict else list(properties)[:draw(st.integers(0, len(keys)))]
    node: dict[str, Any] = {"type": "object", "properties": properties, "required": required}
    if strict:
        node["additionalProperties"] = False
    return node


@functools.cache
def object_schema(strict: bool, depth: int = 1) -> st.SearchStrategy[dict[str, Any]]:
    """An object schema of simple fields; strict ones follow OpenAI's strict-mode rules (every property
    required, no additional properties). Strategies are built once: building them per draw is what
    makes generation slow."""
    return _object_schema(strict, depth)


@functools.cache
def _tool(name: str) -> st.SearchStrategy[dict[str, Any]]:
    def build(strict: bool, parameters: dict[str, Any], description: str) -> dict[str, Any]:
        function: dict[str, Any] = {"name": name, "description": description, "parameters": parameters}
        if strict:
            function["strict"] = True
        return {"type": "function", "function": function}
    return st.one_of(*(st.builds(build, st.just(strict), object_schema(strict), text(4)) for strict in (False, True)))


# Regex grammars for custom tools, in the syntax Python, Rust's regex crate and llguidance share.
_GRAMMARS = (r"[0-9]{3}-[0-9]{4}", r"(yes|no|maybe)", r"[a-z]+( [a-z]+){0,3}", r"#[0-9a-f]{6}")


@functools.cache
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


TOOL_NAMES = ("get_weather", "lookup", "add_item", "send_note")


@functools.cache
def _tool_choice_forms() -> st.SearchStrategy[str]:
    return st.sampled_from(("omitted", *enum_values(_property("tool_choice")), "named", "allowed_tools"))


@st.composite
def _tool_choice(draw: st.DrawFn, tools: list[dict[str, Any]]) -> Any:
    """Every form of tool_choice, each as likely as the others: left out (auto by default), a mode, one
    named tool of either kind, or a non-empty subset of allowed tools."""
    form = draw(_tool_choice_forms())
    if form == "omitted":
        return None
    if form == "named":
        return _tool_reference(draw(st.sampled_from(tools)))
    if form == "allowed_tools":
        mode = draw(st.sampled_from(("auto", "required")))
        subset = draw(st.lists(st.sampled_from(tools), min_size=1, max_size=len(tools),
                               unique_by=lambda t: t[t["type"]]["name"]))
        return {"type": "allowed_tools", "allowed_tools": {"mode": mode,
                                                           "tools": [_tool_reference(tool) for tool in subset]}}
    return form


@functools.cache
def _any_tool(name: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(_tool(name), _custom_tool(name))


@st.composite
def _tool_request(draw: st.DrawFn, model: str) -> Request:
    names = draw(st.lists(st.sampled_from(TOOL_NAMES), min_size=1, max_size=3, unique=True))
    tools = [draw(_any_tool(name)) for name in names]
    request: Request = {"model": model,
                        "messages": [{"role": "user", "content": f"Use a tool: {draw(text(5))}"}], "tools": tools}
    choice = draw(_tool_choice(tools))
    if choice is not None:
        request["tool_choice"] = choice
    if draw(st.booleans()):
        request["stream"] = True
    parallel = draw(st.sampled_from((None, True, False)))
    if parallel is not None:
        request["parallel_tool_calls"] = parallel
    return request


@for_model
def tool_requests(model: str) -> st.SearchStrategy[Request]:
    """Function and custom tools, every kind of tool_choice (allowed_tools included), streamed or not."""
    return _tool_request(model)


@for_model
def structured_requests(model: str) -> st.SearchStrategy[Request]:
    """response_format json_object and json_schema (strict or not) with generated schemas."""
    json_schema = st.booleans().flatmap(lambda strict: object_schema(strict).map(lambda s: {
        "type": "json_schema", "json_schema": {"name": "reply", "schema": s, "strict": strict}}))
    response_format = st.one_of(st.just({"type": "json_object"}), json_schema)
    messages = text(5).map(lambda t: [{"role": "system", "content": "Reply in JSON."},
                                      {"role": "user", "content": t}])
    return chat_request(model, messages, required={"response_format": response_format},
                    optional={"stream": st.just(True)})
