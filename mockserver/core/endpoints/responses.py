"""`POST /responses` and `GET /responses/{id}`: the Responses API, the subset apps and agent SDKs use.

A request is read as the chat request it amounts to (`chat_view`): `instructions` as a system message,
the stored conversation of `previous_response_id`, then the input items (messages, function calls as an
assistant's tool calls, their outputs as tool messages), function tools, `tool_choice`, `text.format` as
`response_format` and `max_output_tokens` as the completion limit. The chat generator plans the reply
from that view, so the text, the tool calls, the agent-loop rule (a function call after user input, text
after a function result), determinism and usage are the chat endpoint's; this module writes the plan
as a `response` object or as the typed event stream, and keeps stored responses (bounded, in the
controls' state, so `reset` clears them) for `previous_response_id` and retrieval.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from mockserver.contract.errors import ApiError, invalid_request, unknown_parameter
from mockserver.contract.fixtures import request_parameters
from mockserver.contract.models import model_info
from mockserver.contract.sse import encode_event
from mockserver.contract.wire import FINISH_LENGTH, served_tier
from mockserver.core.endpoints.model import Endpoint, ServeOptions, Validated, check_kind, check_model, check_shared
from mockserver.core.generate.planner import Context, plan_completion
from mockserver.core.generate.scripted import plan_scripted
from mockserver.core.generate.tokenizer import prompt_tokens
from mockserver.core.plan import ChoicePlan, CompletionPlan, Script
from mockserver.core.render import quirks
from mockserver.core.render.stream import Obfuscator
from mockserver.core.validate.rules import check_integers
from mockserver.core.validate.schema import check_schema, type_name
from mockserver.core.validate.schemas import check_request_schemas

NAME = "responses"
RETRIEVE = "responses.retrieve"
SCHEMA = "response_request"
STORE_PREFIX = "response:"
LOGPROBS_INCLUDE = "message.output_text.logprobs"
ENCRYPTED_INCLUDE = "reasoning.encrypted_content"


@dataclass(frozen=True, slots=True)
class Stored:
    """A stored response: the object `GET /responses/{id}` returns, and the conversation up to and
    including its output, which a request naming it as `previous_response_id` continues."""

    response: Mapping[str, Any]
    conversation: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True, slots=True)
class ResponsePlan:
    id: str
    created: int
    request: Mapping[str, Any]
    completion: CompletionPlan
    conversation: tuple[Mapping[str, Any], ...]
    """The conversation before this reply (stored history and this request's input) as chat messages,
    without the instructions, which a continuation does not inherit."""

    @property
    def choice(self) -> ChoicePlan:
        return self.completion.choices[0]


# -- reading a request as a chat request --------------------------------------------------------------

def _part(part: Mapping[str, Any]) -> dict[str, Any]:
    kind = part.get("type")
    if kind == "input_image":
        url = part.get("image_url") or f"file:{part.get('file_id') or ''}"
        return {"type": "image_url", "image_url": {"url": url, "detail": part.get("detail") or "auto"}}
    if kind == "input_file":
        return {"type": "file", "file": {k: part[k] for k in ("file_data", "file_id", "filename") if part.get(k)}}
    if kind == "refusal":
        return {"type": "text", "text": part.get("refusal", "")}
    return {"type": "text", "text": part.get("text", "")}


def _content(content: Any) -> Any:
    return content if isinstance(content, str) else [_part(part) for part in content]


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(part.get("text") or part.get("refusal") or "" for part in content)


def _items(request: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    value = request.get("input")
    if value is None:
        return []
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": value}]
    return list(value)


def conversation_of(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Input items as chat messages: function calls become an assistant message's tool calls (joined to
    the assistant text right before them), their outputs tool messages; reasoning items shape nothing."""
    messages: list[dict[str, Any]] = []
    for item in items:
        kind = item.get("type", "message")
        if kind == "message":
            if item["role"] == "assistant":
                messages.append({"role": "assistant", "content": _text_of(item["content"])})
            else:
                messages.append({"role": item["role"], "content": _content(item["content"])})
        elif kind == "function_call":
            call = {"id": item["call_id"], "type": "function",
                    "function": {"name": item["name"], "arguments": item["arguments"]}}
            last = messages[-1] if messages else None
            if last is not None and last["role"] == "assistant":
                last["tool_calls"] = [*last.get("tool_calls", ()), call]
                if not last.get("content"):
                    last["content"] = None
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            output = item["output"]
            messages.append({"role": "tool", "tool_call_id": item["call_id"],
                             "content": output if isinstance(output, str) else _text_of(output)})
    return messages


def _tools(request: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"type": "function", "function": {k: tool[k] for k in ("name", "description", "parameters", "strict")
                                              if tool.get(k) is not None}}
            for tool in request.get("tools") or ()]


