"""The mock reads bpe-openai's extension and vocabulary files itself (the package's import is slow): every
token's bytes, the special tokens and the encoding must be the package's own.

The package is imported only in a child process: it holds all three of its vocabularies in memory (some
300 MB), which would stay in the test worker and count in the peak memory of every process it starts."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mockserver.core.generate.vocabulary import SPECIAL_TOKENS

TEXTS = ["", "Hello, world!", "it's 12345678 o'clock\n\n  ok", "<|endoftext|> as text", "naïve café 東京 🙂",
         "lone \ud800 surrogate"]

_COMPARE = r'''
import json, sys
from mockserver.core.generate.vocabulary import vocabulary
import bpe_openai

name, texts = sys.argv[1], json.loads(sys.argv[2])
ours, theirs = vocabulary(name), bpe_openai.get_encoding(name)
differ = []
for token_id in range(max(ours.max_token_value, theirs.max_token_value) + 1):
    try:
        expected = theirs.decode_single_token_bytes(token_id)
    except KeyError:
        expected = None
    try:
        found = ours.decode_single_token_bytes(token_id)
    except KeyError:
        found = None
    if found != expected or (expected is not None and
                             ours.is_special_token(token_id) != theirs.is_special_token(token_id)):
        differ.append(token_id)
print(json.dumps({
    "max": [ours.max_token_value, theirs.max_token_value],
    "special": ours.special == theirs._special_tokens,
    "endofprompt": [ours.encode_single_token("<|endofprompt|>"), theirs.encode_single_token("<|endofprompt|>")],
    "differ": differ[:20],
    "encodings": [ours.encode_ordinary(text) == theirs.encode_ordinary(text) for text in texts],
}))
'''


@pytest.mark.parametrize("name", sorted(SPECIAL_TOKENS))
def test_every_token_and_encoding_is_the_packages(name: str) -> None:
    texts = json.dumps(TEXTS, ensure_ascii=True)
    done = subprocess.run([sys.executable, "-c", _COMPARE, name, texts], capture_output=True, text=True,
                          timeout=300, check=True)
    found = json.loads(done.stdout)
    assert found["max"][0] == found["max"][1] > 100_000
    assert found["special"] and found["endofprompt"][0] == found["endofprompt"][1]
    assert found["differ"] == []
    assert found["encodings"] == [True] * len(TEXTS)


def test_the_package_itself_is_not_imported() -> None:
    # What makes the mock's first request fast: counting a prompt must not import bpe_openai's __init__.
    # Importing the package afterwards (an application may) must still work, with the extension loaded once.
    probe = ("import sys; from mockserver.core.generate.tokenizer import count; "
             "assert count('Hello there', 'o200k_base') == 2; print('bpe_openai' in sys.modules); "
             "import bpe_openai; print(bpe_openai.get_encoding('o200k_base').encode_ordinary('Hello there'))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.split("\n")[:2] == ["False", "[13225, 1354]"]
