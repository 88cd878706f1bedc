"""Seeded English prose, produced directly as tokens so that replies can be cut, streamed and scored.

A small phrase grammar gives sentences that read like an assistant talking ("The careful team quickly
reviews a clear plan before the next release."), which makes test output easier to eyeball than lorem
ipsum, while staying a pure function of the random source.
"""

from __future__ import annotations

import functools
import random

from mockserver.core.generate.tokenizer import encode, pieces, tokenize

_DETERMINERS = ("the", "a", "every", "this", "our", "each", "that", "your")
_ADJECTIVES = (
    "careful", "quiet", "simple", "clear", "bright", "steady", "useful", "honest", "patient", "modern",
    "gentle", "practical", "curious", "reliable", "small", "quick", "thoughtful", "friendly", "robust",
    "detailed", "open", "calm", "precise", "flexible", "early", "local", "shared", "final", "fresh", "common",
)
_NOUNS = (
    "team", "plan", "engineer", "garden", "library", "river", "report", "method", "question", "answer",
    "teacher", "project", "system", "idea", "city", "market", "process", "design", "review", "model",
    "student", "window", "journey", "kitchen", "server", "schedule", "message", "approach", "community",
    "budget", "story", "result", "feature", "bridge", "harbor", "recipe", "signal", "decision", "draft",
)
_VERBS = (
    "reviews", "builds", "explains", "improves", "supports", "describes", "shapes", "follows", "tests",
    "organizes", "measures", "shares", "changes", "considers", "protects", "prepares", "compares",
    "welcomes", "summarizes", "solves", "delivers", "explores", "connects", "balances", "documents",
)
_ADVERBS = (
    "quickly", "carefully", "often", "rarely", "clearly", "gently", "usually", "quietly", "gradually",
    "openly", "simply", "patiently", "steadily", "eagerly", "briefly",
)
_PREPOSITIONS = ("before", "after", "during", "around", "across", "near", "without", "beyond", "within")
_CLOSERS = (".", ".", ".", "!", ".")

WORD_CLASSES: tuple[tuple[str, ...], ...] = (
    _DETERMINERS, _ADJECTIVES, _NOUNS, _VERBS, _ADVERBS, _PREPOSITIONS,
)


def _below(rng: random.Random, n: int) -> int:
    """A uniform draw from range(n), the way CPython's `randrange(n)` draws it, without its argument
    handling (a third of the generator's time): the same text, on every Python version."""
    bits = n.bit_length()
    value = rng.getrandbits(bits)
    while value >= n:
        value = rng.getrandbits(bits)
    return value


def _pick(rng: random.Random, words: tuple[str, ...], lead: str, capital: bool, encoding: str,
          banned: frozenset[int]) -> list[str] | None:
    """One word's pieces, avoiding words with a banned token; None when every word in the class has one."""
    start = _below(rng, len(words))
    for offset in range(len(words)):
        word = words[(start + offset) % len(words)]
        ids, word_pieces = _form(lead + (word.capitalize() if capital else word), encoding)
        if banned.isdisjoint(ids):
            return list(word_pieces)
    return None


@functools.lru_cache(maxsize=4096)
def _form(text: str, encoding: str) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """The token ids and pieces of one word form (" careful", "The", "."), which banning works on."""
    ids = encode(text, encoding)
    return tuple(ids), tuple(pieces(ids, encoding))


def _sentence_shape(rng: random.Random) -> list[tuple[str, ...]]:
    shape: list[tuple[str, ...]] = [_DETERMINERS]
    if rng.random() < 0.7:
        shape.append(_ADJECTIVES)
    shape.append(_NOUNS)
    if rng.random() < 0.4:
        shape.append(_ADVERBS)
    shape += [_VERBS, _DETERMINERS]
    if rng.random() < 0.5:
        shape.append(_ADJECTIVES)
    shape.append(_NOUNS)
    if rng.random() < 0.45:
        shape += [_PREPOSITIONS, _DETERMINERS, _NOUNS]
    return shape


