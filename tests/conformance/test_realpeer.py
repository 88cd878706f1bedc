"""Opt-in: the suite against a real OpenAI-compatible server (see docs/conformance-llamacpp.md).

Start one first, for example llama.cpp's server with a tiny random-weights model:
`bash ../shared/realpeers/RECIPES.sh helpers xllama` (port 8083, model "tiny"), then run
`CONFORMANCE_REALPEER_URL=http://127.0.0.1:8083/v1 pytest -m realpeer`.
`CONFORMANCE_REALPEER_EXPECT` lists checks (comma-separated) the server is known to fail; the test
asserts that the suite finds them, so a regression in the suite's eyes shows up against a real server.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET

import pytest

from conformance import report
from conformance.session import run_suite

URL = os.environ.get("CONFORMANCE_REALPEER_URL")
pytestmark = [pytest.mark.realpeer,
              pytest.mark.skipif(not URL, reason="set CONFORMANCE_REALPEER_URL to a running server's /v1 URL")]


def test_suite_runs_against_a_real_server() -> None:
    result = run_suite(URL, model=os.environ.get("CONFORMANCE_REALPEER_MODEL"), max_examples=4,
                       max_output_tokens=16, timeout=30, max_requests=300)
    assert all(group.examples > 0 or group.not_served for group in result.groups.values())
    expected = {name for name in os.environ.get("CONFORMANCE_REALPEER_EXPECT", "").split(",") if name}
    assert expected <= set(result.failing_checks)
    for failure in result.failures:
        assert failure.curl.startswith("curl ") and URL in failure.curl
    json.loads(json.dumps(report.as_dict(result)))
    ET.fromstring(report.junit_xml(result))
    assert "| Area | Check | Result |" in report.markdown(result)
