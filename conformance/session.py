"""One run of the suite as a function: pick the server (or start the mock), pick the model, run the groups.

The CLI, the pytest plugin and library users all come through `run_suite`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence

from .client import Client
from .defaults import DEFAULT_MAX_EXAMPLES, DEFAULT_MAX_REQUESTS
from .groups import Group
from .runner import GroupRecord, Options, Progress, Runner, RunResult, selected_groups

MOCK_MODEL = "gpt-4o-mini"
MOCK_KEY = "sk-conformance-mock"

Announce = Callable[[str, str, Sequence[Group]], None]


@contextlib.contextmanager
def target(base_url: str | None, api_key: str | None, *, require_auth: bool = False,
           mock_quirks: Sequence[str] = ()) -> Iterator[tuple[str, str | None]]:
    """The server to check: the given one, or chatdouble's own mock started in-process on loopback
    (serving only the contract's model table, so unknown models get 404)."""
    if base_url:
        if mock_quirks:
            raise ValueError("mock quirks apply only to the in-process mock (no base URL)")
        yield base_url, api_key
        return
    from mockserver import Config, MockServer
    from mockserver.contract import known_models

    key = api_key or MOCK_KEY
    config = Config(port=0, seed=0, models=tuple(known_models()), api_keys=(key,) if require_auth else (),
                    quirks=tuple(mock_quirks))
    with MockServer(config) as server:
        yield server.base_url, key if require_auth or api_key else None


def pick_model(client: Client, model: str | None) -> str | None:
    """The given model, else the first one the server lists. The listing request doubles as the check
    that the server is reachable at all."""
    reply = client.request("GET", "/models")
    if model:
        return model
    data = reply.body.get("data") if isinstance(reply.body, dict) else None
    if isinstance(data, list) and data and isinstance(data[0], dict) and isinstance(data[0].get("id"), str):
        return data[0]["id"]
    return None


def run_suite(base_url: str | None = None, *, model: str | None = None, api_key: str | None = None,
              headers: Mapping[str, str] | None = None, max_examples: int = DEFAULT_MAX_EXAMPLES,
              max_requests: int = DEFAULT_MAX_REQUESTS, seed: int = 0, only: Sequence[str] = (),
              skip: Sequence[str] = (), require_auth: bool = False, strict_seed: bool = False,
              max_output_tokens: int | None = None,
              timeout: float = 60.0, mock_quirks: Sequence[str] = (), announce: Announce | None = None,
              progress: Progress | None = None, done: Callable[[GroupRecord], None] | None = None) -> RunResult:
    """Run the selected groups and return the result. Raises ValueError for a bad selection or a server
    without models (pass `model`), and `ServerUnreachable` when nothing answers at `base_url`."""
    groups = selected_groups(only, skip, require_auth)
    with target(base_url, api_key, require_auth=require_auth, mock_quirks=mock_quirks) as (url, key):
        client = Client(url, key, dict(headers or {}), timeout, max_requests)
        chosen = pick_model(client, model or (None if base_url else MOCK_MODEL))
        if chosen is None:
            raise ValueError(f"{url}/models lists no model; pass a model id")
        if announce is not None:
            announce(url, chosen, groups)
        options = Options(model=chosen, max_examples=max_examples, seed=seed, require_auth=require_auth,
                          strict_seed=strict_seed, max_output_tokens=max_output_tokens)
        return Runner(client, options, progress).run(groups, done)