def _tool_choice(choice: Any) -> Any:
    if not isinstance(choice, Mapping):
        return choice
    if choice.get("type") == "function":
        return {"type": "function", "function": {"name": choice.get("name")}}
    return {"type": "allowed_tools", "allowed_tools": {
        "mode": choice.get("mode"),
        "tools": [{"type": "function", "function": {"name": tool.get("name")}} for tool in choice.get("tools") or ()]}}


def _response_format(request: Mapping[str, Any]) -> dict[str, Any] | None:
    fmt = (request.get("text") or {}).get("format")
    if not fmt or fmt.get("type") == "text":
        return None
    if fmt["type"] == "json_object":
        return {"type": "json_object"}
    spec = {k: fmt[k] for k in ("name", "schema", "strict", "description") if fmt.get(k) is not None}
    return {"type": "json_schema", "json_schema": spec}


def _logprobs_wanted(request: Mapping[str, Any]) -> bool:
    return LOGPROBS_INCLUDE in (request.get("include") or ())


def chat_view(request: Mapping[str, Any], history: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The chat request a Responses request amounts to, after the stored `history` it continues."""
    messages: list[dict[str, Any]] = []
    if request.get("instructions"):
        messages.append({"role": "system", "content": request["instructions"]})
    messages += [dict(message) for message in history]
    messages += conversation_of(_items(request))
    view: dict[str, Any] = {"model": request["model"], "messages": messages}
    tools = _tools(request)
    if tools:
        view["tools"] = tools
        if request.get("max_tool_calls") == 0:
            view["tool_choice"] = "none"
        elif request.get("tool_choice") is not None:
            view["tool_choice"] = _tool_choice(request["tool_choice"])
        if request.get("parallel_tool_calls") is not None:
            view["parallel_tool_calls"] = request["parallel_tool_calls"]
    elif request.get("tool_choice") is not None:
        view["tool_choice"] = _tool_choice(request["tool_choice"])
    response_format = _response_format(request)
    if response_format is not None:
        view["response_format"] = response_format
    if request.get("max_output_tokens") is not None:
        view["max_completion_tokens"] = request["max_output_tokens"]
    for name in ("temperature", "top_p", "service_tier"):
        if request.get(name) is not None:
            view[name] = request[name]
    effort = (request.get("reasoning") or {}).get("effort")
    if effort is not None and model_info(request["model"]).reasoning:
        view["reasoning_effort"] = effort
    if _logprobs_wanted(request):
        view["logprobs"] = True
        view["top_logprobs"] = request.get("top_logprobs") or 0
    return view


# -- validation -----------------------------------------------------------------------------------------

def _stored(options: ServeOptions, response_id: str) -> Stored | None:
    found = options.stored.get(STORE_PREFIX + response_id)
    return found if isinstance(found, Stored) else None


def _not_found(what: str, value: str, param: str) -> ApiError:
    return ApiError("not_found", f"{what} with id '{value}' not found.", param=param)


def _check_calls(messages: Sequence[Mapping[str, Any]]) -> None:
    """Every function call output answers a call made before it, and every call is answered."""
    pending: list[str] = []
    for message in messages:
        if message["role"] == "tool":
            if message["tool_call_id"] not in pending:
                raise invalid_request(f"No tool call found for function call output with call_id "
                                      f"{message['tool_call_id']}.", "input")
            pending.remove(message["tool_call_id"])
        pending += [call["id"] for call in message.get("tool_calls") or ()]
    if pending:
        raise invalid_request(f"No tool output found for function call {pending[0]}.", "input")


def _mentions_json(messages: Sequence[Mapping[str, Any]]) -> bool:
    for message in messages:
        content = message.get("content")
        text = content if isinstance(content, str) else " ".join(
            part.get("text", "") for part in content or () if isinstance(part, Mapping))
        if "json" in text.lower():
            return True
    return False


_CHAT_PARAMS = (("response_format", "text.format"),)


def _responses_param(param: str | None) -> str | None:
    """A chat parameter path as the Responses request names it (`tools.[0].function.parameters` is
    `tools.[0].parameters`, `response_format` is `text.format`)."""
    if param is None:
        return None
    param = param.replace(".function.", ".")
    for chat, ours in _CHAT_PARAMS:
        if param.startswith(chat):
            param = ours + param[len(chat):]
    return param


def _check_view(request: Mapping[str, Any], view: Mapping[str, Any]) -> None:
    names = {tool["function"]["name"] for tool in view.get("tools", ())}
    choice = request.get("tool_choice")
    if choice not in (None, "none", "auto") and not names:
        raise invalid_request("Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are "
                              "specified.", "tool_choice")
    wanted = [choice] if isinstance(choice, Mapping) and choice.get("type") == "function" else list(
        (choice or {}).get("tools") or ()) if isinstance(choice, Mapping) else []
    for entry in wanted:
        if entry.get("name") not in names:
            raise invalid_request(f"Tool choice 'function' with name '{entry.get('name')}' not found in 'tools' "
                                  "parameter.", "tool_choice")
    _check_calls(view["messages"])
    if (view.get("response_format") or {}).get("type") == "json_object" and not _mentions_json(view["messages"]):
        raise invalid_request("Response input messages must contain the word 'json' in some form to use "
                              "'text.format' of type 'json_object'.", "text.format")
    info = model_info(request["model"])
    temperature = request.get("temperature")
    if info.reasoning and temperature is not None and temperature != 1:
        raise ApiError("unsupported_parameter", "Unsupported parameter: 'temperature' is not supported with this "
                       "model.", param="temperature")
    limit = request.get("max_output_tokens")
    if limit is not None and limit > info.max_output_tokens:
        raise ApiError("invalid_request", f"max_output_tokens is too large: {limit}. This model supports at most "
                       f"{info.max_output_tokens} output tokens, whereas you provided {limit}.",
                       param="max_output_tokens", code="invalid_value")
    try:
        check_request_schemas(view)
    except ApiError as error:
        raise ApiError(error.kind, error.message.replace("response_format", "text.format"),
                       param=_responses_param(error.param), code=error.code) from None


def _fit(request: Mapping[str, Any], view: dict[str, Any], window: int) -> tuple[dict[str, Any], int]:
    """The view and its prompt size within the context window: `truncation: auto` drops the oldest turns
    (never the instructions) until it fits, otherwise the real API's 400."""
    limit = request.get("max_output_tokens") or 0
    tokens = prompt_tokens(view)
    if request.get("truncation") == "auto":
        first = 1 if request.get("instructions") else 0
        while tokens + limit > window and len(view["messages"]) > first + 1:
            messages = view["messages"][first + 1:]
            while messages and messages[0]["role"] == "tool":
                messages = messages[1:]
            view = {**view, "messages": view["messages"][:first] + messages}
            tokens = prompt_tokens(view)
    if tokens + limit > window:
        raise ApiError("context_length_exceeded", "Your input exceeds the context window of this model. Please "
                       "adjust your input and try again.", param="input")
    return view, tokens


def _check_tool_types(body: Mapping[str, Any]) -> None:
    """Hosted tools (web search, file search, code interpreter...) run on OpenAI's side; the mock serves
    function tools and says so, rather than failing on a hosted tool's missing `name`."""
    tools = body.get("tools")
    for index, tool in enumerate(tools if isinstance(tools, list) else ()):
        kind = tool.get("type") if isinstance(tool, dict) else None
        if isinstance(kind, str) and kind != "function":
            raise ApiError("invalid_request", f"Invalid value: '{kind}'. Supported values are: 'function' (the mock "
                           "runs no hosted tools).", param=f"tools.[{index}].type", code="invalid_value")


def validate(body: Any, options: ServeOptions) -> Validated:
    if not isinstance(body, dict):
        raise invalid_request(f"Invalid type for request body: expected an object, but got {type_name(body)} instead.")
    unknown = body.keys() - request_parameters(SCHEMA)
    if unknown:
        raise unknown_parameter(min(unknown))
    _check_tool_types(body)
    check_schema(body, (SCHEMA,))
    check_integers(body, SCHEMA)
    check_model(body["model"], options)
    check_kind(body["model"], "chat", "v1/responses")
    if body.get("conversation") is not None:
        conversation = body["conversation"]
        raise _not_found("Conversation", conversation if isinstance(conversation, str) else conversation["id"],
                         "conversation")
    if body.get("prompt") is not None:
        raise _not_found("Prompt", body["prompt"]["id"], "prompt")
    if body.get("input") is None:
        raise ApiError("invalid_request", "Missing required parameter: 'input'.", param="input",
                       code="missing_required_parameter")
    if body.get("background") is True and body.get("store") is False:
        raise invalid_request("Invalid value for 'background': background responses must be stored ('store' "
                              "cannot be false).", "background")
    history: tuple[Mapping[str, Any], ...] = ()
    previous = body.get("previous_response_id")
    if previous is not None:
        check_shared(options, "'previous_response_id'", "previous_response_id")
        stored = _stored(options, previous)
        if stored is None:
            raise _not_found("Previous response", previous, "previous_response_id")
        history = stored.conversation
    view = chat_view(body, history)
    _check_view(body, view)
    window = options.context_windows.get(body["model"]) or model_info(body["model"]).context_window
    view, tokens = _fit(body, view, window)
    return Validated(body, tokens, tokens + (body.get("max_output_tokens") or 0), view=view,
                     recalled=tuple(view["messages"]))


# -- planning -------------------------------------------------------------------------------------------

def _short(material: str, prefix: str) -> str:
    return prefix + hashlib.blake2b(material.encode(), digest_size=24).hexdigest()


def _view(request: Mapping[str, Any], context: Context) -> dict[str, Any]:
    """The chat view of a validated request: its messages are the ones validation settled (the stored
    history it continues, fitted to the context window), the rest is read from the request as the
    quirks left it."""
    view = chat_view(request)
    if context.recalled is not None:
        view["messages"] = [dict(message) for message in context.recalled]
    return view


def _wrap(request: Mapping[str, Any], view: Mapping[str, Any], completion: CompletionPlan,
          context: Context) -> ResponsePlan:
    messages = view["messages"]
    conversation = tuple(messages[1:] if request.get("instructions") else messages)
    return ResponsePlan(id=_short(completion.id, "resp_"), created=context.created, request=request,
                        completion=completion, conversation=conversation)


def plan(request: Mapping[str, Any], context: Context) -> ResponsePlan:
    view = _view(request, context)
    return _wrap(request, view, plan_completion(view, context), context)


def scripted(script: Script, request: Mapping[str, Any], context: Context) -> ResponsePlan:
    view = _view(request, context)
    return _wrap(request, view, plan_scripted(script, view, context), context)


# -- writing ----------------------------------------------------------------------------------------------

def _item_id(plan: ResponsePlan, kind: str, position: int) -> str:
    return _short(f"{plan.id}|{kind}|{position}", {"message": "msg_", "function_call": "fc_",
                                                   "reasoning": "rs_"}[kind])


def _reasoning_tokens(plan: ResponsePlan) -> int:
    return plan.completion.usage["completion_tokens_details"]["reasoning_tokens"]


def _incomplete(plan: ResponsePlan) -> bool:
    return plan.choice.finish_reason == FINISH_LENGTH


def _reasoning_item(plan: ResponsePlan) -> dict[str, Any]:
    item: dict[str, Any] = {"id": _item_id(plan, "reasoning", 0), "type": "reasoning", "summary": []}
    if ENCRYPTED_INCLUDE in (plan.request.get("include") or ()):
        item["encrypted_content"] = base64.b64encode(hashlib.blake2b(plan.id.encode()).digest()).decode()
    return item


def _text_part(choice: ChoicePlan, text: str) -> dict[str, Any]:
    return {"type": "output_text", "annotations": [], "logprobs": list(choice.logprobs or ()), "text": text}


def _message_item(plan: ResponsePlan, status: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": _item_id(plan, "message", 0), "type": "message", "status": status, "content": parts,
            "role": "assistant"}


def _call_items(plan: ResponsePlan, status: str) -> list[dict[str, Any]]:
    calls = plan.choice.tool_calls
    limit = plan.request.get("max_tool_calls")
    if limit is not None and limit > 0:
        calls = calls[:limit]
    return [{"id": _item_id(plan, "function_call", position), "type": "function_call", "status": status,
             "arguments": call.arguments, "call_id": call.id, "name": call.name}
            for position, call in enumerate(calls)]


def output_items(plan: ResponsePlan) -> list[dict[str, Any]]:
    """The finished output: a reasoning item for reasoning models, then the message or the calls."""
    status = "incomplete" if _incomplete(plan) else "completed"
    items = [_reasoning_item(plan)] if model_info(plan.request["model"]).reasoning else []
    choice = plan.choice
    if choice.refusal_tokens is not None:
        items.append(_message_item(plan, status, [{"type": "refusal", "refusal": choice.refusal}]))
    elif choice.content_tokens is not None:
        items.append(_message_item(plan, status, [_text_part(choice, choice.content or "")]))
    items += _call_items(plan, status)
    return items


def _usage(plan: ResponsePlan) -> dict[str, Any]:
    usage = plan.completion.usage
    return {"input_tokens": usage["prompt_tokens"], "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": usage["completion_tokens"],
            "output_tokens_details": {"reasoning_tokens": _reasoning_tokens(plan)},
            "total_tokens": usage["total_tokens"]}


def _echoed_tools(request: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"type": "function", "name": tool["name"], "description": tool.get("description"),
             "parameters": tool.get("parameters"), "strict": tool.get("strict")} for tool in request.get("tools") or ()]


