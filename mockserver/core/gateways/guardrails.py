"""Deterministic guardrail detectors, reporting the way Enkrypt AI's proxy reports them.

Each detector reads a text and answers with its details and its line of the summary, as the proxy's
`enkrypt_policy_detections` carries them. Nothing is learned or random: PII is found by pattern (emails,
phone numbers, IP addresses, URLs, API-key-like secrets), prompt injection by phrases, keywords by the
deployment's list, toxicity, NSFW content and bias by trigger words (their scores are low, a few
ten-thousandths drawn from the text, unless one appears), a policy by its terms, relevancy and
hallucination by the words the reply shares with the question and the context. The word lists are
`fixtures/guardrails.json`. A scenario rule can make any detector fire (`forced`), so an application's
handling of each detection is testable without crafting text for it.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mockserver.contract.fixtures import load_json

REDACTED = "[REDACTED]"
FORCED = "(forced by a scenario rule)"


@dataclass(frozen=True, slots=True)
class Guard:
    """One direction's guardrails in a deployment: which detectors run, which of them block."""

    detectors: tuple[str, ...] = ()
    block: frozenset[str] = frozenset()
    keywords: tuple[str, ...] = ()
    policy: str | None = None
    """The policy a policy_violation detector enforces, and the terms that break it."""
    policy_terms: tuple[str, ...] = ()
    block_message: str | None = None


@dataclass(frozen=True, slots=True)
class Deployment:
    name: str
    tags: tuple[str, ...] = ()
    input: Guard = Guard()
    output: Guard = Guard()


@dataclass(frozen=True, slots=True)
class Texts:
    """What the detectors of one direction read: the text itself, and what relevancy and hallucination
    judge a reply against."""

    text: str
    question: str = ""
    context: str | None = None


@functools.cache
def _table() -> dict[str, Any]:
    return load_json("guardrails.json")


def detector_names() -> tuple[str, ...]:
    return tuple(_table()["detectors"])


def block_message(detector: str) -> str:
    return _table()["block_messages"][detector]


def _contains(text: str, phrases: Iterable[str]) -> list[str]:
    lowered = text.lower()
    return [phrase for phrase in phrases if re.search(r"(?<!\w)" + re.escape(phrase.lower()) + r"(?!\w)", lowered)]


def _low(text: str, label: str) -> float:
    """A small score that is a function of the text: detectors that find nothing still score something."""
    digest = hashlib.blake2b(f"{label}|{text}".encode(), digest_size=4).digest()
    return round(0.0001 + int.from_bytes(digest, "big") / 2**32 * 0.0008, 8)


def _high(text: str, label: str) -> float:
    return round(0.95 + _low(text, label) * 50, 6)


_PII_PATTERNS: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    ("url", "URL", re.compile(r"\b(?:https?://|www\.)[^\s'\"<>()]*[^\s'\"<>().,;:!?]")),
    ("pii", "EMAIL_ADDRESS", re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")),
    ("pii", "PHONE_NUMBER", re.compile(r"(?<![\w.])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?![\w.])")),
    ("ip_address", "IP_ADDRESS", re.compile(r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\w.])")),
    ("secrets", "SECRET", re.compile(r"\bsk-[A-Za-z0-9_-]{16,}|\bAKIA[0-9A-Z]{16}\b|\bgh[pousr]_[A-Za-z0-9]{30,}|"
                                     r"\bxox[abprs]-[A-Za-z0-9-]{10,}|(?i:(?:api[_-]?key|secret|token|password)"
                                     r"\s*[:=]\s*['\"]?)(?P<value>[^\s'\"]{8,})")),
)


def _pii(texts: Texts, forced: bool) -> tuple[dict[str, Any], int]:
    found: dict[str, dict[str, str]] = {"pii": {}, "secrets": {}, "ip_address": {}, "url": {}}
    for group, label, pattern in _PII_PATTERNS:
        values: list[str] = []
        for match in pattern.finditer(texts.text):
            value = match.groupdict().get("value") or match.group(0)
            if value not in values:
                values.append(value)
        found[group].update({f"<{label}_{number}>": value for number, value in enumerate(values)})
    if forced and not any(found.values()):
        found["pii"]["<PERSON_0>"] = FORCED
    return found, int(any(found.values()))


def _injection(texts: Texts, forced: bool) -> tuple[dict[str, Any], int]:
    attack = _high(texts.text, "injection") if forced or _contains(texts.text, _table()["injection_phrases"]) \
        else _low(texts.text, "injection")
    return {"safe": f"{1 - attack:.6f}", "attack": f"{attack:.6f}"}, int(attack > 0.5)


def _toxicity(texts: Texts, forced: bool) -> tuple[dict[str, Any], list[str]]:
    scores = {label: _high(texts.text, label) if forced or _contains(texts.text, words) else _low(texts.text, label)
              for label, words in _table()["toxicity"].items()}
    return scores, [label for label, score in scores.items() if score > 0.5]


