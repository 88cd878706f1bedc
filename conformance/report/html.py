"""A self-contained HTML page (`--html`): the feature matrix per group, what each group covered, and each
failure with its minimal request, `curl` command and the reply seen, folded until opened.

One file, its style inline, no script and nothing fetched from the network, so it can be attached to an
issue or archived by CI and still open the same years later. Failures fold with `<details>`.
"""

from __future__ import annotations

import json
from html import escape

from conformance.engine.result import CheckRecord, Failure, GroupRecord, RunResult
from conformance.report.common import MARK, distinct

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 80em; padding: 0 1em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 2em; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: .25em .5em; vertical-align: top; }
th { background: #f3f3f3; text-align: left; }
.matrix td.cell { text-align: center; min-width: 4.5em; }
.pass { background: #e3f4e3; } .fail { background: #f9d6d6; font-weight: bold; } .warn { background: #fbefc8; }
.none { color: #999; }
.verdict { display: inline-block; padding: .1em .6em; border-radius: .3em; }
.variant { display: inline-block; margin: .1em; padding: 0 .4em; border-radius: .3em; background: #e8eef8; }
.variant.missing { background: #f9d6d6; }
details.failure, details.warning { border: 1px solid #ccc; border-radius: .3em; margin: .5em 0; padding: .3em .6em; }
details.failure { border-left: .4em solid #c33; } details.warning { border-left: .4em solid #d9a400; }
summary { cursor: pointer; }
pre { background: #f6f6f6; padding: .5em; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
"""

_CLASS = {"pass": "pass", "fail": "fail", "warn": "warn", "not exercised": "none"}


def _group_status(record: CheckRecord, group: str) -> str:
    """A check's result within one group: parts of a group ("errors: wrong type") count for the group."""
    failed = [where for where in record.failures if where == group or where.startswith(group + ": ")]
    if failed:
        return "warn" if record.warning else "fail"
    return "pass" if group in record.groups else "not exercised"


def _matrix(result: RunResult) -> str:
    groups = list(result.groups)
    head = "".join(f"<th>{escape(name)}</th>" for name in groups)
    rows = []
    for record in result.checks.values():
        cells = "".join(f'<td class="cell {_CLASS[status]}">{escape(MARK[status])}</td>'
                        for status in (_group_status(record, group) for group in groups))
        rows.append(f'<tr data-check="{escape(record.name)}"><th title="{escape(record.doc)}"><code>'
                    f'{escape(record.name)}</code></th><td>{escape(record.area)}</td>'
                    f'<td class="cell {_CLASS[record.status]}">{escape(MARK[record.status])}</td>{cells}</tr>')
    return (f'<table class="matrix"><thead><tr><th>check</th><th>area</th><th>overall</th>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _coverage(group: GroupRecord) -> str:
    chips = "".join(f'<span class="variant">{escape(v)}</span>' for v in group.covered)
    missing = "".join(f'<span class="variant missing" title="claimed, not sent">{escape(v)}</span>'
                      for v in group.uncovered)
    if not group.claimed:
        return "<em>no variants claimed beyond the description</em>"
    return f"{len(group.covered)}/{len(group.claimed)}: {chips}{missing}"


def _groups(result: RunResult) -> str:
    rows = []
    for group in result.groups.values():
        notes = [group.stopped] if group.stopped else []
        if group.not_served:
            notes.append(f"not served: {group.not_served}")
        if group.shrink_capped:
            notes.append("shrinking capped: a request shown may not be minimal")
        rows.append(f'<tr data-group="{escape(group.name)}"><th><code>{escape(group.name)}</code></th>'
                    f"<td>{escape(group.doc)}</td><td>{group.examples}</td><td>{group.requests}</td>"
                    f'<td class="coverage">{_coverage(group)}</td><td>{escape("; ".join(notes))}</td></tr>')
    return ("<table><thead><tr><th>group</th><th>what it sends</th><th>examples</th><th>requests</th>"
            f"<th>covered variants</th><th>notes</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


def _failure(failure: Failure, groups: list[str], kind: str) -> str:
    where = ", ".join(groups)
    return (f'<details class="{kind}" data-check="{escape(failure.check)}"><summary><code>{escape(failure.check)}'
            f"</code> in {escape(where)}: expected {escape(failure.expected)}</summary>"
            f"<p><strong>Seen:</strong> {escape(failure.seen)}</p>"
            f'<p>Minimal request:</p><pre class="request">{escape(json.dumps(failure.request, indent=2))}</pre>'
            f'<p>Reproduce:</p><pre class="curl">{escape(failure.curl)}</pre>'
            f'<p>Reply seen:</p><pre class="exchange">{escape(failure.exchange or "(not kept)")}</pre></details>')


def html_page(result: RunResult) -> str:
    if result.aborted:
        verdict, tone = f"stopped early: {result.aborted}", "fail"
    elif result.ok:
        verdict, tone = "pass", "pass"
    else:
        verdict, tone = f"{len(result.failing_checks)} failing check(s)", "fail"
    sections = [
        f"<h1>Conformance of <code>{escape(result.base_url)}</code> (model <code>{escape(result.model)}</code>)</h1>",
        f'<p>Result: <span id="verdict" class="verdict {tone}">{escape(verdict)}</span>. Seed {result.seed}, '
        f"{result.max_examples} examples per group, {result.requests} of at most {result.max_requests} requests.</p>",
        "<h2>Feature matrix</h2>", _matrix(result),
        "<h2>What each group sent</h2>", _groups(result),
    ]
    for title, kind, failures in (("Failures", "failure", result.failures), ("Warnings", "warning", result.warnings)):
        if failures:
            sections.append(f"<h2>{title}</h2>")
            sections += [_failure(failure, groups, kind) for failure, groups in distinct(failures)]
    return ('<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>Conformance: {escape(result.base_url)}</title><style>{_STYLE}</style></head>"
            f"<body>{''.join(sections)}</body></html>\n")


def write_html(result: RunResult, path: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(html_page(result))