def response_object(plan: ResponsePlan, status: str | None = None, finished: bool = True) -> dict[str, Any]:
    """The `response` object: finished (what the JSON reply, `response.completed` and retrieval show), or
    as the stream opens it (`in_progress`, no output, no usage yet)."""
    request = plan.request
    reasoning = model_info(request["model"]).reasoning
    effort = (request.get("reasoning") or {}).get("effort") or ("medium" if reasoning else None)
    done_status = "incomplete" if _incomplete(plan) else "completed"
    return {
        "id": plan.id,
        "object": "response",
        "created_at": plan.created,
        "status": status or done_status,
        "background": bool(request.get("background")),
        "completed_at": plan.created if finished else None,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if finished and _incomplete(plan) else None,
        "instructions": request.get("instructions"),
        "max_output_tokens": request.get("max_output_tokens"),
        "max_tool_calls": request.get("max_tool_calls"),
        "model": request["model"],
        "output": output_items(plan) if finished else [],
        "parallel_tool_calls": request.get("parallel_tool_calls") is not False,
        "previous_response_id": request.get("previous_response_id"),
        "prompt_cache_key": request.get("prompt_cache_key"),
        "reasoning": {"effort": effort, "summary": (request.get("reasoning") or {}).get("summary")},
        "safety_identifier": request.get("safety_identifier"),
        "service_tier": served_tier(request.get("service_tier")),
        "store": request.get("store") is not False,
        "temperature": request.get("temperature") if request.get("temperature") is not None else 1.0,
        "text": {"format": (request.get("text") or {}).get("format") or {"type": "text"},
                 "verbosity": (request.get("text") or {}).get("verbosity") or "medium"},
        "tool_choice": request.get("tool_choice") or "auto",
        "tools": _echoed_tools(request),
        "top_logprobs": request.get("top_logprobs") or 0,
        "top_p": request.get("top_p") if request.get("top_p") is not None else 1.0,
        "truncation": request.get("truncation") or "disabled",
        "usage": _usage(plan) if finished else None,
        "user": request.get("user"),
        "metadata": request.get("metadata") or {},
    }


