"""The suite against a server that is broken in every way a network peer can be: it finishes within its
timeout and budget, in bounded memory, with a readable report and exit status 1 or 2, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hostile import BEHAVIOURS, Hostile

TIMEOUT = 1.0
MAX_REQUESTS = 12
MEMORY_KIB = 400 * 1024
"""Peak resident memory allowed to a run: a fraction of the 100 MB body, of the 10 GiB a gzip bomb inflates to."""

CUT = ("larger than 8 MiB", f"within {TIMEOUT:g} s (timeout)")
"""An endless reply ends at the size cap or at the deadline, whichever comes first for the reader."""
# behaviour -> what the reader may be told, one of
TOLD = {
    "garbage": ("no HTTP reply: a reply that is not HTTP",),
    "endless_sse": CUT,
    "endless_body": CUT,
    "slow_drip": (f"within {TIMEOUT:g} s (timeout)",),
    "huge_body": CUT,
    "invalid_utf8": ("completion_schema", "stream_framing"),
    "html_500": ("status 500",),
    "reset": ("no HTTP reply: the server",),
    "gzip_bomb": CUT,
    "redirect_loop": ("status 307",),
}


@dataclass
class Run:
    status: int
    err: str
    seconds: float
    peak_kib: int
    report: Any


_PEAK_REPORTED = """
import atexit, os, runpy

def peak():
    with open("/proc/self/status") as status, open(os.environ["CONFORMANCE_PEAK_FILE"], "w") as out:
        out.write(next(line.split()[1] for line in status if line.startswith("VmHWM:")))

atexit.register(peak)
runpy.run_module("conformance", run_name="__main__", alter_sys=True)
"""
"""`python -m conformance` that writes its own peak resident memory at exit. The kernel's account of a child
(`wait4`) also counts the memory of the process it was forked from, the test worker, which holds whatever
earlier tests left; the new program's own high-water mark (`VmHWM`) is the run's alone."""


def _run(url: str, *extra: str, group: str = "choices", report: Path | None = None) -> Run:
    """The CLI as a user runs it: exit status, stderr, seconds taken, peak memory and the JSON report."""
    argv = [sys.executable, "-c", _PEAK_REPORTED, "--base-url", url, "--only", group, "--max-examples", "2",
            "--timeout", str(TIMEOUT), "--max-requests", str(MAX_REQUESTS), *extra]
    if report is not None:
        argv += ["--report", str(report)]
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as err, tempfile.TemporaryDirectory() as folder:
        peak_file = Path(folder) / "peak"
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, text=True,
                                   env={**os.environ, "CONFORMANCE_PEAK_FILE": str(peak_file)})
        guard = threading.Timer(120, process.kill)
        guard.start()
        process.wait()
        guard.cancel()
        err.seek(0)
        document = json.loads(report.read_text()) if report is not None and report.exists() else None
        peak = int(peak_file.read_text()) if peak_file.exists() else MEMORY_KIB
        return Run(process.returncode, err.read(), time.monotonic() - started, peak, document)


GROUPS = ("choices", "streaming")
"""A plain request's reply is read whole, a streamed one line by line: both readers are put to it."""


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Run]:
    """Every behaviour against both readers, four runs at a time: they mostly wait out timeouts."""
    folder = tmp_path_factory.mktemp("hostile")

    def one(case: tuple[str, str]) -> Run:
        behaviour, group = case
        with Hostile(behaviour) as server:
            return _run(server.url, group=group, report=folder / f"{behaviour}-{group}.json")

    cases = [(behaviour, group) for behaviour in BEHAVIOURS for group in GROUPS]
    with ThreadPoolExecutor(4) as pool:
        return dict(zip(cases, pool.map(one, cases)))


def test_every_behaviour_is_listed() -> None:
    assert set(TOLD) == set(BEHAVIOURS)


@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.parametrize("behaviour", BEHAVIOURS)
def test_the_suite_survives(behaviour: str, group: str, runs: dict[tuple[str, str], Run]) -> None:
    run = runs[behaviour, group]
    assert run.status in (1, 2), run.err
    assert "Traceback" not in run.err, run.err
    assert any(told in run.err for told in TOLD[behaviour]), run.err
    assert run.seconds < MAX_REQUESTS * TIMEOUT + 30
    assert run.peak_kib < MEMORY_KIB
    assert run.report["ok"] is False
    assert (run.report["aborted"] is not None) == (run.status == 2)


@pytest.mark.parametrize("behaviour", ["reset", "slow_drip"])
def test_a_broken_model_listing_is_a_usage_error(behaviour: str) -> None:
    with Hostile(behaviour, everywhere=True) as server:
        run = _run(server.url, "--model", "m")
    assert run.status == 2 and "Traceback" not in run.err, run.err
    assert "/models" in run.err
    assert run.seconds < TIMEOUT + 30
