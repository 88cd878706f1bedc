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


@contextlib.contextmanager
def running_mock(key: str, *, require_auth: bool, quirks: Sequence[str]) -> Iterator[str]:
    """The mock on a free loopback port, serving only the contract's model table (so unknown models get
    404), with `quirks`; yields its base URL."""
    from mockserver.contract import known_models
    from mockserver.controls.config import Config
    from mockserver.run.server import MockServer

    config = Config(port=0, seed=0, models=tuple(known_models()), api_keys=(key,) if require_auth else (),
                    quirks=tuple(quirks))
    with MockServer(config) as server:
        yield server.base_url