def body(plan: ResponsePlan, quirk_names: tuple[str, ...]) -> bytes:
    return orjson.dumps(quirks.apply_body(quirk_names, response_object(plan), NAME))


def _item_events(plan: ResponsePlan, index: int, item: dict[str, Any],
                 obfuscate: Obfuscator | None) -> Iterator[dict[str, Any]]:
    """One output item's events: added (empty), its content as deltas, done (whole)."""
    if item["type"] == "reasoning":
        yield {"type": "response.output_item.added", "output_index": index, "item": item}
        yield {"type": "response.output_item.done", "output_index": index, "item": item}
        return
    if item["type"] == "function_call":
        yield {"type": "response.output_item.added", "output_index": index,
               "item": {**item, "status": "in_progress", "arguments": ""}}
        call = next(call for call in plan.choice.tool_calls if call.id == item["call_id"])
        for token in call.argument_tokens:
            event = {"type": "response.function_call_arguments.delta", "item_id": item["id"], "output_index": index,
                     "delta": token}
            if obfuscate is not None:
                event["obfuscation"] = obfuscate(len(token))
            yield event
        yield {"type": "response.function_call_arguments.done", "item_id": item["id"], "output_index": index,
               "arguments": item["arguments"], "name": item["name"]}
        yield {"type": "response.output_item.done", "output_index": index, "item": item}
        return
    yield {"type": "response.output_item.added", "output_index": index,
           "item": {**item, "status": "in_progress", "content": []}}
    part = item["content"][0]
    where = {"item_id": item["id"], "output_index": index, "content_index": 0}
    choice = plan.choice
    if part["type"] == "refusal":
        yield {"type": "response.content_part.added", **where, "part": {"type": "refusal", "refusal": ""}}
        for token in choice.refusal_tokens or ():
            yield {"type": "response.refusal.delta", **where, "delta": token}
        yield {"type": "response.refusal.done", **where, "refusal": part["refusal"]}
    else:
        yield {"type": "response.content_part.added", **where, "part": {**part, "text": "", "logprobs": []}}
        entries = part["logprobs"]
        for position, token in enumerate(choice.content_tokens or ()):
            event = {"type": "response.output_text.delta", **where, "delta": token,
                     "logprobs": [entries[position]] if entries else []}
            if obfuscate is not None:
                event["obfuscation"] = obfuscate(len(token))
            yield event
        yield {"type": "response.output_text.done", **where, "text": part["text"], "logprobs": entries}
    yield {"type": "response.content_part.done", **where, "part": part}
    yield {"type": "response.output_item.done", "output_index": index, "item": item}


