"""`mockserver` on the command line: flags become one `Config`, then the server runs."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from mockserver.contract.profiles import profiles
from mockserver.controls.cassette import CassetteError, load_cassette
from mockserver.controls.chaos import parse_chaos
from mockserver.controls.config import DEFAULT_HOST, DEFAULT_PORT, Config
from mockserver.controls.deployments import Deployments, load_deployments
from mockserver.controls.faults import parse_fault
from mockserver.controls.gateway import GatewayModels, load_gateway_models
from mockserver.controls.rules import Scenario, load_scenario
from mockserver.controls.settings import SettingError
from mockserver.controls.timing import PROFILES, Timing
from mockserver.core.render.quirks import QUIRKS
from mockserver.http.record import serve_record
from mockserver.run.server import serve


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mockserver",
        description="A deterministic stand-in for the OpenAI API: chat completions, legacy completions, "
                    "embeddings and the Responses API.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="interface to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="TCP port (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0,
                        help="server seed; replies are a pure function of it and the request (default: 0)")
    parser.add_argument("--api-key", dest="api_keys", action="append", default=[], metavar="KEY",
                        help="accept only this key (repeatable), as a Bearer token or in the profile's own key header "
                             "(apikey for enkrypt); without it any key or none is accepted")
    parser.add_argument("--clock", type=int, default=None, metavar="EPOCH",
                        help="fixed 'created' timestamp (Unix seconds), making whole bodies reproducible")
    parser.add_argument("--models", default=None, metavar="ID[,ID...]",
                        help="comma-separated model ids to serve; requests for others get 404 model_not_found "
                             "(default: any id is accepted and /v1/models lists the built-in table; vllm serves the "
                             "models fixtures/profiles.json lists, a gateway those of --gateway-models)")
    parser.add_argument("--profile", choices=sorted(profiles()), default="openai",
                        help="the server that answers /v1/... and /...: 'vllm' is vLLM's OpenAI-compatible server, "
                             "'watsonx-gateway' IBM's Model Gateway, 'enkrypt' Enkrypt AI's proxy (default: "
                             "%(default)s); the gateways also answer at their own prefixes, /ml/gateway/v1 and "
                             "/ai-proxy, whatever this says")
    parser.add_argument("--mount", dest="mounts", action="append", default=[], metavar="PREFIX=PROFILE",
                        help="also serve PROFILE under PREFIX (repeatable), e.g. /vllm/v1=vllm beside OpenAI on /v1")
    parser.add_argument("--gateway-models", default=None, metavar="FILE",
                        help="YAML or JSON: the models the watsonx.ai gateway serves, with their aliases "
                             "(fixtures/schemas/gateway_models.schema.json); without it any model id")
    parser.add_argument("--deployments", default=None, metavar="FILE",
                        help="YAML or JSON: the Enkrypt AI proxy's deployments and their guardrails "
                             "(fixtures/schemas/deployments.schema.json)")
    parser.add_argument("--quirk", dest="quirks", action="append", default=[], metavar="NAME",
                        choices=list(QUIRKS),
                        help="emulate a deviation real servers have (repeatable): " + ", ".join(QUIRKS))
    parser.add_argument("--timing", choices=sorted(PROFILES), default="none",
                        help="latency profile for every reply; 'realistic' feels like a hosted model "
                             "(default: %(default)s, replies are instant)")
    parser.add_argument("--ttft-ms", type=float, default=None, metavar="MS",
                        help="time to first token in milliseconds (overrides the profile's)")
    parser.add_argument("--itl-ms", type=float, default=None, metavar="MS",
                        help="delay between tokens in milliseconds (overrides the profile's)")
    parser.add_argument("--jitter", type=float, default=None, metavar="FRACTION",
                        help="vary each delay by up to this fraction, reproducibly per reply (0 to 1; "
                             "overrides the profile's)")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="worker processes serving the port, for load beyond one core (default 1); "
                             "needs --no-admin, and no rules, rate limits or replay, whose state would split")
    controls = parser.add_argument_group("test-double controls")
    controls.add_argument("--scenario", default=None, metavar="FILE",
                          help="YAML or JSON scenario rules to load at start (an invalid file stops the server)")
    controls.add_argument("--rate-limit-rpm", type=int, default=None, metavar="N",
                          help="enforce N requests per minute per API key (token bucket; 429 beyond it)")
    controls.add_argument("--rate-limit-tpm", type=int, default=None, metavar="N",
                          help="enforce N tokens per minute per API key (prompt plus requested completion)")
    controls.add_argument("--chaos", default="", metavar="KIND=P[,KIND=P...]",
                          help="fail requests at random, reproducibly from the seed: e.g. server_error=0.1,"
                               "cut=0.05 (kinds: rate_limit_exceeded, insufficient_quota, server_error, "
                               "overloaded, and the delivery faults cut, truncate, error, stall, malformed)")
    controls.add_argument("--fault", default=None, metavar="SPEC",
                          help="spoil every reply's delivery, as the X-Mock-Fault header does for one request: "
                               "e.g. cut-after=3, error-after=2,error=overloaded, stall-after=1,stall-ms=500")
    controls.add_argument("--context-window", dest="context_windows", action="append", default=[],
                          metavar="MODEL=TOKENS",
                          help="override a model's context window (repeatable); longer prompts get 400 "
                               "context_length_exceeded")
    controls.add_argument("--admin-key", default=None, metavar="KEY",
                          help="require this Bearer key on the /_mock/ admin API")
    controls.add_argument("--no-admin", dest="admin", action="store_false",
                          help="do not serve the /_mock/ admin API")
    replay = parser.add_argument_group("replay (record a cassette with 'mockserver record')")
    replay.add_argument("--replay", default=None, metavar="DIR",
                        help="serve the exchanges recorded in this cassette for the requests they match")
    replay.add_argument("--replay-timing", action="store_true",
                        help="replay streams with the recorded time between events (default: as fast as possible)")
    replay.add_argument("--replay-miss", choices=("generate", "error"), default="generate",
                        help="answer requests no recording matches by generating (default) or with a 404 error")
    return parser


def _timing(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Timing:
    profile = PROFILES[args.timing]
    for flag, value in (("--ttft-ms", args.ttft_ms), ("--itl-ms", args.itl_ms)):
        if value is not None and value < 0:
            parser.error(f"{flag} must not be negative")
    if args.jitter is not None and not 0 <= args.jitter <= 1:
        parser.error("--jitter must be between 0 and 1")
    return Timing(ttft_ms=profile.ttft_ms if args.ttft_ms is None else args.ttft_ms,
                  itl_ms=profile.itl_ms if args.itl_ms is None else args.itl_ms,
                  jitter=profile.jitter if args.jitter is None else args.jitter)


def config_from_args(argv: Sequence[str] | None = None) -> Config:
    parser = build_parser()
    args = parser.parse_args(argv)
    models = tuple(m.strip() for m in args.models.split(",") if m.strip()) if args.models is not None else None
    for flag, value in (("--rate-limit-rpm", args.rate_limit_rpm), ("--rate-limit-tpm", args.rate_limit_tpm)):
        if value is not None and value < 1:
            parser.error(f"{flag} must be a positive integer")
    windows = []
    for item in args.context_windows:
        model, _, tokens = item.partition("=")
        if not model.strip() or not tokens.strip().isdigit() or int(tokens) < 1:
            parser.error(f"--context-window expects MODEL=TOKENS with a positive whole number, got {item!r}")
        windows.append((model.strip(), int(tokens)))
    mounts = []
    for item in args.mounts:
        prefix, _, name = item.partition("=")
        if not prefix.strip() or not name.strip():
            parser.error(f"--mount expects PREFIX=PROFILE, got {item!r}")
        mounts.append((prefix.strip(), name.strip()))
    try:
        scenario = load_scenario(args.scenario) if args.scenario else Scenario()
        gateway_models = load_gateway_models(args.gateway_models) if args.gateway_models else GatewayModels()
        deployments = load_deployments(args.deployments) if args.deployments else Deployments()
        chaos = parse_chaos(args.chaos)
        fault = parse_fault(args.fault) if args.fault is not None else None
        cassette = load_cassette(args.replay) if args.replay else None
    except (SettingError, CassetteError) as exc:
        parser.error(str(exc))
    try:
        return Config(host=args.host, port=args.port, seed=args.seed, api_keys=tuple(args.api_keys),
                      clock=args.clock, models=models, timing=_timing(args, parser), scenario=scenario,
                      admin=args.admin, admin_key=args.admin_key, rate_limit_rpm=args.rate_limit_rpm,
                      rate_limit_tpm=args.rate_limit_tpm, chaos=chaos, replay=cassette,
                      replay_timing=args.replay_timing, replay_miss=args.replay_miss, quirks=tuple(args.quirks),
                      context_windows=tuple(windows), profile=args.profile, fault=fault, mounts=tuple(mounts),
                      gateway_models=gateway_models, deployments=deployments, workers=args.workers)
    except ValueError as exc:
        parser.error(str(exc))


def build_record_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mockserver record",
        description="Proxy to a real OpenAI-compatible server and write each exchange with a generating "
                    "endpoint (chat, completions, embeddings, responses) to a cassette that 'mockserver --replay DIR' serves.",
    )
    parser.add_argument("--upstream", required=True, metavar="URL",
                        help="the base URL a client would use, e.g. https://api.openai.com/v1")
    parser.add_argument("--cassette", required=True, metavar="DIR", help="directory to write exchanges into")
    parser.add_argument("--api-key-env", default=None, metavar="NAME",
                        help="send upstream the key in this environment variable instead of the client's")
    parser.add_argument("--host", default=DEFAULT_HOST, help="interface to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="TCP port (default: %(default)s)")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["record"]:
        parser = build_record_parser()
        args = parser.parse_args(arguments[1:])
        api_key = None
        if args.api_key_env is not None:
            api_key = os.environ.get(args.api_key_env)
            if not api_key:
                parser.error(f"--api-key-env: the environment variable {args.api_key_env} is not set")
        serve_record(args.upstream, args.cassette, args.host, args.port, api_key)
        return
    serve(config_from_args(arguments))
