"""pytest entry point: `pytest --pyargs conformance --conformance-url URL` runs the suite as tests, one
test per check, so its results land in whatever pytest reporting a project already has."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from conformance.engine.defaults import DEFAULT_MAX_EXAMPLES, DEFAULT_MAX_REQUESTS

if TYPE_CHECKING:
    from conformance.engine.result import RunResult


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "OpenAI API conformance suite")
    group.addoption("--conformance-url", default=None, metavar="URL",
                    help="server to check, like http://127.0.0.1:8000/v1 (default: chatdouble's own mock)")
    group.addoption("--conformance-model", default=None, metavar="ID", help="model id to request")
    group.addoption("--conformance-api-key", default=os.environ.get("OPENAI_API_KEY"), metavar="KEY")
    group.addoption("--conformance-max-examples", type=int, default=DEFAULT_MAX_EXAMPLES, metavar="N")
    group.addoption("--conformance-max-requests", type=int, default=DEFAULT_MAX_REQUESTS, metavar="N")
    group.addoption("--conformance-seed", type=int, default=0, metavar="N")
    group.addoption("--conformance-only", action="append", default=[], metavar="GROUP",
                    help="run only this group of checks (repeatable)")
    group.addoption("--conformance-completions-model", default=None, metavar="ID",
                    help="model for the completions group")
    group.addoption("--conformance-embeddings-model", default=None, metavar="ID",
                    help="model for the embeddings group")
    group.addoption("--conformance-profile", default="openai", metavar="NAME",
                    help="judge the server as this compatibility profile (vllm, watsonx-gateway, enkrypt)")
    group.addoption("--conformance-header", action="append", default=[], metavar="NAME:VALUE",
                    help="extra request header (repeatable), e.g. the deployment a guardrail proxy needs")


@pytest.fixture(scope="session")
def conformance_result(request: pytest.FixtureRequest) -> Iterator[RunResult]:
    """The whole suite's result against the configured server, computed once per session."""
    from conformance.engine.session import run_suite

    option = request.config.getoption
    yield run_suite(option("--conformance-url"), model=option("--conformance-model"),
                    api_key=option("--conformance-api-key"), max_examples=option("--conformance-max-examples"),
                    max_requests=option("--conformance-max-requests"), seed=option("--conformance-seed"),
                    only=option("--conformance-only"), profile=option("--conformance-profile"),
                    headers={name.strip(): value.strip() for name, _, value in
                             (pair.partition(":") for pair in option("--conformance-header"))},
                    completions_model=option("--conformance-completions-model"),
                    embeddings_model=option("--conformance-embeddings-model"))