def stream_objects(plan: ResponsePlan) -> list[dict[str, Any]]:
    """The typed events in order, numbered by `sequence_number` from 0: created, in_progress, each output
    item's events, then completed (or incomplete, when `max_output_tokens` cut the reply)."""
    include = (plan.request.get("stream_options") or {}).get("include_obfuscation", True)
    obfuscate = Obfuscator(plan.id) if include else None
    opening = response_object(plan, "in_progress", finished=False)
    events: list[dict[str, Any]] = [{"type": "response.created", "response": opening},
                                    {"type": "response.in_progress", "response": opening}]
    for index, item in enumerate(output_items(plan)):
        events += _item_events(plan, index, item, obfuscate)
    final = response_object(plan)
    events.append({"type": f"response.{final['status']}", "response": final})
    return [{"type": event["type"], "sequence_number": number, **{k: v for k, v in event.items() if k != "type"}}
            for number, event in enumerate(events)]


def stream(plan: ResponsePlan, request: Mapping[str, Any], quirk_names: tuple[str, ...]) -> list[bytes]:
    """Named events (`event: response.output_text.delta`), no `[DONE]`: the Responses API's framing."""
    events = quirks.apply_chunks(quirk_names, stream_objects(plan), NAME)
    return quirks.apply_events(quirk_names, [encode_event(event, event.get("type")) for event in events], NAME)


