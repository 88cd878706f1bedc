"""OpenAI's own byte-pair encodings, for counting prompts, cutting replies and streaming them.

Each model reads and writes the encoding the model table names (`o200k_base` for the gpt-4o, 4.1, 5 and
o-series families, `cl100k_base` for gpt-4 and gpt-3.5), so `usage`, `max_tokens` cuts, stream chunks,
`logit_bias` ids and logprob `bytes` are the real API's. The encodings come from bpe-openai, a compiled BPE
whose wheel carries both vocabularies: nothing is downloaded at run time, so a machine without network
counts exactly what the API counts.

A reply is held as *pieces*, one string per real token, that concatenate to its text. A token that ends
inside a multi-byte character has the empty piece and the token that completes the character carries it,
so there is still one piece per token and every piece is valid text a stream can send.
"""

from __future__ import annotations

import codecs
import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import orjson

from mockserver.contract import model_info
from mockserver.core.generate.tool_prompt import response_format_tokens, tool_definition_tokens
from mockserver.core.generate.vocabulary import vocabulary
from mockserver.core.plan import ToolCallPlan

# bpe-openai refuses one call over a million characters or 200,000 tokens. A character is at most four
# tokens (one per UTF-8 byte), so 50,000 characters stay under both, and longer texts are encoded in
# parts cut where both encodings' pre-tokenisers start a new pre-token anyway: before a space between two
# letters, before ASCII punctuation other than an apostrophe (which may open a contraction) after a letter or
# digit, at the start of a run of digits. Digits are grouped in threes from the start of their run, so a
# run longer than a part is cut at a multiple of three. Only a single pre-token longer than a part (50,000
# letters in a row) is cut where the pre-tokeniser would not cut, which can move its count by a token.
_CALL_CHARACTERS = 50_000
_SAFE_CUT = re.compile(r"(?<=[^\W\d_])(?= [^\W\d_])|(?<=[A-Za-z0-9])(?=[!-&(-/:-@\[-`{-~])|(?<![0-9])(?=[0-9])")
_DIGITS_BEFORE = re.compile(r"[0-9]+\Z")

# Per-message framing, as the API bills it (checked against recorded usage): three tokens open each
# message, its role and content follow, a name costs one more, and three prime the reply.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3
# What a reply costs beyond its visible text, as the recorded replies bill it: a tool call is its
# arguments, its name and seven tokens of framing; a refusal is its text and one more. Parallel calls are
# one call of the model's `multi_tool_use.parallel` wrapper, billed as that wrapper's compact JSON
# (`{"tool_uses":[{"recipient_name":"functions.NAME","parameters":ARGUMENTS},...]}`) and ten more.
TOOL_CALL_FRAMING = 7
REFUSAL_FRAMING = 1
PARALLEL_FRAMING = 10

_IMAGE_TOKENS = {"low": 85, "high": 765, "auto": 765}
_AUDIO_BYTES_PER_TOKEN = 400
_FILE_BYTES_PER_TOKEN = 600


def encoding_of(model: str) -> str:
    return model_info(model).encoding


def _cut(text: str, start: int) -> int:
    """Where the part of `text` that begins at `start` ends: the last safe cut in the second half of the
    window (see `_CALL_CHARACTERS`), else at a multiple of three inside a run of digits, else the window's end."""
    end = start + _CALL_CHARACTERS
    if end >= len(text):
        return len(text)
    floor = start + _CALL_CHARACTERS // 2
    last = None
    for last in _SAFE_CUT.finditer(text, floor, end):
        pass
    if last is not None:
        return last.start()
    if "0" <= text[end - 1] <= "9" and "0" <= text[end] <= "9":
        run = _DIGITS_BEFORE.search(text, 0, end)
        if run is not None:
            grouped = end - (end - run.start()) % 3
            if grouped > start:
                return grouped
    return end


def encode(text: str, encoding: str) -> list[int]:
    """The token ids of `text`, special-token text included as plain text (as user content is)."""
    library = vocabulary(encoding)
    if len(text) <= _CALL_CHARACTERS:
        return library.encode_ordinary(text)
    ids: list[int] = []
    start = 0
    while start < len(text):
        end = _cut(text, start)
        ids.extend(library.encode_ordinary(text[start:end]))
        start = end
    return ids


