"""Shared fixtures: a running mock for HTTP-level tests, and the path to ../shared reference data."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from mockserver import Config, MockServer

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=40,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Conformance runs keep their covering examples on disk (`conformance.engine.cache`); the tests keep theirs
# apart from the user's, shared by the session's workers and later sessions (the key changes with the code).
os.environ.setdefault("CHATDOUBLE_CACHE_DIR", str(Path(tempfile.gettempdir()) / f"chatdouble-tests-{os.getuid()}"))

SHARED = Path(os.environ.get("CHATDOUBLE_SHARED") or Path(__file__).resolve().parents[1].parent / "shared")
"""`../shared` beside the checkout; `CHATDOUBLE_SHARED` names it for a checkout kept elsewhere (a worktree)."""
REFERENCE = SHARED / "reference"


@pytest.fixture(scope="session")
def reference() -> Path:
    """OpenAI's own contract files; tests that compare against them skip where they are absent."""
    if not REFERENCE.is_dir():
        pytest.skip("../shared/reference is not present")
    return REFERENCE


@pytest.fixture(scope="session")
def server() -> Iterator[MockServer]:
    with MockServer(Config(seed=7, clock=1_700_000_000)) as running:
        yield running


@pytest.fixture(scope="session")
def base_url(server: MockServer) -> str:
    return server.base_url
