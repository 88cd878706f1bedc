"""Strings that match a regular expression, drawn from a seeded random source.

Walks the parse tree of Python's own regex parser, so the supported syntax is exactly the parser's.
Covered: literals, `.`, character classes and ranges (negated ones too), the `\\d \\w \\s` categories
and their negations, groups (capturing, non-capturing, named), alternation, every quantifier (unbounded
ones are capped a few repetitions past their minimum, bounded ones draw from at most eight past it),
backreferences, and anchors (`^ $ \\A \\Z \\b \\B`)
which are treated as zero-width. Lookarounds and conditionals are not generated; every candidate is
checked with `re.search`, so a pattern that relies on them either matches by luck or is reported as
unsatisfiable by the caller instead of producing a wrong string.
"""

from __future__ import annotations

import functools
import random
import re
import string
from typing import Any

try:
    from re import _constants as _c  # Python >= 3.11
    from re import _parser as _sre_parse
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _c  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

_UNBOUNDED_EXTRA = 4
_BOUNDED_EXTRA = 8
MAX_REPEAT = 10_000
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
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.groups: dict[int, str] = {}

    def sequence(self, nodes: Any) -> str:
        return "".join(self.node(op, arg) for op, arg in nodes)

    def node(self, op: Any, arg: Any) -> str:
        rng = self.rng
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
            return self.groups.get(arg, "")
        if op is getattr(_c, "ATOMIC_GROUP", None):
            return self.sequence(arg)
        return ""


@functools.lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> tuple[Any, re.Pattern[str]]:
    """The parse tree to walk and the compiled pattern to check with; cached, as tools repeat per turn."""
    try:
        return _sre_parse.parse(pattern), re.compile(pattern)
    except (re.error, OverflowError, RecursionError) as exc:
        raise PatternError(f"invalid regular expression {pattern!r}: {exc}") from None


def matching_string(pattern: str, rng: random.Random, min_length: int = 0, max_length: int | None = None,
                    attempts: int = 24) -> str:
    """A string for which `re.search(pattern, s)` holds and whose length is within the bounds."""
    parsed, compiled = compile_pattern(pattern)
    for _ in range(attempts):
        text = _Walker(rng).sequence(parsed)
        if len(text) < min_length:
            text += "x" * (min_length - len(text))
        if max_length is not None and len(text) > max_length:
            continue
        if len(text) >= min_length and compiled.search(text) is not None:
            return text
    bounds = f" with length in [{min_length}, {max_length if max_length is not None else 'inf'}]"
    raise PatternError(f"no string matching {pattern!r}{bounds} could be generated")
