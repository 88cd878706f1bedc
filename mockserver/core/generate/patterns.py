"""Strings that match a regular expression, drawn from a seeded random source.

Walks the parse tree of Python's own regex parser, so the supported syntax is exactly the parser's.
Covered: literals, `.`, character classes and ranges (negated ones too), the `\\d \\w \\s` categories
and their negations, groups (capturing, non-capturing, named), alternation, every quantifier (unbounded
ones are capped a few repetitions past their minimum, bounded ones draw from at most eight past it),
backreferences, and anchors (`^ $ \\A \\Z \\b \\B`)
which are treated as zero-width. Lookarounds and conditionals are not generated; every candidate is
checked against the pattern, so a pattern that relies on them either matches by luck or is reported as
unsatisfiable by the caller instead of producing a wrong string.

The work is bounded (`budget`): compiling costs steps in proportion to the pattern's length, walking
costs a step per node and per character produced, and the check runs in the `regex` module, whose
matcher can be stopped after `MATCH_SECONDS`, so a pattern that backtracks catastrophically is
reported instead of holding the server.
"""

from __future__ import annotations

import functools
import random
import re
import string
from typing import Any

import regex

from mockserver.core.generate.budget import MATCH_SECONDS, Budget

try:
    from re import _constants as _c  # Python >= 3.11
    from re import _parser as _sre_parse
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _c  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

_UNBOUNDED_EXTRA = 4
_BOUNDED_EXTRA = 8
MAX_REPEAT = 10_000
_STEPS_PER_PATTERN_CHAR = 8
"""What compiling costs, per character of the pattern (parsing is Python code, linear in the length)."""
_STEPS_PER_NODE = 3
"""What walking one node of the parse tree costs."""
_PRINTABLE = string.ascii_letters + string.digits + " -_.,:;!?@#%&/()"
_CATEGORIES = {
    _c.CATEGORY_DIGIT: string.digits,
    _c.CATEGORY_NOT_DIGIT: string.ascii_letters + " -_",
    _c.CATEGORY_WORD: string.ascii_letters + string.digits + "_",
    _c.CATEGORY_NOT_WORD: " -.,:;!?@#",
    _c.CATEGORY_SPACE: " ",
    _c.CATEGORY_NOT_SPACE: string.ascii_letters + string.digits,
}


class PatternError(ValueError):
    """The pattern is not a valid regex, or no matching string could be produced."""


def _class_members(items: list[tuple[Any, Any]]) -> tuple[bool, list[str]]:
    negate = False
    members: list[str] = []
    for op, arg in items:
        if op is _c.NEGATE:
            negate = True
        elif op is _c.LITERAL:
            members.append(chr(arg))
        elif op is _c.RANGE:
            low, high = arg
            members += [chr(code) for code in range(low, min(high, low + 400) + 1)]
        elif op is _c.CATEGORY:
            members += list(_CATEGORIES.get(arg, ""))
    return negate, members


class _Walker:
    def __init__(self, rng: random.Random, budget: Budget) -> None:
        self.rng = rng
        self.budget = budget
        self.groups: dict[int, str] = {}

    def sequence(self, nodes: Any) -> str:
        return "".join(self.node(op, arg) for op, arg in nodes)

    def node(self, op: Any, arg: Any) -> str:
        rng = self.rng
        self.budget.spend(_STEPS_PER_NODE)
        if op is _c.LITERAL:
            return chr(arg)
        if op is _c.NOT_LITERAL:
            return rng.choice([ch for ch in _PRINTABLE if ord(ch) != arg])
        if op is _c.ANY:
            return rng.choice(_PRINTABLE)
        if op is _c.IN:
            negate, members = _class_members(arg)
            if negate:
                allowed = [ch for ch in _PRINTABLE if ch not in members]
                return rng.choice(allowed) if allowed else ""
            return rng.choice(members) if members else ""
        if op is _c.CATEGORY:
            return rng.choice(_CATEGORIES.get(arg, _PRINTABLE))
        if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", None)):
            low, high, body = arg
            if low > MAX_REPEAT:
                raise PatternError(f"a repetition of at least {low} exceeds the {MAX_REPEAT} the mock generates")
            top = low + _UNBOUNDED_EXTRA if high is _c.MAXREPEAT else min(high, low + _BOUNDED_EXTRA)
            return "".join(self.sequence(body) for _ in range(rng.randint(low, max(low, top))))
        if op is _c.SUBPATTERN:
            group, _add, _del, body = arg
            text = self.sequence(body)
            if group is not None:
                self.groups[group] = text
            return text
        if op is _c.BRANCH:
            _unused, branches = arg
            return self.sequence(branches[rng.randrange(len(branches))])
        if op is _c.GROUPREF:
            copied = self.groups.get(arg, "")
            self.budget.spend(len(copied))
            return copied
        if op is getattr(_c, "ATOMIC_GROUP", None):
            return self.sequence(arg)
        return ""


