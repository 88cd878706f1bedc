"""The tokenizer module against bpe-openai's compiled tokenizer used whole (no length cap, one call)."""

from __future__ import annotations

from billing import count as reference_count
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.generate import requests as strategies
from mockserver.contract import model_info
from mockserver.core.generate import tokenizer
from mockserver.core.generate.tokenizer import (
    encode,
    encoding_of,
    is_token,
    piece_bytes,
    pieces,
    prompt_ids,
    prompt_tokens,
    token_bytes,
    tokenize,
)

MODELS = st.sampled_from(["gpt-4o", "gpt-4"])
FRAGMENTS = st.lists(st.sampled_from(["word", " word", "Word", " 123", "4567", " ", "  ", "\n", ".", "!?", "it's",
                                      " don't", "é", " 😀", "日本語", "\t", "a" * 9, "—", "_x_", " /"]) | st.text(max_size=6),
                     min_size=1, max_size=12)


@settings(max_examples=30)
@given(fragments=FRAGMENTS, model=MODELS)
def test_long_texts_encode_in_parts_exactly_as_whole(fragments: list[str], model: str) -> None:
    """Past one library call's length the text is cut where the pre-tokeniser cuts anyway: the count is the
    whole text's. (Each repetition ends in a letter, a space and a word, so every part has a place to be cut;
    one pre-token longer than a part, like 50,000 letters in a row, is the one case that may differ.)"""
    unit = "".join(fragments) + "x word"
    text = unit * (3 * tokenizer._CALL_CHARACTERS // len(unit) + 1)
    assert len(text) > 2 * tokenizer._CALL_CHARACTERS
    assert len(encode(text, encoding_of(model))) == reference_count(text, model)


@given(text=st.text(), model=MODELS)
def test_pieces_are_one_per_token_and_spell_the_text(text: str, model: str) -> None:
    encoding = encoding_of(model)
    ids = encode(text, encoding)
    assert len(ids) == reference_count(text, model)
    spelled = pieces(ids, encoding)
    assert len(spelled) == len(ids) and "".join(spelled) == text
    assert piece_bytes(spelled, encoding) == token_bytes(ids, encoding)
    assert b"".join(token_bytes(ids, encoding)) == text.encode()


def test_a_character_split_over_tokens_rides_on_the_token_that_completes_it() -> None:
    encoding = model_info("gpt-4").encoding
    text = "go 🦜!"
    ids = encode(text, encoding)
    spelled = pieces(ids, encoding)
    assert "" in spelled and "".join(spelled) == text
    cut = spelled[:spelled.index("") + 1]
    assert "🦜" not in "".join(cut)
    assert [len(b) for b in piece_bytes(spelled, encoding)] == [len(b) for b in token_bytes(ids, encoding)]


def test_special_tokens_and_gaps_are_not_tokens_a_model_writes() -> None:
    encoding = encoding_of("gpt-4o")
    assert is_token(encode("Hello", encoding)[0], encoding)
    assert not is_token(199_999, encoding)  # <|endoftext|>
    assert not is_token(10**7, encoding)
    assert not is_token(-1, encoding)
    spelled = tokenize("<|endoftext|>", encoding)
    assert "".join(spelled) == "<|endoftext|>" and len(spelled) > 1


@settings(max_examples=60)
@given(request=st.one_of(strategies.message_requests("gpt-4o-mini"), strategies.tool_requests("gpt-4o"),
                         strategies.structured_requests("gpt-4.1")))
def test_prompt_ids_are_as_many_as_the_prompt_is_billed(request: dict) -> None:
    """vLLM's `prompt_token_ids` hold the prompt token by token: as many ids as `prompt_tokens` counts."""
    with_documents = {**request, "documents": [{"title": "Tides", "text": "The moon pulls the sea."}]}
    for asked in (request, with_documents):
        assert len(prompt_ids(asked)) == prompt_tokens(asked)
