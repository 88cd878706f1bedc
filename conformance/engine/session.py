"""One run of the suite as a function: pick the server (or start the mock), pick the model, run the groups.

The CLI, the pytest plugin and library users all come through `run_suite`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence

from conformance.checks.outcome import clip
from conformance.engine.client import Client, ServerUnreachable
from conformance.engine.defaults import DEFAULT_MAX_EXAMPLES, DEFAULT_MAX_REQUESTS
from conformance.engine.groups import Group
from conformance.engine.mock import running_mock
from conformance.engine.result import GroupRecord, RunResult
from conformance.engine.runner import Options, Progress, Runner, selected_groups
from mockserver.contract.profiles import DEFAULT_PROFILE, profiles
from mockserver.contract.profiles import profile as profile_table

MOCK_MODEL = "gpt-4o-mini"
MOCK_KEY = "sk-conformance-mock"
ENDPOINT_MODELS = {"completions": "gpt-3.5-turbo-instruct", "embeddings": "text-embedding-3-small"}
"""The model each other endpoint's group asks for when the server lists it; otherwise the run's model
(servers such as vLLM and llama.cpp serve their one model on every endpoint)."""

Announce = Callable[[str, Options, Sequence[Group]], None]


@contextlib.contextmanager
def target(base_url: str | None, api_key: str | None, *, require_auth: bool = False,
           mock_quirks: Sequence[str] = (),
           profile: str = DEFAULT_PROFILE) -> Iterator[tuple[str, str | None, dict[str, str]]]:
    """The server to check, the key and the headers its profile needs: the given server, or chatdouble's own
    mock started in-process on loopback (serving only the contract's model table, so unknown models get
    404, and answering as `profile`)."""
    if base_url:
        if mock_quirks:
            raise ValueError("mock quirks apply only to the in-process mock (no base URL)")
        yield base_url, api_key, {}
        return
    key = api_key or MOCK_KEY
    with running_mock(key, require_auth=require_auth, quirks=mock_quirks, profile=profile) as (url, needed):
        yield url, key if require_auth or api_key else None, needed


def _check_headers(profile: str, headers: Mapping[str, str]) -> None:
    """A header the profile's server requires must be among those sent (`--header NAME:VALUE`)."""
    given = {name.lower() for name in headers}
    for name, header in profile_table(profile).headers.items():
        if header.required and name.lower() not in given:
            raise ValueError(f"profile {profile} needs the header {name} ({header.doc}): pass --header '{name}:...'")


def _listed(body: object) -> list[str]:
    data = body.get("data") if isinstance(body, dict) else None
    return [entry["id"] for entry in data if isinstance(entry, dict) and isinstance(entry.get("id"), str)] \
        if isinstance(data, list) else []


def pick_models(client: Client, model: str | None,
                endpoint_models: Mapping[str, str | None] | None = None) -> tuple[str, dict[str, str]]:
    """The run's model (the given one, else the first one the server lists) and the model of each other
    endpoint's group (the given one, else `ENDPOINT_MODELS` when listed, else the run's). The listing
    request doubles as the check that the server answers HTTP at all. Raises ValueError when no model is
    given and none is listed."""
    reply = client.request("GET", "/models")
    if reply.problem is not None:
        raise ServerUnreachable(f"no complete reply from {client.base_url}/models: {reply.problem}")
    listed = _listed(reply.body)
    chosen = model or (listed[0] if listed else None)
    if chosen is not None:
        given = endpoint_models or {}
        return chosen, {name: given.get(name) or (default if default in listed else chosen)
                        for name, default in ENDPOINT_MODELS.items()}
    seen = f"status {reply.status}, Content-Type {reply.content_type or '(none)'}"
    seen += f", {reply.problem}" if reply.problem else f": {clip(reply.text, 120)}"
    raise ValueError(f"{client.base_url}/models lists no model ({seen}); pass a model id with --model")


def run_suite(base_url: str | None = None, *, model: str | None = None, api_key: str | None = None,
              headers: Mapping[str, str] | None = None, max_examples: int = DEFAULT_MAX_EXAMPLES,
              max_requests: int = DEFAULT_MAX_REQUESTS, seed: int = 0, only: Sequence[str] = (),
              skip: Sequence[str] = (), require_auth: bool = False, strict_seed: bool = False,
              max_output_tokens: int | None = None,
              timeout: float = 60.0, mock_quirks: Sequence[str] = (), profile: str = DEFAULT_PROFILE,
              announce: Announce | None = None, progress: Progress | None = None,
              done: Callable[[GroupRecord], None] | None = None,
              completions_model: str | None = None, embeddings_model: str | None = None,
              cache: bool = True) -> RunResult:
    """Run the selected groups and return the result, judging the server as `profile` (its parameters,
    headers, key header, schemas and checks). Raises ValueError for a bad selection, an unknown profile, a
    header the profile needs and no one gave, or a server without models (pass `model`), and
    `ServerUnreachable` when nothing answers at `base_url`."""
    if profile not in profiles():
        raise ValueError(f"unknown profile {profile!r}; the profiles are {', '.join(profiles())}")
    groups = selected_groups(only, skip, require_auth, profile)
    with target(base_url, api_key, require_auth=require_auth, mock_quirks=mock_quirks,
                profile=profile) as (url, key, needed):
        sent_headers = {**needed, **(headers or {})}
        _check_headers(profile, sent_headers)
        client = Client(url, key, sent_headers, timeout, max_requests, profile=profile)
        chosen, endpoint_models = pick_models(client, model or (None if base_url else MOCK_MODEL),
                                              {"completions": completions_model, "embeddings": embeddings_model})
        options = Options(model=chosen, max_examples=max_examples, seed=seed, require_auth=require_auth,
                          strict_seed=strict_seed, max_output_tokens=max_output_tokens,
                          endpoint_models=endpoint_models, profile=profile, cache=cache)
        if announce is not None:
            announce(url, options, groups)
        return Runner(client, options, progress).run(groups, done)
