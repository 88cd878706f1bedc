"""What a run found, as plain data: per check, per group, and the failures with their reproducers.

Kept apart from the runner so that the report writers (and whoever reads a result) need not import
Hypothesis.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Failure:
    check: str
    group: str
    expected: str
    seen: str
    request: Any
    curl: str
    size: int
    exchange: str = ""
    """The start of what the server sent back, for the reader to see the failure with their own eyes."""


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
    claimed: list[str] = field(default_factory=list)
    """The variants the group promises to send at least once (every tool_choice mode, ...)."""
    covered: list[str] = field(default_factory=list)
    """The variants the requests actually sent exercised, in the order of `claimed`."""
    not_served: str | None = None
    """Why the group did not run: the server does not serve its endpoint (the answer it gave)."""

    @property
    def uncovered(self) -> list[str]:
        return [] if self.not_served else [variant for variant in self.claimed if variant not in self.covered]


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
    aborted: str | None = None
    """Why the run stopped before its groups were done (the server stopped answering), if it did."""
    profile: str = "openai"
    """The compatibility profile the server was judged as."""

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
        return not self.failures and self.aborted is None
