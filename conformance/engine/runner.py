"""Runs the check groups against a server with Hypothesis and gathers what every check saw.

Each group part first sends its covering examples (the smallest example for each variant it claims),
then is one Hypothesis property run programmatically (seeded, no example database, no deadline). A
failing check raises an exception class of its own, so Hypothesis shrinks a minimal request for each
failing check; the run keeps, per check, the smallest request that failed it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings

from conformance.checks import CATALOGUE
from conformance.checks.outcome import failure_type
from conformance.engine.client import BudgetExhausted, Client, ServerUnreachable, ServerUnresponsive
from conformance.engine.defaults import DEFAULT_MAX_EXAMPLES
from conformance.engine.groups import GROUPS, Group, Outcome, Part
from conformance.engine.probes import not_served
from conformance.engine.result import CheckRecord, Failure, GroupRecord, RunResult
from conformance.generate.invalid import InvalidCase
from mockserver.contract import model_info
from mockserver.contract.profiles import DEFAULT_PROFILE

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
    endpoint_models: Mapping[str, str] = field(default_factory=dict)
    """The model of each other endpoint's group (`completions`, `embeddings`), where not `model`."""
    profile: str = DEFAULT_PROFILE
    """The compatibility profile the server is judged as."""
    cache: bool = True
    """Read and keep covering examples on disk (`conformance.engine.cache`)."""

    def model_for(self, group: Group) -> str:
        return self.endpoint_models.get(group.endpoint or "", self.model)


Progress = Callable[[GroupRecord, int], None]


def selected_groups(only: Sequence[str], skip: Sequence[str], require_auth: bool,
                    profile: str = DEFAULT_PROFILE) -> list[Group]:
    """The groups to run; the auth group runs exactly when auth is required (and it is not skipped), a
    profile's group exactly under that profile."""
    unknown = sorted((set(only) | set(skip)) - set(GROUPS))
    if unknown:
        raise ValueError(f"unknown group(s) {', '.join(unknown)}; the groups are {', '.join(GROUPS)}")
    chosen = [group for name, group in GROUPS.items() if name not in skip and group.profile in (None, profile) and (
        require_auth if group.needs_auth else not only or name in only)]
    if not chosen:
        raise ValueError("no group selected (the auth group runs with --require-auth)")
    return chosen


def estimate(groups: Sequence[Group], max_examples: int, model: str | Callable[[Group], str]) -> int:
    """Requests a conforming server gets at most: the question whether it serves another endpoint, one
    covering example per claimed variant (fewer when one example covers several), then the random ones.
    Each failure found costs more: shrinking it (up to SHRINK_ALLOWANCE times a run's requests) and a
    further round of search (up to ROUNDS runs)."""
    model_for = model if callable(model) else (lambda group: model)
    return sum((group.endpoint is not None) + group.requests_per_example * (
        group.example_scale * max_examples + len(group.claimed(model_for(group)))) for group in groups)


