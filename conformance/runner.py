"""Runs the check groups against a server with Hypothesis and gathers what every check saw.

Each group is one Hypothesis property run programmatically (seeded, no example database, no deadline).
A failing check raises an exception class of its own, so Hypothesis shrinks a minimal request for each
failing check; the run keeps, per check, the smallest request that failed it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings

from mockserver.contract import model_info

from .checks import CATALOGUE
from .client import BudgetExhausted, Client, ServerUnreachable
from .defaults import DEFAULT_MAX_EXAMPLES
from .groups import GROUPS, Group, Outcome
from .outcome import failure_type
from .strategies import InvalidCase

WARN_ONLY = frozenset({"seed_reproducible"})
"""Checks of behaviour the real API only promises on a best-effort basis."""

SHRINK_ALLOWANCE = 4
"""A run may spend this many times its generation requests on shrinking before it stops."""
ROUNDS = 3
"""Runs per group part at most: a new round starts while the last one found new failing checks."""


@dataclass
class Options:
    model: str
    max_examples: int = DEFAULT_MAX_EXAMPLES
    seed: int = 0
    only: Sequence[str] = ()
    skip: Sequence[str] = ()
    require_auth: bool = False
    strict_seed: bool = False
    max_output_tokens: int | None = None
    """A token limit added to valid requests that set none, for slow or paid servers."""


@dataclass
class Failure:
    check: str
    group: str
    expected: str
    seen: str
    request: Any
    curl: str
    size: int


@dataclass
class CheckRecord:
    name: str
    area: str
    doc: str
    passed: int = 0
    failed: int = 0
    warning: bool = False
    groups: list[str] = field(default_factory=list)
    failures: dict[str, Failure] = field(default_factory=dict)
    """Per group, the smallest request that failed this check there."""

    @property
    def status(self) -> str:
        if self.failed:
            return "warn" if self.warning else "fail"
        return "pass" if self.passed else "not exercised"


@dataclass
class GroupRecord:
    name: str
    doc: str
    examples: int = 0
    requests: int = 0
    failing_checks: set[str] = field(default_factory=set)
    stopped: str | None = None
    """Why the group ended early ("request budget reached"), if it did."""
    shrink_capped: bool = False
    """Shrinking some failure stopped at the group's request allowance (its request may not be minimal)."""


@dataclass
class RunResult:
    base_url: str
    model: str
    seed: int
    max_examples: int
    max_requests: int
    checks: dict[str, CheckRecord]
    groups: dict[str, GroupRecord]
    requests: int = 0

    @property
    def failing_checks(self) -> list[str]:
        return [name for name, record in self.checks.items() if record.status == "fail"]

    @property
    def failures(self) -> list[Failure]:
        return [f for r in self.checks.values() if r.status == "fail" for f in r.failures.values()]

    @property
    def warnings(self) -> list[Failure]:
        return [f for r in self.checks.values() if r.status == "warn" for f in r.failures.values()]

    @property
    def ok(self) -> bool:
        return not self.failures


Progress = Callable[[GroupRecord, int], None]


def selected_groups(only: Sequence[str], skip: Sequence[str], require_auth: bool) -> list[Group]:
    """The groups to run; the auth group runs exactly when auth is required (and it is not skipped)."""
    unknown = sorted((set(only) | set(skip)) - set(GROUPS))
    if unknown:
        raise ValueError(f"unknown group(s) {', '.join(unknown)}; the groups are {', '.join(GROUPS)}")
    chosen = [group for name, group in GROUPS.items() if name not in skip and (
        require_auth if group.needs_auth else not only or name in only)]
    if not chosen:
        raise ValueError("no group selected (the auth group runs with --require-auth)")
    return chosen


def estimate(groups: Sequence[Group], max_examples: int) -> int:
    """Requests a conforming server gets. Each failure found costs more: shrinking it (up to
    SHRINK_ALLOWANCE times a run's requests) and a further round of search (up to ROUNDS runs)."""
    return sum(group.requests_per_example * group.example_scale * max_examples for group in groups)


