"""OpenAI's encodings as the mock uses them: bpe-openai's compiled encoder, and each token's bytes.

Importing the bpe-openai package decodes all three vocabularies its wheel carries (one the mock never
uses) into dictionaries, about 0.7 s that every test session starting the mock would pay before its first
request. The mock needs less: the compiled encoder, which the package's extension module builds by
itself, and a table from token id to bytes, read from the same vocabulary files (a token's id is its line
number there). Reading those two directly takes under a tenth of the time; `tests/core/test_vocabulary.py`
holds every token's bytes and the special tokens to the package's own.
"""

from __future__ import annotations

import binascii
import functools
import gzip
import importlib.machinery
import importlib.util
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

_PACKAGE = "bpe_openai"
_EXTENSION = "bpe_openai._bindings"

SPECIAL_TOKENS: Mapping[str, Mapping[str, int]] = {
    "o200k_base": {"<|endoftext|>": 199_999, "<|endofprompt|>": 200_018},
    "cl100k_base": {"<|endoftext|>": 100_257, "<|fim_prefix|>": 100_258, "<|fim_middle|>": 100_259,
                    "<|fim_suffix|>": 100_260, "<|endofprompt|>": 100_276},
}
"""The special tokens of each encoding, which the vocabulary files leave out."""


def _package_folder() -> Path:
    """Where bpe-openai is installed, found without importing it (which is the cost avoided here)."""
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("bpe-openai is not installed (pip install bpe-openai)")
    return Path(next(iter(spec.submodule_search_locations)))


@functools.cache
def _extension() -> ModuleType:
    """The compiled module, loaded once per process under its own name, so that importing the package
    later (tests compare with it) finds it there rather than initialising it a second time, which the
    extension refuses."""
    loaded = sys.modules.get(_EXTENSION)
    if loaded is not None:
        return loaded
    folder = _package_folder()
    path = next(path for suffix in importlib.machinery.EXTENSION_SUFFIXES
                for path in sorted(folder.glob("_bindings*")) if path.name.endswith(suffix))
    loader = importlib.machinery.ExtensionFileLoader(_EXTENSION, str(path))
    spec = importlib.util.spec_from_loader(_EXTENSION, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    sys.modules[_EXTENSION] = module
    return module


def _token_bytes(name: str, special: Mapping[str, int]) -> list[bytes]:
    """Id to bytes: each line of the vocabulary file is a token's base64 bytes and its id, in id order;
    special tokens stand for their own text; ids that are neither are empty."""
    raw = gzip.decompress((_package_folder() / "data" / f"{name}.tiktoken.gz").read_bytes())
    table = [binascii.a2b_base64(line.partition(b" ")[0]) for line in raw.splitlines() if line]
    table.extend([b""] * (max(special.values()) + 1 - len(table)))
    for text, token_id in special.items():
        table[token_id] = text.encode()
    return table


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """One encoding: the methods of tiktoken's `Encoding` the mock calls, with the same answers."""

    name: str
    encoder: Any
    table: list[bytes]
    special: Mapping[str, int]

    @property
    def max_token_value(self) -> int:
        return len(self.table) - 1

    def encode_ordinary(self, text: str) -> list[int]:
        """Special-token text is encoded as plain text; lone surrogates (which UTF-8 cannot carry) become
        U+FFFD first, as the package does."""
        try:
            return self.encoder.encode(text)
        except UnicodeEncodeError:
            return self.encoder.encode(text.encode("utf-16", "surrogatepass").decode("utf-16", "replace"))

    def decode_single_token_bytes(self, token_id: int) -> bytes:
        found = self.table[token_id] if 0 <= token_id < len(self.table) else b""
        if not found:
            raise KeyError(f"token id {token_id} is not in {self.name}")
        return found

    def is_special_token(self, token_id: int) -> bool:
        return token_id in self.special.values()

    def encode_single_token(self, text: str) -> int:
        return self.special[text]


@functools.cache
def vocabulary(name: str) -> Vocabulary:
    special = SPECIAL_TOKENS[name]
    return Vocabulary(name, _extension().tokenizer_for_encoding(name), _token_bytes(name, special), special)