class _StopPart(BaseException):
    """Ends a Hypothesis run at once: a BaseException, so Hypothesis neither retries nor shrinks it."""

    def __init__(self, reason: str, cause: ServerUnreachable | ServerUnresponsive | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.cause = cause


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
                                {name: CheckRecord(name, info.area, info.doc) for name, info in CATALOGUE.items()
                                 if info.judged_under(options.profile)},
                                {}, profile=options.profile)

    def _capped(self, group: Group, example: Any) -> Any:
        """The example with the output cap added where it sets no limit; invalid requests get it too,
        since a server that wrongly accepts one would otherwise generate without end."""
        cap = self.options.max_output_tokens
        payload = example.payload if isinstance(example, InvalidCase) else example
        if cap is None or group.limit is None or not isinstance(payload, dict) or \
                {"max_tokens", "max_completion_tokens", "max_output_tokens"} & payload.keys():
            return example
        name = group.limit
        if group.endpoint is None and model_info(self.options.model).reasoning:
            name = "max_completion_tokens"
        if name == "max_output_tokens":
            cap = max(cap, 16)
        if isinstance(example, InvalidCase):
            return replace(example, payload={**payload, name: cap})
        return {**payload, name: cap}

    def _warning_only(self, check: str) -> bool:
        return check in WARN_ONLY and not self.options.strict_seed

    def _record(self, group: Group, where: str, part: Part, example: Any, outcomes: list[Outcome]) -> list[Outcome]:
        stats = self.result.groups[group.name]
        stats.examples += 1
        if part.coverage is not None:
            seen = set(stats.covered) | part.coverage.classify(example)
            stats.covered = [variant for variant in stats.claimed if variant in seen]
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
                                                 self.client.curl(sent, sent_raw, group.path), size,
                                                 violation.exchange)
        return failing

    def run_group(self, group: Group, limit: int | None = None) -> GroupRecord:
        """Per part of the group, its covering examples and then one Hypothesis run, so a failure early in
        one part does not stop the others from being explored. The group stops once the client has sent
        `limit` requests."""
        model = self.options.model_for(group)
        parts = group.parts(model)
        stats = self.result.groups[group.name] = GroupRecord(group.name, group.doc, claimed=group.claimed(model))
        group_limit = self.client.max_requests if limit is None else limit
        start = self.client.sent
        if group.endpoint is not None:
            try:
                stats.not_served = not_served(self.client, group.path, model)
            except BudgetExhausted:
                stats.stopped = "request budget reached"
            if stats.not_served is not None or stats.stopped is not None:
                stats.requests = self.client.sent - start
                self.result.requests = self.client.sent
                return stats
        examples = max(1, round(self.options.max_examples * group.example_scale / len(parts)))
        for position, (where, part) in enumerate(parts.items()):
            share = (group_limit - self.client.sent) // (len(parts) - position)
            self._limit = min(group_limit, self.client.sent + max(1, share))
            stop = self._run_covering(group, where, part, group.covering(model, where, self.options.cache))
            # A covering example is the smallest of its variant, not of the failure it shows: the first
            # random round mutes nothing, so it shrinks any failure it meets again to a smaller request.
            muted: frozenset[str] = frozenset()
            for attempt in range(ROUNDS if stop is None else 0):
                before = set(stats.failing_checks)
                stop = self._run_part(group, where, part, examples, muted, self.options.seed + attempt)
                stats.shrink_capped = stats.shrink_capped or stop == "shrink"
                if stop in ("budget", "share") or stats.failing_checks <= before:
                    break
                muted = frozenset(stats.failing_checks)
            if stop == "budget":
                stats.stopped = "request budget reached"
                break
            if stop == "share":
                stats.stopped = "its share of the request budget reached"
        stats.requests = self.client.sent - start
        self.result.requests = self.client.sent
        return stats

    def _probe(self, group: Group, where: str, part: Part, example: Any) -> list[Outcome]:
        """Send one example and record what the checks said; the failing checks. Raises `_StopPart` when
        the budget or the server ends the part."""
        if self.client.sent >= self._limit:
            raise _StopPart("budget" if self._limit >= self.client.max_requests else "share")
        try:
            outcomes = group.probe(self.client, example)
        except BudgetExhausted:
            raise _StopPart("budget") from None
        except (ServerUnreachable, ServerUnresponsive) as exc:
            raise _StopPart("unreachable", exc) from None
        failing = self._record(group, where, part, example, outcomes)
        if self.progress is not None:
            stats = self.result.groups[group.name]
            self.progress(stats, len(stats.failing_checks))
        return failing

    def _run_covering(self, group: Group, where: str, part: Part, examples: list[Any]) -> str | None:
        """The covering examples, in turn; the reason they were cut short, if they were."""
        for example in examples:
            try:
                self._probe(group, where, part, self._capped(group, example))
            except _StopPart as stop:
                if stop.cause is not None:
                    raise stop.cause from None
                return stop.reason
        return None

    def _run_part(self, group: Group, where: str, part: Part, examples: int, muted: frozenset[str],
                  run_seed: int) -> str | None:
        """One Hypothesis run; the reason it was cut short ("budget", "share", "shrink"), if it was.
        Checks in `muted` already failed (and were shrunk) earlier: they are still recorded but no
        longer stop the search, so they cannot hide other failures."""
        cap = self.client.sent + group.requests_per_example * examples * (1 + SHRINK_ALLOWANCE)

        @seed(run_seed)
        @settings(max_examples=examples, database=None, deadline=None, derandomize=False,
                  phases=(Phase.explicit, Phase.generate, Phase.shrink), verbosity=Verbosity.quiet,
                  suppress_health_check=list(HealthCheck), report_multiple_bugs=True, print_blob=False)
        @given(part.strategy.map(lambda example: self._capped(group, example)))
        def prop(example: Any) -> None:
            if self.client.sent >= cap:
                raise _StopPart("shrink")
            failing = [f for f in self._probe(group, where, part, example) if f[0] not in muted]
            if failing:
                name, violation = failing[0]
                raise failure_type(name)(name, violation.expected, violation.seen)

        try:
            prop()
        except BaseException as exc:  # the checks' failures, grouped by Hypothesis; _record has kept them
            stop = _find_stop(exc)
            if stop is None and not isinstance(exc, Exception):
                raise
            if stop is not None and stop.cause is not None:
                raise stop.cause from None
            return stop.reason if stop is not None else None
        return None

    def run(self, groups: Sequence[Group], done: Callable[[GroupRecord], None] | None = None) -> RunResult:
        """Every group in turn; `done` hears about each as it ends. Each group may spend a share of what
        is left of the budget in proportion to what it needs when the server conforms (its estimate), so
        a server that fails a lot cannot starve the last groups, and a group with many rules to cover
        (errors) is not held to the share of one that sends a handful. A server that stops answering ends
        the run: what was found so far is kept, and `aborted` says why."""
        needs = [max(1, estimate([group], self.options.max_examples, self.options.model_for)) for group in groups]
        for position, group in enumerate(groups):
            if self.result.aborted is not None or self.client.sent >= self.client.max_requests:
                reason = "the run stopped: the server stopped answering" if self.result.aborted else \
                    "request budget reached"
                stats = self.result.groups[group.name] = GroupRecord(
                    group.name, group.doc, stopped=reason, claimed=group.claimed(self.options.model_for(group)))
            else:
                share = (self.client.max_requests - self.client.sent) * needs[position] // sum(needs[position:])
                start = self.client.sent
                try:
                    stats = self.run_group(group, self.client.sent + max(1, share))
                except (ServerUnreachable, ServerUnresponsive) as exc:
                    self.result.aborted = str(exc)
                    stats = self.result.groups[group.name]
                    stats.stopped = "the server stopped answering"
                    stats.requests = self.client.sent - start
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
