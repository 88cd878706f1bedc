"""Covering examples kept between runs (`conformance.engine.cache`): the same examples as finding them,
found again when the file is damaged, never read or written with `--no-cache`."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.engine import cache
from conformance.engine.groups import GROUPS
from conformance.generate.coverage import covering_examples

MODEL = "gpt-4o-mini"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CHATDOUBLE_CACHE_DIR", str(tmp_path))
    return tmp_path


def _found(calls: list[int], examples: list[object]) -> list[object]:
    calls.append(1)
    return examples


def test_kept_examples_are_the_found_ones_and_are_found_once(folder: Path) -> None:
    part = GROUPS["choices"].parts(MODEL)["choices"]
    calls: list[int] = []
    find = lambda: _found(calls, covering_examples(part.strategy, part.coverage))  # noqa: E731
    first = cache.covering(("choices", MODEL, "choices"), find)
    again = cache.covering(("choices", MODEL, "choices"), find)
    assert first == again == covering_examples(part.strategy, part.coverage) and first
    assert calls == [1]
    (stored,) = (folder / f"covering-{cache.fingerprint()}").iterdir()
    assert pickle.loads(stored.read_bytes()) == first


def test_a_damaged_entry_is_found_again_and_rewritten(folder: Path) -> None:
    calls: list[int] = []
    cache.covering(("g", "m", "p"), lambda: _found(calls, [{"n": 1}]))
    (stored,) = (folder / f"covering-{cache.fingerprint()}").iterdir()
    stored.write_bytes(b"not a pickle")
    assert cache.covering(("g", "m", "p"), lambda: _found(calls, [{"n": 1}])) == [{"n": 1}]
    assert calls == [1, 1] and pickle.loads(stored.read_bytes()) == [{"n": 1}]


def test_entries_of_another_digest_are_deleted(folder: Path) -> None:
    stale = folder / "covering-0123456789abcdef01234567"
    stale.mkdir()
    (stale / "old.pickle").write_bytes(pickle.dumps([1]))
    cache.covering(("g", "m", "p"), lambda: [2])
    assert not stale.exists() and [path.name for path in folder.iterdir()] == [f"covering-{cache.fingerprint()}"]


def test_no_cache_neither_reads_nor_writes(folder: Path) -> None:
    calls: list[int] = []
    assert cache.covering(("g", "m", "p"), lambda: _found(calls, [3]), use=False) == [3]
    assert calls == [1] and not any(folder.iterdir())
    done = subprocess.run([sys.executable, "-m", "conformance", "--only", "choices", "--no-cache"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-2000:]
    assert not any(folder.iterdir())


def test_examples_that_cannot_be_kept_leave_nothing_behind(folder: Path) -> None:
    assert cache.covering(("g", "m", "p"), lambda: [lambda: None]) and not list(folder.rglob("*.tmp"))
    assert not list(folder.rglob("*.pickle"))