def generate_tokens(
    rng: random.Random,
    length: int,
    encoding: str,
    banned: frozenset[int] = frozenset(),
    forced: int | None = None,
    continuing: bool = False,
) -> list[str]:
    """Whole sentences, at least `length` tokens of them, as pieces of `encoding`: a reply that stops of its
    own accord ends a sentence, as a model's does (`max_tokens` cuts it short later, with finish_reason
    "length"). `continuing` text follows earlier text, so its first word takes a leading space.

    `forced` (a token id that logit_bias +100 demands) replaces every pick, which is what a real model
    does under exclusive bias; `banned` ids (logit_bias -100) never appear.
    """
    if forced is not None:
        return pieces([forced] * length, encoding)
    if not banned:
        return _free_tokens(rng, length, encoding, continuing)
    tokens: list[str] = []
    while len(tokens) < length:
        shape = _sentence_shape(rng)
        first = True
        for words in shape:
            lead = "" if not tokens and not continuing else " "
            word_pieces = _pick(rng, words, lead, first, encoding, banned)
            if word_pieces is None:
                continue
            tokens += word_pieces
            first = False
        closers = [closer for closer in _CLOSERS if banned.isdisjoint(_form(closer, encoding)[0])]
        if closers:
            tokens += _form(closers[_below(rng, len(closers))], encoding)[1]
        elif first:
            break
    return tokens


_BANK_BITS = 12
_BANK_SIZE = 1 << _BANK_BITS
_PICKS_PER_DRAW = 16
_BANK_SEED = 0x5EED


@functools.cache
def _sentence_texts() -> tuple[tuple[str, str], ...]:
    """Sentences drawn once from the grammar with a fixed seed, each in two forms: opening a reply and
    following another sentence. Drawing whole sentences costs one random number instead of a dozen,
    which is most of what a plain reply costs to generate."""
    rng = random.Random(_BANK_SEED)
    bank = []
    for _ in range(_BANK_SIZE):
        words = [words[_below(rng, len(words))] for words in _sentence_shape(rng)]
        closer = _CLOSERS[_below(rng, len(_CLOSERS))]
        text = " ".join([words[0].capitalize(), *words[1:]]) + closer
        bank.append((text, " " + text))
    return tuple(bank)


@functools.cache
def _sentence_bank(encoding: str) -> tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]:
    """The sentences as pieces of one encoding. A sentence ends in punctuation and the next begins with a
    space and a letter, where both encodings start a new pre-token, so sentences encoded one by one join
    into exactly the encoding of the whole reply."""
    return tuple((tuple(tokenize(opening, encoding)), tuple(tokenize(following, encoding)))
                 for opening, following in _sentence_texts())


def _free_tokens(rng: random.Random, length: int, encoding: str, continuing: bool) -> list[str]:
    """`generate_tokens` when nothing is banned: whole sentences from the bank, their indices cut from
    one wide draw (the bank's size is a power of two, so no draw is wasted)."""
    bank = _sentence_bank(encoding)
    tokens: list[str] = []
    pool = left = 0
    while len(tokens) < length:
        if not left:
            pool, left = rng.getrandbits(_BANK_BITS * _PICKS_PER_DRAW), _PICKS_PER_DRAW
        opening, following = bank[pool & (_BANK_SIZE - 1)]
        pool >>= _BANK_BITS
        left -= 1
        tokens.extend(following if tokens or continuing else opening)
    return tokens


@functools.cache
def vocabulary(encoding: str) -> tuple[str, ...]:
    """Every token the generator can emit, as pieces: the alternatives logprobs offer beside the chosen one."""
    tokens: set[str] = set()
    for words in (*WORD_CLASSES, _CLOSERS):
        for word in words:
            for form in (word, word.capitalize(), " " + word, " " + word.capitalize()):
                tokens.update(_form(form, encoding)[1])
    return tuple(sorted(tokens))


def prepare(encoding: str) -> None:
    """Load an encoding and its sentence bank ahead of the first request, which would otherwise wait for
    them (most of a second for the first vocabulary)."""
    _sentence_bank(encoding)
    vocabulary(encoding)
