"""`conformance` on the command line. Exit status: 0 no check failed, 1 a check failed, 2 usage or
connection error (a server that stops answering mid-run included). Warnings never change the status."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from conformance import report
from conformance.engine.client import MAX_BODY, ServerUnreachable
from conformance.engine.defaults import DEFAULT_MAX_EXAMPLES, DEFAULT_MAX_REQUESTS
from conformance.engine.groups import GROUPS, Group
from conformance.engine.mock import quirk_names
from conformance.engine.result import RunResult
from conformance.engine.runner import ROUNDS, SHRINK_ALLOWANCE, Options, estimate
from conformance.engine.session import run_suite
from mockserver.contract.profiles import profiles

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="conformance",
        description="Check an OpenAI-compatible server (chat completions, completions, embeddings, responses) "
                    "against the contract with Hypothesis-generated requests. Without --base-url it checks "
                    "chatdouble's own mock.")
    parser.add_argument("--base-url", help="the server's API root, like http://127.0.0.1:8000/v1")
    parser.add_argument("--api-key", default=os.environ.get("OPENAI_API_KEY"),
                        help="Bearer key (default: $OPENAI_API_KEY)")
    parser.add_argument("--model", help="model id to request (default: the first one /models lists)")
    parser.add_argument("--completions-model", metavar="ID",
                        help="model for the completions group (default: gpt-3.5-turbo-instruct when listed, else "
                             "--model)")
    parser.add_argument("--embeddings-model", metavar="ID",
                        help="model for the embeddings group (default: text-embedding-3-small when listed, else "
                             "--model)")
    parser.add_argument("--header", action="append", default=[], metavar="NAME:VALUE",
                        help="extra request header (repeatable)")
    parser.add_argument("--require-auth", action="store_true",
                        help="also check that a missing or wrong key gets 401 with the error envelope")
    parser.add_argument("--max-examples", type=int, default=DEFAULT_MAX_EXAMPLES, metavar="N",
                        help="examples per group (default: %(default)s)")
    parser.add_argument("--max-requests", type=int, default=DEFAULT_MAX_REQUESTS, metavar="N",
                        help="hard budget of requests for the whole run (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="Hypothesis seed: same seed, same requests")
    parser.add_argument("--only", action="append", default=[], metavar="GROUP", choices=list(GROUPS),
                        help=f"run only this group (repeatable): {', '.join(GROUPS)}")
    parser.add_argument("--skip", action="append", default=[], metavar="GROUP", choices=list(GROUPS),
                        help="skip this group (repeatable)")
    parser.add_argument("--max-output-tokens", type=int, default=None, metavar="N",
                        help="add max_tokens N to valid requests that set no limit (for slow or paid servers)")
    parser.add_argument("--timeout", type=float, default=60.0, metavar="S",
                        help="seconds for a whole request, first byte to last (default: 60); replies are read up to "
                             f"{MAX_BODY // (1024 * 1024)} MiB")
    parser.add_argument("--strict-seed", action="store_true",
                        help="make seed_reproducible a failure instead of a warning")
    parser.add_argument("--report", metavar="PATH", help="write a JSON report")
    parser.add_argument("--junit", metavar="PATH", help="write JUnit XML")
    parser.add_argument("--markdown", metavar="PATH", help="write a Markdown feature matrix")
    parser.add_argument("--html", metavar="PATH",
                        help="write a self-contained HTML report (feature matrix, coverage, failures that unfold)")
    parser.add_argument("--profile", default="openai", choices=sorted(profiles()),
                        help="judge the server as this compatibility profile (default: %(default)s): send its "
                             "parameters and headers, check their effect, read its key header, schemas and error "
                             "envelope; without --base-url the mock answers as it")
    parser.add_argument("--no-cache", dest="cache", action="store_false",
                        help="find every covering example afresh instead of reading those an earlier run kept "
                             "(in $CHATDOUBLE_CACHE_DIR, else ~/.cache/chatdouble)")
    parser.add_argument("--mock-quirk", action="append", default=[], metavar="NAME",
                        help="without --base-url: give the in-process mock this quirk (repeatable) to see the "
                             "suite catch it; the README lists them")
    return parser


def _headers(pairs: Sequence[str], parser: argparse.ArgumentParser) -> dict[str, str]:
    headers = {}
    for pair in pairs:
        name, colon, value = pair.partition(":")
        if not colon or not name.strip():
            parser.error(f"--header wants NAME:VALUE, got {pair!r}")
        headers[name.strip()] = value.strip()
    return headers


def _write_reports(result: RunResult, args: argparse.Namespace) -> None:
    if args.report:
        report.write_json(result, args.report)
    if args.junit:
        report.write_junit(result, args.junit)
    if args.markdown:
        report.write_markdown(result, args.markdown)
    if args.html:
        report.write_html(result, args.html)


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.max_examples < 1 or args.max_requests < 1 or args.timeout <= 0 or (
            args.max_output_tokens is not None and args.max_output_tokens < 1):
        parser.error("--max-examples, --max-requests, --max-output-tokens and --timeout must be positive")
    unknown = sorted(set(args.mock_quirk) - set(quirk_names())) if args.mock_quirk else []
    if unknown:
        parser.error(f"unknown --mock-quirk {', '.join(unknown)}; the quirks are {', '.join(quirk_names())}")
    terminal = report.Terminal()

    def announce(url: str, options: Options, groups: Sequence[Group]) -> None:
        planned = estimate(groups, args.max_examples, options.model_for)
        others = "".join(f", {g.name} model {options.model_for(g)}" for g in groups
                         if g.endpoint is not None and options.model_for(g) != options.model)
        terminal.line(f"conformance: {url}, model {options.model}{others}, groups {', '.join(g.name for g in groups)}")
        worst = planned * (1 + SHRINK_ALLOWANCE) * ROUNDS
        terminal.line(f"  about {planned} requests if the server conforms; shrinking failures and searching past "
                      f"them can take up to {worst}; hard budget --max-requests {args.max_requests}")

    try:
        result = run_suite(args.base_url, model=args.model, api_key=args.api_key,
                           headers=_headers(args.header, parser), max_examples=args.max_examples,
                           max_requests=args.max_requests, seed=args.seed, only=args.only, skip=args.skip,
                           require_auth=args.require_auth, strict_seed=args.strict_seed, timeout=args.timeout,
                           max_output_tokens=args.max_output_tokens, profile=args.profile,
                           completions_model=args.completions_model, embeddings_model=args.embeddings_model,
                           mock_quirks=args.mock_quirk, announce=announce, progress=terminal.progress,
                           done=terminal.group_done, cache=args.cache)
    except ServerUnreachable as exc:
        terminal.line(f"conformance: {exc}")
        sys.exit(EXIT_USAGE)
    except ValueError as exc:
        parser.error(str(exc))
    terminal.summary(result)
    _write_reports(result, args)
    sys.exit(EXIT_USAGE if result.aborted else EXIT_OK if result.ok else EXIT_FAILED)