# System prompts and conversation history repeat from request to request; counting each distinct short
# text once keeps prompt accounting off the hot path, and long texts are counted afresh so the cache never
# holds large bodies.
_CACHED_TEXT_LENGTH = 2048


@functools.lru_cache(maxsize=8192)
def _cached_count(text: str, encoding: str) -> int:
    return len(encode(text, encoding))


def count(text: str, encoding: str) -> int:
    """Long texts are counted part by part (cut where `encode` cuts them, so the count is the same), so
    counting a large prompt never holds the list of all its tokens."""
    if len(text) <= _CACHED_TEXT_LENGTH:
        return _cached_count(text, encoding)
    library = vocabulary(encoding)
    total = start = 0
    while start < len(text):
        end = _cut(text, start)
        total += len(library.encode_ordinary(text[start:end]))
        start = end
    return total


def is_token(token_id: int, encoding: str) -> bool:
    """Whether a model could emit `token_id`: a vocabulary entry, not a special token or a gap."""
    library = vocabulary(encoding)
    if not 0 <= token_id <= library.max_token_value or library.is_special_token(token_id):
        return False
    try:
        library.decode_single_token_bytes(token_id)
    except KeyError:
        return False
    return True


def token_bytes(ids: Iterable[int], encoding: str) -> list[bytes]:
    decode = vocabulary(encoding).decode_single_token_bytes
    return [decode(token_id) for token_id in ids]


@functools.cache
def _whole_pieces(encoding: str) -> dict[int, str | None]:
    """Each token's text once decoded, None for a token that holds part of a character; filled as tokens
    are met, since decoding a token costs more than looking it up."""
    return {}


def _whole_piece(token_id: int, encoding: str) -> str | None:
    try:
        text = vocabulary(encoding).decode_single_token_bytes(token_id).decode()
    except UnicodeDecodeError:
        text = None
    _whole_pieces(encoding)[token_id] = text
    return text


def pieces(ids: Sequence[int], encoding: str) -> list[str]:
    """One string per token, concatenating to the decoded text (see the module's docstring). Bytes that no
    later token completes are left out, as a reply cut inside a character shows nothing of it."""
    known = _whole_pieces(encoding)
    spelled = list(map(known.get, ids))
    if None in spelled:
        spelled = [known[token_id] if token_id in known else _whole_piece(token_id, encoding) for token_id in ids]
    if None not in spelled:
        return spelled  # type: ignore[return-value]
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    decode = vocabulary(encoding).decode_single_token_bytes
    return [decoder.decode(decode(token_id)) for token_id in ids]


def tokenize(text: str, encoding: str) -> list[str]:
    return pieces(encode(text, encoding), encoding)


def piece_bytes(text_pieces: Sequence[str], encoding: str) -> list[bytes]:
    """The token bytes behind each piece (what logprobs report). Only a character split over several
    tokens makes them differ from the piece's own UTF-8; those replies are re-encoded to find them."""
    if all(text_pieces):
        return [piece.encode() for piece in text_pieces]
    ids = encode("".join(text_pieces), encoding)
    if len(ids) == len(text_pieces):
        return token_bytes(ids, encoding)
    return [piece.encode() for piece in text_pieces]


def piece_ids(text_pieces: Sequence[str], encoding: str) -> list[int]:
    """The token ids behind a reply's pieces (what vLLM's `token_ids` report): one per piece when each
    piece is a whole token, else the ids of the whole text."""
    ids = [_single_id(piece, encoding) for piece in text_pieces]
    if None not in ids:
        return ids  # type: ignore[return-value]
    return encode("".join(text_pieces), encoding)


@functools.lru_cache(maxsize=8192)
def _single_id(piece: str, encoding: str) -> int | None:
    ids = encode(piece, encoding)
    return ids[0] if len(ids) == 1 else None


def documents_tokens(documents: Any, encoding: str) -> int:
    """RAG documents as a chat template renders them into the prompt."""
    return count(orjson.dumps(documents, option=orjson.OPT_SORT_KEYS).decode(), encoding) if documents else 0


def _parallel(calls: Sequence[ToolCallPlan]) -> bool:
    return len(calls) > 1 and all(call.kind == "function" for call in calls)


def _wrapper_lead(call: ToolCallPlan, first: bool) -> str:
    """The wrapper's text before one call's arguments."""
    return ('{"tool_uses":[' if first else "},") + '{"recipient_name":' + orjson.dumps(
        "functions." + call.name).decode() + ',"parameters":'


