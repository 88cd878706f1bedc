"""The JSON report (`--report`), described by `report.schema.json` beside this file."""

from __future__ import annotations

import json
from typing import Any

from conformance.engine.result import Failure, RunResult


def _failure_dict(failure: Failure) -> dict[str, Any]:
    return {"check": failure.check, "group": failure.group, "expected": failure.expected, "seen": failure.seen,
            "request": failure.request, "curl": failure.curl, "exchange": failure.exchange}


def as_dict(result: RunResult) -> dict[str, Any]:
    """Settings, per-group counts and coverage, per-check counts, and each failure with its reproducer."""
    return {
        "base_url": result.base_url,
        "model": result.model,
        "profile": result.profile,
        "seed": result.seed,
        "max_examples": result.max_examples,
        "max_requests": result.max_requests,
        "requests": result.requests,
        "ok": result.ok,
        "aborted": result.aborted,
        "groups": [{"name": g.name, "description": g.doc, "examples": g.examples, "requests": g.requests,
                    "failing_checks": sorted(g.failing_checks), "stopped": g.stopped,
                    "shrink_capped": g.shrink_capped, "covered": g.covered, "not_covered": g.uncovered,
                    "not_served": g.not_served}
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
