"""The Markdown feature matrix (`--markdown`), to paste in an issue."""

from __future__ import annotations

from conformance.engine.result import RunResult
from conformance.report.common import MARK, coverage_line, distinct


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(result: RunResult) -> str:
    """Every check and its result, what each group covered, and the failures in detail."""
    verdict = "**pass**" if result.ok else f"**{len(result.failing_checks)} failing check(s)**"
    lines = [
        f"## Conformance of `{result.base_url}` (model `{result.model}`)",
        "",
        f"Seed {result.seed}, {result.max_examples} examples per group, {result.requests} requests. "
        f"Result: {verdict}.",
    ]
    if result.aborted:
        lines += ["", f"**The run stopped early**: {_cell(result.aborted)}"]
    lines += ["", "| Area | Check | Result | Examples | What it checks |", "|---|---|---|---|---|"]
    for record in result.checks.values():
        counts = f"{record.passed + record.failed}" if record.status != "not exercised" else ""
        lines.append(f"| {record.area} | `{record.name}` | {MARK[record.status]} | {counts} | {_cell(record.doc)} |")
    lines += ["", "### What each group sent", "", "| Group | Examples | Requests | Coverage |", "|---|---|---|---|"]
    lines += [f"| `{g.name}` | {g.examples} | {g.requests} | {_cell(coverage_line(g))} |"
              for g in result.groups.values()]
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