def calls_tokens(calls: Sequence[ToolCallPlan], encoding: str) -> int:
    """What a reply's tool calls cost in `completion_tokens`."""
    if not _parallel(calls):
        return sum(len(call.argument_tokens) + count(call.name, encoding) + TOOL_CALL_FRAMING for call in calls)
    wrapper = "".join(_wrapper_lead(call, i == 0) + call.arguments for i, call in enumerate(calls)) + "}]}"
    return count(wrapper, encoding) + PARALLEL_FRAMING


def call_leads(calls: Sequence[ToolCallPlan], encoding: str) -> list[int]:
    """The tokens each call spends before its first argument token (its name and framing, or its part of
    the parallel wrapper), which a token limit reaches first."""
    if not _parallel(calls):
        return [count(call.name, encoding) + TOOL_CALL_FRAMING for call in calls]
    return [count(_wrapper_lead(call, i == 0), encoding) + (PARALLEL_FRAMING if i == 0 else 0)
            for i, call in enumerate(calls)]


def _part_tokens(part: Mapping[str, Any], encoding: str) -> int:
    kind = part.get("type")
    if kind in ("text", "refusal"):
        return count(part.get(kind) or "", encoding)
    if kind == "image_url":
        detail = (part.get("image_url") or {}).get("detail") or "auto"
        return _IMAGE_TOKENS.get(detail, _IMAGE_TOKENS["auto"])
    if kind == "input_audio":
        data = (part.get("input_audio") or {}).get("data") or ""
        return max(1, len(data) // _AUDIO_BYTES_PER_TOKEN)
    if kind == "file":
        data = (part.get("file") or {}).get("file_data") or ""
        return max(1, len(data) // _FILE_BYTES_PER_TOKEN)
    return 0


def content_tokens(content: Any, encoding: str) -> int:
    if isinstance(content, str):
        return count(content, encoding)
    if isinstance(content, list):
        return sum(_part_tokens(part, encoding) for part in content if isinstance(part, Mapping))
    return 0


def _history_call_tokens(call: Mapping[str, Any], encoding: str) -> int:
    """A call in the history costs what a single call costs when the model makes it."""
    inner = call.get(call.get("type", "function")) or {}
    text = inner.get("arguments", inner.get("input", ""))
    return count(text if isinstance(text, str) else "", encoding) + count(inner.get("name") or "", encoding) + \
        TOOL_CALL_FRAMING


def message_tokens(message: Mapping[str, Any], encoding: str) -> int:
    total = TOKENS_PER_MESSAGE + count(message.get("role") or "", encoding)
    total += content_tokens(message.get("content"), encoding)
    if message.get("name"):
        total += TOKENS_PER_NAME + count(message["name"], encoding)
    for call in message.get("tool_calls") or ():
        total += _history_call_tokens(call, encoding)
    if message.get("function_call"):
        total += _history_call_tokens({"type": "function", "function": message["function_call"]}, encoding)
    if message.get("audio"):
        total += count(str((message["audio"] or {}).get("id", "")), encoding)
    return total


def prompt_audio_tokens(request: Mapping[str, Any]) -> int:
    """The share of the prompt that is audio input, which usage reports on its own."""
    encoding = encoding_of(request["model"])
    return sum(_part_tokens(part, encoding) for message in request["messages"] if isinstance(message.get("content"), list)
               for part in message["content"] if isinstance(part, Mapping) and part.get("type") == "input_audio")


def prompt_tokens(request: Mapping[str, Any]) -> int:
    """Tokens the request's prompt costs: messages, plus the tool and schema definitions the model reads
    (and the RAG `documents` a compatibility profile lets through, which the chat template renders)."""
    encoding = encoding_of(request["model"])
    total = sum(message_tokens(m, encoding) for m in request["messages"]) + REPLY_PRIMING
    if request.get("tools") or request.get("functions"):
        total += _definitions_tokens(orjson.dumps([request.get("tools"), request.get("functions")]), encoding)
    total += documents_tokens(request.get("documents"), encoding)
    response_format = request.get("response_format")
    if isinstance(response_format, Mapping) and response_format.get("type") == "json_schema":
        total += _schema_tokens(orjson.dumps(response_format.get("json_schema") or {}), encoding)
    return total


def _framing_id(encoding: str) -> int:
    """The id standing for tokens the prompt is billed for but holds no text of (message framing, an
    image, the constants a tool list costs): the encoding's end-of-prompt special token."""
    return vocabulary(encoding).encode_single_token("<|endofprompt|>")


def _content_ids(content: Any, encoding: str, framing: int) -> list[int]:
    if isinstance(content, str):
        return encode(content, encoding)
    ids: list[int] = []
    for part in content if isinstance(content, list) else ():
        if not isinstance(part, Mapping):
            continue
        kind = part.get("type")
        ids += encode(part.get(kind) or "", encoding) if kind in ("text", "refusal") else \
            [framing] * _part_tokens(part, encoding)
    return ids


def _call_ids(call: Mapping[str, Any], encoding: str, framing: int) -> list[int]:
    inner = call.get(call.get("type", "function")) or {}
    text = inner.get("arguments", inner.get("input", ""))
    return encode(text if isinstance(text, str) else "", encoding) + encode(inner.get("name") or "", encoding) + \
        [framing] * TOOL_CALL_FRAMING


def _message_ids(message: Mapping[str, Any], encoding: str, framing: int) -> list[int]:
    """`message_tokens`, token by token."""
    ids = [framing] * TOKENS_PER_MESSAGE + encode(message.get("role") or "", encoding)
    ids += _content_ids(message.get("content"), encoding, framing)
    if message.get("name"):
        ids += [framing] * TOKENS_PER_NAME + encode(message["name"], encoding)
    for call in message.get("tool_calls") or ():
        ids += _call_ids(call, encoding, framing)
    if message.get("function_call"):
        ids += _call_ids({"type": "function", "function": message["function_call"]}, encoding, framing)
    if message.get("audio"):
        ids += encode(str((message["audio"] or {}).get("id", "")), encoding)
    return ids


def _measured_ids(measure: Callable[[Callable[[str], int]], int], encoding: str, framing: int) -> list[int]:
    """The ids of the texts a counting function measures, and framing ids for what it adds to them."""
    ids: list[int] = []

    def record(text: str) -> int:
        found = encode(text, encoding)
        ids.extend(found)
        return len(found)

    total = measure(record)
    return ids + [framing] * (total - len(ids))


def prompt_ids(request: Mapping[str, Any]) -> list[int]:
    """The prompt as token ids, as many as `prompt_tokens` bills: the texts' own ids in order, and the
    end-of-prompt token for what the count adds without text (framing, images, files, audio)."""
    encoding = encoding_of(request["model"])
    framing = _framing_id(encoding)
    ids = [token for message in request["messages"] for token in _message_ids(message, encoding, framing)]
    ids += [framing] * REPLY_PRIMING
    if request.get("tools") or request.get("functions"):
        tools = request.get("tools") or ()
        functions = [tool.get("function") or {} for tool in tools if tool.get("type") == "function"]
        functions += list(request.get("functions") or ())
        custom = [tool.get("custom") or {} for tool in tools if tool.get("type") == "custom"]
        ids += _measured_ids(lambda measure: tool_definition_tokens(functions, custom, measure), encoding, framing)
    if request.get("documents"):
        ids += encode(orjson.dumps(request["documents"], option=orjson.OPT_SORT_KEYS).decode(), encoding)
    response_format = request.get("response_format")
    if isinstance(response_format, Mapping) and response_format.get("type") == "json_schema":
        ids += _measured_ids(lambda measure: response_format_tokens(response_format.get("json_schema") or {}, measure),
                             encoding, framing)
    return ids


# An agent sends the same tools and schema with every turn: rendering and counting them once per distinct
# definition (keyed by their JSON as sent, since order shows in the rendering) keeps them off the hot path.
@functools.lru_cache(maxsize=1024)
def _definitions_tokens(definitions: bytes, encoding: str) -> int:
    tools, legacy = orjson.loads(definitions)
    functions = [tool.get("function") or {} for tool in tools or () if tool.get("type") == "function"]
    custom = [tool.get("custom") or {} for tool in tools or () if tool.get("type") == "custom"]
    functions += list(legacy or ())
    return tool_definition_tokens(functions, custom, lambda text: count(text, encoding))


@functools.lru_cache(maxsize=1024)
def _schema_tokens(json_schema: bytes, encoding: str) -> int:
    return response_format_tokens(orjson.loads(json_schema), lambda text: count(text, encoding))
