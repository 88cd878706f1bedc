"""The project's own mock as the server under test, when no base URL is given.

This module is the suite's only way into the mock beyond `mockserver.contract` (the import-linter
contract in pyproject.toml allows exactly this edge), and it imports the mock only when called, so a
run against a real server never loads it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence


def quirk_names() -> list[str]:
    """The deviations the mock can be given (`--mock-quirk`)."""
    from mockserver.core.render.quirks import QUIRKS

    return list(QUIRKS)


DEPLOYMENT = "conformance"
"""The deployment the in-process mock's Enkrypt AI proxy serves the suite: every detector, reporting."""
DEPLOYMENT_HEADER = "X-Enkrypt-Deployment"


@contextlib.contextmanager
def running_mock(key: str, *, require_auth: bool, quirks: Sequence[str],
                 profile: str = "openai") -> Iterator[tuple[str, dict[str, str]]]:
    """The mock on a free loopback port, serving only the contract's model table (so unknown models get
    404), with `quirks`, answering as `profile`; yields its base URL (the profile's own prefix, where it
    has one) and the headers its profile needs (the deployment its Enkrypt AI proxy serves the suite)."""
    from mockserver.contract import known_models
    from mockserver.contract.profiles import profile as profile_table
    from mockserver.controls.config import Config
    from mockserver.controls.deployments import parse_deployments
    from mockserver.core.gateways.guardrails import detector_names
    from mockserver.run.server import MockServer

    deployments = parse_deployments({"deployments": [{"name": DEPLOYMENT, "input": {"report": list(detector_names())},
                                                      "output": {"report": list(detector_names())}}]}, "conformance")
    config = Config(port=0, seed=0, models=tuple(known_models()), api_keys=(key,) if require_auth else (),
                    quirks=tuple(quirks), profile=profile, deployments=deployments)
    with MockServer(config) as server:
        table = profile_table(profile)
        headers = {DEPLOYMENT_HEADER: DEPLOYMENT} if DEPLOYMENT_HEADER in table.headers else {}
        yield (server.url + table.prefixes[0] if table.prefixes else server.base_url), headers