class _StopPart(BaseException):
    """Ends a Hypothesis run at once: a BaseException, so Hypothesis neither retries nor shrinks it."""

    def __init__(self, reason: str, unreachable: ServerUnreachable | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.unreachable = unreachable


def _payload(example: Any) -> tuple[Any, bytes | None]:
    if isinstance(example, InvalidCase):
        return (example.raw.decode("utf-8", "replace") if example.raw is not None else example.payload), example.raw
    return example, None


class Runner:
    def __init__(self, client: Client, options: Options, progress: Progress | None = None) -> None:
        self.client = client
        self.options = options
        self.progress = progress
        self._limit = client.max_requests
        self.result = RunResult(client.base_url, options.model, options.seed, options.max_examples,
                                client.max_requests,
                                {name: CheckRecord(name, info.area, info.doc) for name, info in CATALOGUE.items()},
                                {})

    def _capped(self, example: Any) -> Any:
        """The example with the output cap added where it sets no limit; invalid requests get it too,
        since a server that wrongly accepts one would otherwise generate without end."""
        cap = self.options.max_output_tokens
        payload = example.payload if isinstance(example, InvalidCase) else example
        if cap is None or not isinstance(payload, dict) or "max_tokens" in payload or \
                "max_completion_tokens" in payload:
            return example
        name = "max_completion_tokens" if model_info(self.options.model).reasoning else "max_tokens"
        if isinstance(example, InvalidCase):
            return replace(example, payload={**payload, name: cap})
        return {**payload, name: cap}

    def _warning_only(self, check: str) -> bool:
        return check in WARN_ONLY and not self.options.strict_seed

    def _record(self, group: Group, where: str, example: Any, outcomes: list[Outcome]) -> list[Outcome]:
        stats = self.result.groups[group.name]
        stats.examples += 1
        payload, raw = _payload(example)
        failing = []
        for name, violation in outcomes:
            record = self.result.checks[name]
            if group.name not in record.groups:
                record.groups.append(group.name)
            if violation is None:
                record.passed += 1
                continue
            record.failed += 1
            record.warning = self._warning_only(name)
            if not record.warning:
                stats.failing_checks.add(name)
                failing.append((name, violation))
            sent, sent_raw = (violation.request, None) if violation.request is not None else (payload, raw)
            size = len(sent_raw) if sent_raw is not None else len(json.dumps(sent))
            known = record.failures.get(where)
            if known is None or size <= known.size:
                record.failures[where] = Failure(name, where, violation.expected, violation.seen, sent,
                                                 self.client.curl(sent, sent_raw), size)
        return failing

    def run_group(self, group: Group, limit: int | None = None) -> GroupRecord:
        """One Hypothesis run per part of the group, so a failure early in one part does not stop the
        others from being explored. The group stops once the client has sent `limit` requests."""
        stats = self.result.groups[group.name] = GroupRecord(group.name, group.doc)
        group_limit = self.client.max_requests if limit is None else limit
        start = self.client.sent
        parts = group.parts(self.options.model)
        examples = max(1, round(self.options.max_examples * group.example_scale / len(parts)))
        for position, (where, strategy) in enumerate(parts.items()):
            share = (group_limit - self.client.sent) // (len(parts) - position)
            self._limit = min(group_limit, self.client.sent + max(1, share))
            muted: frozenset[str] = frozenset()
            for attempt in range(ROUNDS):
                before = set(stats.failing_checks)
                stop = self._run_part(group, where, strategy, examples, muted, self.options.seed + attempt)
                if stop == "budget":
                    stats.stopped = "request budget reached"
                    break
                if stop == "share":
                    stats.stopped = "its share of the request budget reached"
                    break
                stats.shrink_capped = stats.shrink_capped or stop == "shrink"
                if stats.failing_checks <= before:
                    break
                muted = frozenset(stats.failing_checks)
            if stats.stopped == "request budget reached":
                break
        stats.requests = self.client.sent - start
        self.result.requests = self.client.sent
        return stats

    def _run_part(self, group: Group, where: str, strategy: Any, examples: int, muted: frozenset[str],
                  run_seed: int) -> str | None:
        """One Hypothesis run; the reason it was cut short ("budget", "share", "shrink"), if it was.
        Checks in `muted` already failed (and were shrunk) in an earlier round: they are still recorded
        but no longer stop the search, so they cannot hide other failures."""
        stats = self.result.groups[group.name]
        cap = self.client.sent + group.requests_per_example * examples * (1 + SHRINK_ALLOWANCE)

        @seed(run_seed)
        @settings(max_examples=examples, database=None, deadline=None, derandomize=False,
                  phases=(Phase.explicit, Phase.generate, Phase.shrink), verbosity=Verbosity.quiet,
                  suppress_health_check=list(HealthCheck), report_multiple_bugs=True, print_blob=False)
        @given(strategy.map(self._capped))
        def prop(example: Any) -> None:
            if self.client.sent >= self._limit:
                raise _StopPart("budget" if self._limit >= self.client.max_requests else "share")
            if self.client.sent >= cap:
                raise _StopPart("shrink")
            try:
                outcomes = group.probe(self.client, example)
            except BudgetExhausted:
                raise _StopPart("budget") from None
            except ServerUnreachable as exc:
                raise _StopPart("unreachable", exc) from None
            failing = [f for f in self._record(group, where, example, outcomes) if f[0] not in muted]
            if self.progress is not None:
                self.progress(stats, len(stats.failing_checks))
            if failing:
                name, violation = failing[0]
                raise failure_type(name)(name, violation.expected, violation.seen)

        try:
            prop()
        except BaseException as exc:  # the checks' failures, grouped by Hypothesis; _record has kept them
            stop = _find_stop(exc)
            if stop is None and not isinstance(exc, Exception):
                raise
            if stop is not None and stop.unreachable is not None:
                raise stop.unreachable from None
            return stop.reason if stop is not None else None
        return None

    def run(self, groups: Sequence[Group], done: Callable[[GroupRecord], None] | None = None) -> RunResult:
        """Every group in turn; `done` hears about each as it ends. Each group may spend an equal share of
        what is left of the budget, so a server that fails a lot cannot starve the last groups."""
        for position, group in enumerate(groups):
            if self.client.sent >= self.client.max_requests:
                stats = self.result.groups[group.name] = GroupRecord(group.name, group.doc,
                                                                     stopped="request budget reached")
            else:
                share = (self.client.max_requests - self.client.sent) // (len(groups) - position)
                stats = self.run_group(group, self.client.sent + max(1, share))
            if done is not None:
                done(stats)
        self.result.requests = self.client.sent
        return self.result


def _find_stop(exc: BaseException) -> _StopPart | None:
    """The `_StopPart` in what Hypothesis raised, which groups it with any failures it had found."""
    if isinstance(exc, _StopPart):
        return exc
    for inner in getattr(exc, "exceptions", ()):
        found = _find_stop(inner)
        if found is not None:
            return found
    return None