def pacing(plan: ResponsePlan) -> tuple[int, str]:
    choice = plan.choice
    tokens = len(choice.content_tokens or choice.refusal_tokens or ()) + sum(
        len(call.argument_tokens) + 1 for call in choice.tool_calls)
    return tokens + 1, plan.id


def keep(plan: ResponsePlan, request: Mapping[str, Any]) -> tuple[str, Stored] | None:
    """A response is stored unless `store: false`: its object, and its conversation with the output as
    the assistant's turn, which `previous_response_id` continues."""
    if request.get("store") is False:
        return None
    reply = conversation_of([item for item in output_items(plan) if item["type"] != "reasoning"])
    return STORE_PREFIX + plan.id, Stored(response_object(plan), (*plan.conversation, *reply))


def quick(body: Any) -> bool:
    """Tool schemas and structured formats may need their witnesses found; everything else is quick."""
    if not isinstance(body, dict):
        return True
    fmt = (body.get("text") or {}).get("format") if isinstance(body.get("text"), dict) else None
    return not body.get("tools") and not (isinstance(fmt, dict) and fmt.get("type") == "json_schema")


RESPONSES = Endpoint(
    name=NAME,
    method="POST",
    paths=("/responses",),
    validate=validate,
    plan=plan,
    scripted=scripted,
    body=body,
    stream=stream,
    pacing=pacing,
    quick=quick,
    keep=keep,
)


# -- retrieval ------------------------------------------------------------------------------------------

def _validate_retrieve(route: Any, options: ServeOptions) -> Validated:
    check_shared(options, "Retrieving a stored response", "response_id")
    stored = _stored(options, route["response_id"])
    if stored is None:
        raise _not_found("Response", route["response_id"], "response_id")
    return Validated({"response_id": route["response_id"]}, recalled=stored)


def _plan_retrieve(request: Mapping[str, Any], context: Context) -> Stored:
    return context.recalled


def _retrieve_body(plan: Stored, quirk_names: tuple[str, ...]) -> bytes:
    return orjson.dumps(plan.response)


def _unpaced(plan: Stored) -> tuple[int, str]:
    return 0, ""


RESPONSE = Endpoint(name=RETRIEVE, method="GET", paths=("/responses/{response_id}",), validate=_validate_retrieve,
                    plan=_plan_retrieve, body=_retrieve_body, pacing=_unpaced, reads_body=False, generates=False)
