"""Hypothesis strategies for valid chat completion request bodies."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

TEXT = st.text(st.characters(codec="utf-8", categories=("L", "N", "P", "Zs")), min_size=1, max_size=40)
MESSAGES = st.lists(
    st.fixed_dictionaries({"role": st.sampled_from(["user", "system", "developer"]), "content": TEXT}),
    min_size=1, max_size=3,
).map(lambda messages: [*messages, {"role": "user", "content": "Continue (in JSON when JSON mode is on)."}])
CHAT_MODELS = st.sampled_from(["gpt-4o-mini", "gpt-4.1", "gpt-3.5-turbo", "my-finetune"])


@st.composite
def _logprobs(draw: st.DrawFn) -> dict[str, Any]:
    top = draw(st.none() | st.integers(0, 20))
    return {"logprobs": True} if top is None else {"logprobs": True, "top_logprobs": top}


# Fields that shape the reply's text.
SHAPING = st.fixed_dictionaries({}, optional={
    "seed": st.integers(-2**63, 2**63 - 1),
    "temperature": st.floats(0.1, 2),
    "top_p": st.floats(0, 1),
    "n": st.integers(1, 3),
    "presence_penalty": st.floats(-2, 2),
    "frequency_penalty": st.floats(-2, 2),
    "response_format": st.sampled_from([{"type": "text"}, {"type": "json_object"}]),
})
# Fields that change the reply's length or layout.
LIMITING = st.fixed_dictionaries({}, optional={
    "max_tokens": st.integers(1, 80),
    "stop": st.sampled_from(["\n", ".", " the", ["and", " a"], ["e"]]),
})
# Fields that describe the delivery or the caller, never the text.
DELIVERY = st.fixed_dictionaries({}, optional={
    "user": st.text(max_size=12),
    "metadata": st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=8), max_size=3),
    "store": st.booleans(),
    "service_tier": st.sampled_from(["auto", "default", "flex", "priority"]),
    "stream": st.just(False),
    "safety_identifier": st.text(max_size=12),
    "prompt_cache_key": st.text(max_size=12),
})


def _merge(*parts: dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for part in parts:
        merged.update(part)
    return merged


def bodies(model: st.SearchStrategy[str] = CHAT_MODELS, limiting: bool = True,
           logprobs: bool = True) -> st.SearchStrategy[dict[str, Any]]:
    """Valid requests; `limiting=False` keeps natural lengths, so two texts can only match by design."""
    return st.builds(
        _merge,
        st.fixed_dictionaries({"model": model, "messages": MESSAGES}),
        SHAPING,
        LIMITING if limiting else st.just({}),
        (st.none() | _logprobs()).map(lambda x: x or {}) if logprobs else st.just({}),
        DELIVERY,
    )
