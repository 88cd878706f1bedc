"""The suite as pytest tests, one per check: `pytest --pyargs conformance --conformance-url URL`."""

from __future__ import annotations

import json

import pytest

from conformance.checks import CATALOGUE
from conformance.engine.result import RunResult


@pytest.mark.parametrize("check", list(CATALOGUE))
def test_check(conformance_result: RunResult, check: str) -> None:
    record = conformance_result.checks.get(check)
    if record is None:
        pytest.skip(f"{check} judges what another compatibility profile adds (--conformance-profile)")
    if record.status == "not exercised":
        pytest.skip(f"no generated request exercised {check}")
    if record.status == "fail":
        pytest.fail("\n".join(f"{check} (group {f.group}): expected {f.expected}; seen {f.seen}\n"
                              f"minimal request: {json.dumps(f.request)}\nreproduce: {f.curl}"
                              for f in record.failures.values()), pytrace=False)
