"""Runs the check groups against a server with Hypothesis and gathers what every check saw.

Each group is one Hypothesis property run programmatically (seeded, no example database, no deadline).
A failing check raises an exception class of its own, so Hypothesis shrinks a minimal request for each
failing check; the run keeps, per check, the smallest request that failed it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings

from .checks import CATALOGUE
from .client import BudgetExhausted, Client, ServerUnreachable
from .groups import GROUPS, Group, Outcome
from .outcome import failure_type
from .strategies import InvalidCase

E = TypeVar("E", bound=BaseException)

WARN_ONLY = frozenset({"seed_reproducible"})
"""Checks of behaviour the real API only promises on a best-effort basis."""

DEFAULT_MAX_EXAMPLES = 10
DEFAULT_MAX_REQUESTS = 400
SHRINK_ALLOWANCE = 4
"""A group may spend this many times its generation requests on shrinking before it stops."""


@dataclass
class Options:
    model: str
    max_examples: int = DEFAULT_MAX_EXAMPLES
    seed: int = 0
    only: Sequence[str] = ()
    skip: Sequence[str] = ()
    require_auth: bool = False
    strict_seed: bool = False


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
    failure: Failure | None = None

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
    def failures(self) -> list[Failure]:
        return [r.failure for r in self.checks.values() if r.failure is not None and r.status == "fail"]

    @property
    def warnings(self) -> list[Failure]:
        return [r.failure for r in self.checks.values() if r.failure is not None and r.status == "warn"]

    @property
    def ok(self) -> bool:
        return not self.failures


Progress = Callable[[GroupRecord, int], None]


def selected_groups(only: Sequence[str], skip: Sequence[str], require_auth: bool) -> list[Group]:
    """The groups to run; the auth group runs exactly when auth is required (and it is not skipped)."""
    unknown = sorted((set(only) | set(skip)) - set(GROUPS))
    if unknown:
        raise ValueError(f"unknown group(s) {', '.join(unknown)}; the groups are {', '.join(GROUPS)}")
    return [group for name, group in GROUPS.items() if name not in skip and (
        require_auth if group.needs_auth else not only or name in only)]


def estimate(groups: Sequence[Group], max_examples: int) -> int:
    """Requests spent generating examples; shrinking a failure adds up to SHRINK_ALLOWANCE times that."""
    return sum(group.requests_per_example * group.example_scale * max_examples for group in groups)


class _GroupBudget(Exception):
    """This group spent its share of requests on shrinking."""


def _payload(example: Any) -> tuple[Any, bytes | None]:
    if isinstance(example, InvalidCase):
        return (example.raw.decode("utf-8", "replace") if example.raw is not None else example.payload), example.raw
    return example, None


class Runner:
    def __init__(self, client: Client, options: Options, progress: Progress | None = None) -> None:
        self.client = client
        self.options = options
        self.progress = progress
        self.result = RunResult(client.base_url, options.model, options.seed, options.max_examples,
                                client.max_requests,
                                {name: CheckRecord(name, info.area, info.doc) for name, info in CATALOGUE.items()},
                                {})

    def _warning_only(self, check: str) -> bool:
        return check in WARN_ONLY and not self.options.strict_seed

    def _record(self, group: Group, example: Any, outcomes: list[Outcome]) -> list[Outcome]:
        stats = self.result.groups[group.name]
        stats.examples += 1
        payload, raw = _payload(example)
        size = len(raw) if raw is not None else len(json.dumps(payload))
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
            if record.failure is None or size <= record.failure.size:
                record.failure = Failure(name, group.name, violation.expected, violation.seen, payload,
                                         self.client.curl(payload, raw), size)
        return failing

    def run_group(self, group: Group) -> GroupRecord:
        stats = self.result.groups[group.name] = GroupRecord(group.name, group.doc)
        start = self.client.sent
        examples = self.options.max_examples * group.example_scale
        cap = start + group.requests_per_example * examples * (1 + SHRINK_ALLOWANCE)

        @seed(self.options.seed)
        @settings(max_examples=examples, database=None, deadline=None, derandomize=False,
                  phases=(Phase.explicit, Phase.generate, Phase.shrink), verbosity=Verbosity.quiet,
                  suppress_health_check=list(HealthCheck), report_multiple_bugs=True, print_blob=False)
        @given(group.strategy(self.options.model))
        def prop(example: Any) -> None:
            if self.client.sent >= cap:
                raise _GroupBudget()
            failing = self._record(group, example, group.probe(self.client, example))
            if self.progress is not None:
                self.progress(stats, len(stats.failing_checks))
            if failing:
                name, violation = failing[0]
                raise failure_type(name)(name, violation.expected, violation.seen)

        try:
            prop()
        except Exception as exc:  # Hypothesis re-raises the checks' failures, grouped
            unreachable = _find(exc, ServerUnreachable)
            if unreachable is not None:
                raise unreachable from None
            if _find(exc, BudgetExhausted) is not None:
                stats.stopped = "request budget reached"
            elif _find(exc, _GroupBudget) is not None:
                stats.stopped = "shrinking stopped at the group's request allowance"
        stats.requests = self.client.sent - start
        self.result.requests = self.client.sent
        return stats

    def run(self, groups: Sequence[Group], done: Callable[[GroupRecord], None] | None = None) -> RunResult:
        """Every group in turn; `done` hears about each as it ends. Groups past the budget are recorded as
        stopped without a request."""
        for group in groups:
            if self.client.sent >= self.client.max_requests:
                stats = self.result.groups[group.name] = GroupRecord(group.name, group.doc,
                                                                     stopped="request budget reached")
            else:
                stats = self.run_group(group)
            if done is not None:
                done(stats)
        self.result.requests = self.client.sent
        return self.result


def _find(exc: BaseException | None, kind: type[E]) -> E | None:
    """The first exception of `kind` in what Hypothesis raised (it groups several failures)."""
    if exc is None or isinstance(exc, kind):
        return exc
    for inner in getattr(exc, "exceptions", ()):
        found = _find(inner, kind)
        if found is not None:
            return found
    return _find(exc.__cause__, kind)
