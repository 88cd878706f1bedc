"""The mock reads bpe-openai's extension and vocabulary files itself (the package's import is slow): every
token's bytes, the special tokens and the encoding must be the package's own."""

from __future__ import annotations

import subprocess
import sys

import bpe_openai
import pytest

from mockserver.core.generate.vocabulary import SPECIAL_TOKENS, vocabulary

ENCODINGS = sorted(SPECIAL_TOKENS)


@pytest.mark.parametrize("name", ENCODINGS)
def test_every_token_has_the_packages_bytes(name: str) -> None:
    ours, theirs = vocabulary(name), bpe_openai.get_encoding(name)
    assert ours.max_token_value == theirs.max_token_value
    assert ours.special == theirs._special_tokens
    for token_id in range(ours.max_token_value + 1):
        try:
            expected = theirs.decode_single_token_bytes(token_id)
        except KeyError:
            with pytest.raises(KeyError):
                ours.decode_single_token_bytes(token_id)
            continue
        assert ours.decode_single_token_bytes(token_id) == expected, token_id
        assert ours.is_special_token(token_id) == theirs.is_special_token(token_id)
    assert ours.encode_single_token("<|endofprompt|>") == theirs.encode_single_token("<|endofprompt|>")


@pytest.mark.parametrize("name", ENCODINGS)
@pytest.mark.parametrize("text", ["", "Hello, world!", "it's 12345678 o'clock\n\n  ok", "<|endoftext|> as text",
                                  "naïve café 東京 🙂", "lone \ud800 surrogate"])
def test_encoding_matches_the_package(name: str, text: str) -> None:
    assert vocabulary(name).encode_ordinary(text) == bpe_openai.get_encoding(name).encode_ordinary(text)


def test_the_package_itself_is_not_imported() -> None:
    # What makes the mock's first request fast: counting a prompt must not import bpe_openai's __init__.
    # Importing the package afterwards (an application may) must still work, with the extension loaded once.
    probe = ("import sys; from mockserver.core.generate.tokenizer import count; "
             "assert count('Hello there', 'o200k_base') == 2; print('bpe_openai' in sys.modules); "
             "import bpe_openai; print(bpe_openai.get_encoding('o200k_base').encode_ordinary('Hello there'))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.split("\n")[:2] == ["False", "[13225, 1354]"]
