"""What importing chatdouble costs the people who never start the mock.

Installing the package registers two pytest plugins, so every pytest session in that environment
imports them; two of its dependencies (Faker and Hypothesis) register plugins of their own. This
compares, in one run and alternating, pytest sessions over a trivial test file: as installed; with
chatdouble's own plugins disabled (`-p no:...`: their whole cost); and with its dependencies' plugins
disabled too (close to an environment without chatdouble). It also times `from conformance import
checks`, which a program checking its own server imports. Each figure is the median of `--rounds`.

    python benchmarks/imports.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TRIVIAL = "def test_nothing():\n    assert True\n"
HEAVY = ("aiohttp", "faker", "jsonschema_rs", "yaml", "mockserver.http", "mockserver.core")
OURS_OFF = ["-p", "no:mock_openai", "-p", "no:conformance"]
DEPENDENCIES_OFF = [*OURS_OFF, "-p", "no:faker", "-p", "no:hypothesispytest"]


def _pytest_seconds(folder: Path, extra: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra, str(folder)],
                   check=True, capture_output=True, cwd=folder)
    return time.perf_counter() - started


def _import_report(statement: str) -> tuple[float, list[str]]:
    """Seconds to run the import in a fresh interpreter (minus a bare interpreter's start), and which
    heavy modules it pulled in."""
    probe = (f"import sys, time, json; t = time.perf_counter(); {statement}; "
             f"print(json.dumps([time.perf_counter() - t, sorted(m for m in {HEAVY!r} if m in sys.modules)]))")
    seconds, loaded = json.loads(subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True,
                                                text=True).stdout)
    return seconds, loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    arms = {"as installed": [], "chatdouble's plugins disabled": [], "its dependencies' plugins disabled too": []}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "test_trivial.py").write_text(TRIVIAL)
        for _ in range(args.rounds):
            for (name, runs), extra in zip(arms.items(), ([], OURS_OFF, DEPENDENCIES_OFF)):
                runs.append(_pytest_seconds(folder, extra))
    medians = {name: statistics.median(runs) for name, runs in arms.items()}
    baseline = medians["chatdouble's plugins disabled"]
    for name, seconds in medians.items():
        print(f"pytest session, {name}: {seconds * 1000:.0f} ms (median of {args.rounds}), "
              f"ratio to chatdouble's plugins disabled {seconds / baseline:.2f}")
    for statement in ("from conformance import checks", "import mockserver", "import mockserver.run.pytest_plugin"):
        runs = [_import_report(statement) for _ in range(args.rounds)]
        seconds = statistics.median(run[0] for run in runs)
        print(f"{statement}: {seconds * 1000:.1f} ms, heavy modules loaded: {', '.join(runs[0][1]) or 'none'}")


if __name__ == "__main__":
    main()
