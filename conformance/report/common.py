"""What every report shares: the marks for a check's status, failures merged across groups, and the
text of one failure."""

from __future__ import annotations

import json

from conformance.engine.result import Failure, GroupRecord

MARK = {"pass": "pass", "fail": "FAIL", "warn": "warn", "not exercised": "-"}


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


def failure_text(failure: Failure) -> str:
    return (f"expected {failure.expected}\nseen {failure.seen}\n"
            f"minimal request: {json.dumps(failure.request)}\nreproduce: {failure.curl}")


def coverage_line(group: GroupRecord) -> str:
    """What the group's requests exercised, and what they did not reach (a budget stops short)."""
    if group.not_served:
        return f"not served ({group.not_served})"
    if not group.claimed:
        return "covered: " + (", ".join(group.covered) or "nothing claimed beyond the description")
    line = f"covered {len(group.covered)}/{len(group.claimed)}: {', '.join(group.covered) or 'none'}"
    if group.uncovered:
        line += f"; NOT covered: {', '.join(group.uncovered)}"
    return line