def _nsfw(texts: Texts, forced: bool) -> tuple[dict[str, Any], int]:
    nsfw = _high(texts.text, "nsfw") if forced or _contains(texts.text, _table()["nsfw"]) else _low(texts.text, "nsfw")
    return {"sfw": round(1 - nsfw, 8), "nsfw": nsfw}, int(nsfw > 0.5)


def _bias(texts: Texts, forced: bool) -> tuple[dict[str, Any], int]:
    phrases = _contains(texts.text, _table()["bias"])
    debiased = texts.text
    for phrase in phrases:
        debiased = re.sub(re.escape(phrase), "some people are" if phrase.endswith(" are") else "", debiased,
                          flags=re.IGNORECASE)
    detected = forced or bool(phrases)
    return {"bias_detected": detected, "debiased_text": debiased}, int(detected)


def _keywords(texts: Texts, forced: bool, guard: Guard) -> tuple[dict[str, Any], int]:
    counts = {keyword: len(re.findall(r"(?<!\w)" + re.escape(keyword) + r"(?!\w)", texts.text, re.IGNORECASE))
              for keyword in guard.keywords}
    counts = {keyword: n for keyword, n in counts.items() if n}
    redacted = texts.text
    for keyword in counts:
        redacted = re.sub(r"(?<!\w)" + re.escape(keyword) + r"(?!\w)", REDACTED, redacted, flags=re.IGNORECASE)
    if forced and not counts:
        counts = {FORCED: 1}
    return {"detected_keywords": list(counts), "detected_counts": counts, "redacted_text": redacted}, sum(counts.values())


def _policy(texts: Texts, forced: bool, guard: Guard) -> tuple[dict[str, Any], int]:
    broken = _contains(texts.text, guard.policy_terms)
    if not broken and not forced:
        return {"violating_policy": "No Violation Found", "explanation": "No Violation Found."}, 0
    reason = f"The text mentions {', '.join(repr(term) for term in broken)}." if broken else FORCED
    return {"violating_policy": guard.policy or "Policy", "explanation": reason}, 1


_WORD = re.compile(r"[a-z]{4,}")


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower())) - set(_table()["stopwords"])


def _sentences(text: str) -> list[str]:
    return [sentence.strip() for sentence in re.split(r"(?<=[.!?])\s+", text) if sentence.strip()]


def _relevancy(texts: Texts, forced: bool) -> tuple[dict[str, Any], float]:
    """Each sentence of the reply is a fact; a fact is relevant when it shares a word with the question
    (or the context). The score is the share of facts that are not: 0 relevant, 1 not at all."""
    known = _words(texts.question) | _words(texts.context or "")
    facts = _sentences(texts.text)
    relevant = [0 if forced else int(bool(_words(fact) & known)) for fact in facts]
    score = 1.0 if forced or not facts else round(1 - sum(relevant) / len(facts), 4)
    return {"atomic_facts": facts, "relevancy_list": relevant}, score


def _hallucination(texts: Texts, forced: bool) -> tuple[dict[str, Any], int]:
    """A reply hallucinates when most of its words are in neither the question nor the context;
    `prompt_based` says there was no context to judge it by."""
    words = _words(texts.text)
    known = _words(texts.question) | _words(texts.context or "")
    unsupported = len(words - known) / len(words) if words else 0.0
    return {"prompt_based": int(texts.context is None)}, int(forced or unsupported > 0.5)


_SUMMARY_KEYS = {"keyword_detector": "keyword_detected", "relevancy": "relevancy_score",
                 "hallucination": "is_hallucination"}
_PLAIN: dict[str, Callable[[Texts, bool], tuple[dict[str, Any], Any]]] = {
    "pii": _pii, "injection_attack": _injection, "toxicity": _toxicity, "nsfw": _nsfw, "bias": _bias,
    "relevancy": _relevancy, "hallucination": _hallucination,
}


def detect(guard: Guard, texts: Texts, forced: frozenset[str] = frozenset()) -> dict[str, Any]:
    """`{"details": {detector: ...}, "summary": {...}}` for the guard's detectors (and forced ones)."""
    details: dict[str, Any] = {}
    summary: dict[str, Any] = {}
    for name in (*guard.detectors, *sorted(forced - set(guard.detectors))):
        if name == "keyword_detector":
            details[name], flagged = _keywords(texts, name in forced, guard)
        elif name == "policy_violation":
            details[name], flagged = _policy(texts, name in forced, guard)
        else:
            details[name], flagged = _PLAIN[name](texts, name in forced)
        summary[_SUMMARY_KEYS.get(name, name)] = flagged
    return {"details": details, "summary": summary}


def fired(report: Mapping[str, Any]) -> list[str]:
    """The detectors whose summary says they found something (a relevancy score above one half)."""
    keys = {_SUMMARY_KEYS.get(name, name): name for name in detector_names()}
    return [keys[key] for key, value in report["summary"].items()
            if (value > 0.5 if key == "relevancy_score" else bool(value))]
