"""Seeded English prose, produced directly as tokens so that replies can be cut, streamed and scored.

A small phrase grammar gives sentences that read like an assistant talking ("The careful team quickly
reviews a clear plan before the next release."), which makes test output easier to eyeball than lorem
ipsum, while staying a pure function of the random source.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Collection

from mockserver.core.generate.tokenizer import token_id

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


def _pick(rng: random.Random, words: tuple[str, ...], lead: str, capital: bool, banned: Collection[int]) -> str | None:
    """One word token, avoiding banned ids; None when every candidate in the class is banned."""
    start = _below(rng, len(words))
    for offset in range(len(words)):
        word = words[(start + offset) % len(words)]
        token = lead + (word.capitalize() if capital else word)
        if token_id(token) not in banned:
            return token
    return None


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
    banned: Collection[int] = frozenset(),
    forced: str | None = None,
) -> list[str]:
    """Whole sentences, at least `length` tokens of them: a reply that stops of its own accord ends a
    sentence, as a model's does (`max_tokens` cuts it short later, with finish_reason "length").

    `forced` (a token that logit_bias +100 demands) replaces every pick, which is what a real model
    does under exclusive bias.
    """
    if forced is not None:
        return [forced] * length
    if not banned:
        return _free_tokens(rng, length)
    tokens: list[str] = []
    emit: Callable[[str], None] = tokens.append
    while len(tokens) < length:
        shape = _sentence_shape(rng)
        first = True
        for words in shape:
            lead = "" if not tokens else " "
            token = _pick(rng, words, lead, first, banned)
            if token is None:
                continue
            emit(token)
            first = False
        closers = [closer for closer in _CLOSERS if token_id(closer) not in banned]
        if closers:
            emit(closers[_below(rng, len(closers))])
        elif first:
            break
    return tokens


_BANK_BITS = 12
_BANK_SIZE = 1 << _BANK_BITS
_PICKS_PER_DRAW = 16
_BANK_SEED = 0x5EED


@functools.cache
def _sentence_bank() -> tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]:
    """Sentences drawn once from the grammar with a fixed seed, each in two forms: opening a reply and
    following another sentence. Drawing whole sentences costs one random number instead of a dozen,
    which is most of what a plain reply costs to generate."""
    rng = random.Random(_BANK_SEED)
    bank = []
    for _ in range(_BANK_SIZE):
        words = [words[_below(rng, len(words))] for words in _sentence_shape(rng)]
        closer = _CLOSERS[_below(rng, len(_CLOSERS))]
        rest = tuple(" " + word for word in words[1:]) + (closer,)
        opening = words[0].capitalize()
        bank.append(((opening, *rest), (" " + opening, *rest)))
    return tuple(bank)


def _free_tokens(rng: random.Random, length: int) -> list[str]:
    """`generate_tokens` when nothing is banned: whole sentences from the bank, their indices cut from
    one wide draw (the bank's size is a power of two, so no draw is wasted)."""
    bank = _sentence_bank()
    tokens: list[str] = []
    pool = left = 0
    while len(tokens) < length:
        if not left:
            pool, left = rng.getrandbits(_BANK_BITS * _PICKS_PER_DRAW), _PICKS_PER_DRAW
        opening, following = bank[pool & (_BANK_SIZE - 1)]
        pool >>= _BANK_BITS
        left -= 1
        tokens.extend(following if tokens else opening)
    return tokens


def vocabulary() -> list[str]:
    """Every token the generator can emit, so that logit_bias +100 can be resolved to its text."""
    tokens: set[str] = set(_CLOSERS)
    for words in WORD_CLASSES:
        for word in words:
            for form in (word, word.capitalize()):
                tokens.add(form)
                tokens.add(" " + form)
    return sorted(tokens)
