"""The run's result written for people and for machines: JSON, JUnit XML, a Markdown feature matrix,
and the terminal's progress line and summary table."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from typing import Any, TextIO

from .runner import CheckRecord, Failure, GroupRecord, RunResult

_MARK = {"pass": "pass", "fail": "FAIL", "warn": "warn", "not exercised": "-"}


def _failure_dict(failure: Failure) -> dict[str, Any]:
    return {"check": failure.check, "group": failure.group, "expected": failure.expected, "seen": failure.seen,
            "request": failure.request, "curl": failure.curl}


def as_dict(result: RunResult) -> dict[str, Any]:
    """The JSON report: settings, per-group and per-check counts, and each failure with its reproducer."""
    return {
        "base_url": result.base_url,
        "model": result.model,
        "seed": result.seed,
        "max_examples": result.max_examples,
        "max_requests": result.max_requests,
        "requests": result.requests,
        "ok": result.ok,
        "groups": [{"name": g.name, "description": g.doc, "examples": g.examples, "requests": g.requests,
                    "failing_checks": sorted(g.failing_checks), "stopped": g.stopped,
                    "shrink_capped": g.shrink_capped}
                   for g in result.groups.values()],
        "checks": [{"name": c.name, "area": c.area, "description": c.doc, "status": c.status,
                    "passed": c.passed, "failed": c.failed, "groups": c.groups}
                   for c in result.checks.values()],
        "failures": [_failure_dict(f) for f in result.failures],
        "warnings": [_failure_dict(f) for f in result.warnings],
    }


def write_json(result: RunResult, path: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(as_dict(result), handle, indent=2)
        handle.write("\n")


def distinct(failures: list[Failure]) -> list[tuple[Failure, list[str]]]:
    """Failures that say the same thing in several groups, once, with the smallest request and the
    groups where they were seen. Parts of a group ("errors: wrong type") stay apart: each kind of
    invalid request deserves its own reproducer."""
    merged: dict[tuple[str, str, str, str], tuple[Failure, list[str]]] = {}
    for failure in failures:
        _, colon, part = failure.group.partition(": ")
        key = (failure.check, failure.expected, failure.seen, part if colon else "")
        if key not in merged:
            merged[key] = (failure, [failure.group])
            continue
        best, groups = merged[key]
        groups.append(failure.group)
        if failure.size < best.size:
            merged[key] = (failure, groups)
    return list(merged.values())


def _failure_text(failure: Failure) -> str:
    return (f"expected {failure.expected}\nseen {failure.seen}\n"
            f"minimal request: {json.dumps(failure.request)}\nreproduce: {failure.curl}")


def junit_xml(result: RunResult) -> str:
    """One test suite per area of the contract, one test case per check."""
    suites = ET.Element("testsuites", name="conformance", tests=str(len(result.checks)),
                        failures=str(len(result.failures)))
    by_area: dict[str, list[CheckRecord]] = {}
    for record in result.checks.values():
        by_area.setdefault(record.area, []).append(record)
    for area, records in by_area.items():
        suite = ET.SubElement(suites, "testsuite", name=f"conformance.{area}", tests=str(len(records)),
                              failures=str(sum(r.status == "fail" for r in records)),
                              skipped=str(sum(r.status == "not exercised" for r in records)))
        for record in records:
            case = ET.SubElement(suite, "testcase", classname=f"conformance.{area}", name=record.name)
            details = "\n\n".join(f"group {f.group}:\n{_failure_text(f)}" for f in record.failures.values())
            if record.status == "fail":
                first = next(iter(record.failures.values()))
                ET.SubElement(case, "failure", message=f"expected {first.expected}").text = details
            elif record.status == "not exercised":
                ET.SubElement(case, "skipped", message="no generated request exercised this check")
            elif record.status == "warn":
                ET.SubElement(case, "system-out").text = "warning: " + details
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


def write_junit(result: RunResult, path: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(junit_xml(result) + "\n")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(result: RunResult) -> str:
    """A feature matrix to paste in an issue: every check, its result, and the failures in detail."""
    lines = [
        f"## Conformance of `{result.base_url}` (model `{result.model}`)",
        "",
        f"Seed {result.seed}, {result.max_examples} examples per group, {result.requests} requests. "
        f"Result: {'**pass**' if result.ok else f'**{len(result.failing_checks)} failing check(s)**'}.",
        "",
        "| Area | Check | Result | Examples | What it checks |",
        "|---|---|---|---|---|",
    ]
    for record in result.checks.values():
        counts = f"{record.passed + record.failed}" if record.status != "not exercised" else ""
        lines.append(f"| {record.area} | `{record.name}` | {_MARK[record.status]} | {counts} | {_cell(record.doc)} |")
    notes = [f"- group `{g.name}` stopped early: {g.stopped}" for g in result.groups.values() if g.stopped]
    notes += [f"- group `{g.name}`: shrinking stopped at the group's request allowance, so a failing request "
              "shown may not be minimal" for g in result.groups.values() if g.shrink_capped]
    if notes:
        lines += ["", *notes]
    for title, failures in (("Failures", result.failures), ("Warnings", result.warnings)):
        if not failures:
            continue
        lines += ["", f"### {title}"]
        for failure, groups in distinct(failures):
            where = ", ".join(f"`{group}`" for group in groups)
            lines += ["", f"**`{failure.check}`** (group {where}): expected {failure.expected}; "
                      f"seen {_cell(failure.seen)}", "", "```sh", failure.curl, "```"]
    return "\n".join(lines) + "\n"


def write_markdown(result: RunResult, path: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(markdown(result))


class Terminal:
    """Progress while groups run, then the summary table; on stderr so stdout stays clean."""

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
        note = f" ({group.stopped})" if group.stopped else " (shrinking capped)" if group.shrink_capped else ""
        self.line(f"  {group.name:<12} examples {group.examples:>4}  requests {group.requests:>4}  {verdict}{note}")

    def summary(self, result: RunResult) -> None:
        self.line("")
        width = max(len(name) for name in result.checks)
        self.line(f"{'check':<{width}}  {'area':<12} {'result':<14} examples")
        for record in result.checks.values():
            self.line(f"{record.name:<{width}}  {record.area:<12} {_MARK[record.status]:<14} "
                      f"{record.passed + record.failed}")
        for title, failures in (("FAILED", result.failures), ("WARNING", result.warnings)):
            for failure, groups in distinct(failures):
                self.line(f"\n{title} {failure.check} (group {', '.join(groups)})")
                for row in _failure_text(failure).splitlines():
                    self.line("  " + row)
        self.line(f"\n{len(result.failing_checks)} failing check(s), {len(result.warnings)} warning(s), {result.requests} "
                  f"requests to {result.base_url}")
