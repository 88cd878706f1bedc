"""Requests that exercise what a compatibility profile adds, with the profile's own parameters.

The parameters' names and bounds come from the profile table (`fixtures/profiles.json`), the one the mock
serves the profiles from: vLLM's guided decoding and sampling extensions, the watsonx.ai gateway's cache
and router, and, for the Enkrypt AI proxy, user messages holding what its detectors look for.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from conformance.generate.coverage import Coverage
from conformance.generate.requests import WORDS, Request, chat_request, conversation, for_model, object_schema, text
from mockserver.contract.profiles import profile

ROUTE = "/chat/completions"
GUIDED_PATTERNS = (r"[0-9]{3}-[0-9]{4}", r"(yes|no|maybe)", r"[a-z]+( [a-z]+){0,3}", r"v[0-9]\.[0-9]{1,2}")
"""Expressions every guided-decoding backend takes (no anchors, no lookarounds)."""
_EMAILS = ("ada@example.com", "grace.hopper@navy.example.org", "j.doe@mail.example.net")


def _schema(profile_name: str, name: str) -> Mapping[str, Any]:
    return profile(profile_name).parameters_for(ROUTE)[name].schema


def _scaled(profile_name: str, name: str, step: float) -> st.SearchStrategy[float]:
    """Multiples of `step` within the parameter's bounds (an exclusive minimum left out)."""
    schema = _schema(profile_name, name)
    exclusive = "exclusiveMinimum" in schema
    first = round(schema["exclusiveMinimum" if exclusive else "minimum"] / step) + int(exclusive)
    return st.integers(first, round(schema["maximum"] / step)).map(lambda i: round(i * step, 6))


@functools.cache
def _guided() -> st.SearchStrategy[dict[str, Any]]:
    choice = st.lists(st.sampled_from(WORDS), min_size=1, max_size=4, unique=True).map(
        lambda words: {"guided_choice": words})
    regex = st.sampled_from(GUIDED_PATTERNS).map(lambda pattern: {"guided_regex": pattern})
    schema = object_schema(False).map(lambda schema: {"guided_json": schema})
    return st.one_of(choice, regex, schema)


@for_model
def vllm_guided_requests(model: str) -> st.SearchStrategy[Request]:
    """One kind of guided decoding per request (vLLM takes one at a time), streamed or not."""
    return st.tuples(chat_request(model, conversation(), optional={"stream": st.just(True)}), _guided()).map(
        lambda pair: {**pair[0], **pair[1]})


@for_model
def vllm_sampling_requests(model: str) -> st.SearchStrategy[Request]:
    """vLLM's sampling extensions, within the bounds the profile gives them."""
    return chat_request(model, conversation(), optional={
        "top_k": st.integers(_schema("vllm", "top_k")["minimum"], 50),
        "min_p": _scaled("vllm", "min_p", 0.05),
        "repetition_penalty": _scaled("vllm", "repetition_penalty", 0.25),
        "min_tokens": st.integers(0, 4),
        "max_tokens": st.integers(8, 16),
    })


@for_model
def watsonx_cache_requests(model: str) -> st.SearchStrategy[Request]:
    """Non-streamed requests with the gateway's cache enabled, some with a router."""
    cache = st.integers(0, 10).map(lambda tenth: {"enabled": True, "threshold": tenth / 10})
    router = st.fixed_dictionaries({}, optional={
        "optimization": st.sampled_from(("cost", "efficacy")),
        "quality_tradeoff": st.integers(0, 10).map(lambda tenth: tenth / 10),
    })
    return chat_request(model, conversation(), required={"cache": cache},
                        optional={"router": router, "seed": st.integers(0, 2**31 - 1)})


@for_model
def enkrypt_requests(model: str) -> st.SearchStrategy[Request]:
    """Chat through the proxy: plain user messages, and user messages holding an email address."""
    with_email = st.tuples(text(4), st.sampled_from(_EMAILS)).map(lambda pair: f"{pair[0]}, write to {pair[1]}")
    last = st.one_of(text(), with_email).map(lambda content: {"role": "user", "content": content})
    return chat_request(model, st.tuples(conversation(), last).map(lambda pair: [*pair[0][:-1], pair[1]]),
                        optional={"max_tokens": st.integers(4, 16)})


def _present(*names: str) -> Any:
    def classify(request: Any) -> frozenset[str]:
        return frozenset(name for name in names if isinstance(request, Mapping) and name in request)
    return classify


def _guided_variants(request: Any) -> frozenset[str]:
    seen = set(_present("guided_choice", "guided_regex", "guided_json")(request))
    return frozenset(seen | ({"streamed"} if isinstance(request, Mapping) and request.get("stream") else set()))


VLLM_GUIDED = Coverage(("guided_choice", "guided_regex", "guided_json", "streamed"), _guided_variants)
VLLM_SAMPLING = Coverage(("top_k", "min_p", "repetition_penalty", "min_tokens"),
                         _present("top_k", "min_p", "repetition_penalty", "min_tokens"))
WATSONX_CACHE = Coverage(("cache", "router"), _present("cache", "router"))


def _email(request: Any) -> frozenset[str]:
    messages = request.get("messages") if isinstance(request, Mapping) else None
    last = messages[-1].get("content") if isinstance(messages, list) and messages else ""
    return frozenset({"an email address in the prompt" if "@" in str(last) else "a plain prompt"})


ENKRYPT = Coverage(("a plain prompt", "an email address in the prompt"), _email)