def _shown(pattern: str) -> str:
    return repr(pattern) if len(pattern) <= 80 else repr(pattern[:80]) + "..."


@functools.lru_cache(maxsize=1024)
def _parsed(pattern: str) -> tuple[Any, int]:
    """The parse tree and the length of the shortest match."""
    try:
        tree = _sre_parse.parse(pattern)
        return tree, tree.getwidth()[0]
    except (re.error, OverflowError, RecursionError) as exc:
        raise PatternError(f"invalid regular expression {_shown(pattern)}: {exc}") from None


_REPEAT_COUNT = re.compile(r"\{(?:\d+(?:,\d*)?|,\d*)\}")
"""A brace that opens a repetition count for `re`; any other brace is a literal to `re`."""


def _for_regex(pattern: str) -> str:
    """`pattern` as the `regex` module must read it to mean what it means to `re`: `regex` takes a brace
    that opens no repetition count (`a{e<=1}`, `{0d<`) for fuzzy-matching syntax, so those are escaped."""
    out: list[str] = []
    index, end, in_class = 0, len(pattern), False
    while index < end:
        char = pattern[index]
        if char == "\\":
            out.append(pattern[index:index + 2])
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            out.append(char)
            index += 1
            for opening in ("^", "]"):  # `[]...]` and `[^]...]` hold a literal `]`
                if index < end and pattern[index] == opening:
                    out.append(opening)
                    index += 1
            continue
        elif char == "{" and not _REPEAT_COUNT.match(pattern, index):
            char = "\\{"
        out.append(char)
        index += 1
    return "".join(out)


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str) -> regex.Pattern[str]:
    try:
        return regex.compile(_for_regex(pattern))
    except (regex.error, ValueError, IndexError, TypeError, OverflowError, RecursionError) as exc:
        raise PatternError(f"the mock cannot check strings against {_shown(pattern)}: {exc}") from None


def compile_pattern(pattern: str, budget: Budget | None = None) -> tuple[Any, regex.Pattern[str]]:
    """The parse tree to walk and the compiled pattern to check with; cached, as tools repeat per turn
    (the steps are spent on every call all the same, so a request's fate does not hang on the cache).
    Compiling costs steps for the pattern's length and for its shortest match, which `regex` spells out
    when it compiles exact repetitions (`((a{100}){100}){100}` is a million characters)."""
    budget = budget or Budget()
    budget.spend(len(pattern) * _STEPS_PER_PATTERN_CHAR)
    tree, shortest = _parsed(pattern)
    budget.spend(shortest)
    return tree, _compiled(pattern)


def _found(compiled: regex.Pattern[str], pattern: str, text: str) -> bool:
    if not text:
        # The one place the two disagree: `re` finds no `\B` in an empty string. Nothing to backtrack over.
        return re.search(pattern, text) is not None
    try:
        return compiled.search(text, timeout=MATCH_SECONDS) is not None
    except TimeoutError:
        raise PatternError(f"matching {_shown(pattern)} backtracks for longer than the mock allows") from None


def search(pattern: str, text: str, budget: Budget | None = None) -> bool:
    """`re.search(pattern, text)`, stopped with `PatternError` when it backtracks for too long."""
    return _found(compile_pattern(pattern, budget)[1], pattern, text)


def matching_string(pattern: str, rng: random.Random, min_length: int = 0, max_length: int | None = None,
                    attempts: int = 24, budget: Budget | None = None) -> str:
    """A string for which `re.search(pattern, s)` holds and whose length is within the bounds."""
    budget = budget or Budget()
    parsed, compiled = compile_pattern(pattern, budget)
    for _ in range(attempts):
        text = _Walker(rng, budget).sequence(parsed)
        if len(text) < min_length:
            text += "x" * (min_length - len(text))
        if max_length is not None and len(text) > max_length:
            continue
        budget.spend(len(text))
        if len(text) >= min_length and _found(compiled, pattern, text):
            return text
    bounds = f" with length in [{min_length}, {max_length if max_length is not None else 'inf'}]"
    raise PatternError(f"no string matching {_shown(pattern)}{bounds} could be generated")
