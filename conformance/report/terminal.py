"""Progress while groups run, then the summary table; on stderr so stdout stays clean."""

from __future__ import annotations

import sys
from typing import TextIO

from conformance.engine.result import GroupRecord, RunResult
from conformance.report.common import MARK, coverage_line, distinct, failure_text


class Terminal:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.live = self.stream.isatty()

    def line(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def progress(self, group: GroupRecord, failures: int) -> None:
        if self.live:
            print(f"\r  {group.name:<12} examples {group.examples:>4}  failing checks {failures}",
                  end="", file=self.stream, flush=True)

    def group_done(self, group: GroupRecord) -> None:
        if self.live:
            print("\r", end="", file=self.stream)
        verdict = "ok" if not group.failing_checks else f"{len(group.failing_checks)} failing check(s)"
        if group.not_served:
            verdict = "not served"
        note = f" ({group.stopped})" if group.stopped else " (shrinking capped)" if group.shrink_capped else ""
        self.line(f"  {group.name:<12} examples {group.examples:>4}  requests {group.requests:>4}  {verdict}{note}")
        self.line(f"  {'':<12} {coverage_line(group)}")

    def summary(self, result: RunResult) -> None:
        self.line("")
        width = max(len(name) for name in result.checks)
        self.line(f"{'check':<{width}}  {'area':<12} {'result':<14} examples")
        for record in result.checks.values():
            self.line(f"{record.name:<{width}}  {record.area:<12} {MARK[record.status]:<14} "
                      f"{record.passed + record.failed}")
        for title, failures in (("FAILED", result.failures), ("WARNING", result.warnings)):
            for failure, groups in distinct(failures):
                self.line(f"\n{title} {failure.check} (group {', '.join(groups)})")
                for row in failure_text(failure).splitlines():
                    self.line("  " + row)
        if result.aborted:
            self.line(f"\nSTOPPED EARLY: {result.aborted}")
        self.line(f"\n{len(result.failing_checks)} failing check(s), {len(result.warnings)} warning(s), "
                  f"{result.requests} requests to {result.base_url}")
