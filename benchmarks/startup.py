"""What the mock costs a test session: the `mock_openai` fixture's start-up, and the default `conformance` run.

Fixture start-up: pytest sessions (each its own interpreter, as a developer runs them) over a one-test
file, alternating: the baseline test does nothing; the measured test takes `mock_openai` and sends one
chat request (the server starts on the first test that asks for it). The difference of the medians is
what the first request of a session costs, start-up included.

Conformance: `conformance` with no arguments (the default run against the mock in its own process),
alternating a run that finds its covering examples (`--no-cache`) with one that reads those an earlier
run kept; and the same run with `--base-url` against a mock started apart, whose journal gives the time
the mock spent serving the run's requests, as a share of the run's time.

    python benchmarks/startup.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import free_port, server  # noqa: E402

BASELINE = "def test_nothing():\n    assert True\n"
FIXTURE = '''import json
import urllib.request


def test_first_request(mock_openai):
    body = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}).encode()
    request = urllib.request.Request(mock_openai.base_url + "/chat/completions", data=body,
                                     headers={"Content-Type": "application/json",
                                              "Authorization": "Bearer " + mock_openai.api_key})
    with urllib.request.urlopen(request, timeout=30) as reply:
        assert json.load(reply)["object"] == "chat.completion"
'''


def _seconds(command: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{command} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return elapsed


def fixture_startup(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        (base / "test_baseline.py").write_text(BASELINE)
        (base / "test_fixture.py").write_text(FIXTURE)
        pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        baseline, fixture = [], []
        for _ in range(rounds):
            baseline.append(_seconds([*pytest, "test_baseline.py"], base))
            fixture.append(_seconds([*pytest, "test_fixture.py"], base))
    low, high = statistics.median(baseline), statistics.median(fixture)
    print(f"pytest session, one test (median of {rounds}): baseline {low * 1000:.0f} ms, with mock_openai and "
          f"one request {high * 1000:.0f} ms: the fixture's start-up and first request add {(high - low) * 1000:.0f} "
          f"ms (ratio {high / low:.2f})")


def conformance_run(rounds: int) -> None:
    command = [str(Path(sys.executable).with_name("conformance"))]
    with tempfile.TemporaryDirectory() as folder:
        kept = {**os.environ, "CHATDOUBLE_CACHE_DIR": folder}
        _seconds(command, env=kept)
        cold, warm = [], []
        for _ in range(rounds):
            cold.append(_seconds([*command, "--no-cache"]))
            warm.append(_seconds(command, env=kept))
    port = free_port()
    runs, shares, counts = [], [], []
    from mockserver.contract.models import known_models

    # As the default run starts its own: serving the known models only, so an unknown one gets its 404.
    mock = [sys.executable, "-m", "mockserver", "--port", str(port), "--seed", "1", "--models",
            ",".join(known_models())]
    for _ in range(rounds):
        with server(mock, port):
            took = _seconds([*command, "--no-cache", "--base-url", f"http://127.0.0.1:{port}/v1", "--api-key",
                             "sk-test"])
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_mock/journal", timeout=10) as reply:
                entries = [entry for entry in json.load(reply)["data"] if not entry["path"].startswith("/_mock/")]
        served = sum(entry["duration_ms"] for entry in entries) / 1000
        runs.append(took)
        shares.append(served / took)
        counts.append(len(entries))
    print(f"conformance, default run (median of {rounds}): {statistics.median(cold):.1f} s finding its covering "
          f"examples, {statistics.median(warm):.1f} s with those an earlier run kept (ratio "
          f"{statistics.median(warm) / statistics.median(cold):.2f}); against a mock apart (no cache) "
          f"{statistics.median(runs):.1f} s for {statistics.median(counts):.0f} requests, of which the mock spent "
          f"{statistics.median(shares):.1%} serving them")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="sessions and runs of each kind (default 5)")
    parser.add_argument("--only", choices=("fixture", "conformance"), default=None, help="run one of the two")
    args = parser.parse_args()
    if args.only in (None, "fixture"):
        fixture_startup(args.rounds)
    if args.only in (None, "conformance"):
        conformance_run(max(1, args.rounds // 2 + 1))


if __name__ == "__main__":
    main()
