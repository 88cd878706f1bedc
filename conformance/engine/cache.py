"""Covering examples kept on disk between runs.

Finding and shrinking the smallest example of every variant a group claims is most of a default run's
time (about nine tenths against the mock), and it sends nothing: the examples are a pure function of the
suite's own code, the contract files it reads and Hypothesis, run derandomised. So they are stored under a
digest of all of those, and a later run with the same digest reads them instead of finding them again;
any change to the code, the contract or Hypothesis's version makes a new digest (and the stale entries
are deleted). A file that cannot be read is found again and written anew, so the cache never changes what
a run sends, only how soon it sends it.

Where: `$CHATDOUBLE_CACHE_DIR`, else `$XDG_CACHE_HOME/chatdouble`, else `~/.cache/chatdouble`;
`conformance --no-cache` neither reads nor writes it.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hypothesis

import conformance
from mockserver import contract
from mockserver.contract.fixtures import fixtures_dir

_PREFIX = "covering-"


def cache_root() -> Path:
    explicit = os.environ.get("CHATDOUBLE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "chatdouble"


@functools.cache
def fingerprint() -> str:
    """What the examples depend on: the suite's code, the contract's code and files, Hypothesis, Python."""
    digest = hashlib.sha256(f"{hypothesis.__version__}|{sys.version_info[:2]}".encode())
    for folder, pattern in ((Path(conformance.__file__).parent, "*.py"), (Path(contract.__file__).parent, "*.py"),
                            (fixtures_dir(), "*")):
        for path in sorted(folder.rglob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:24]


def _folder() -> Path:
    return cache_root() / (_PREFIX + fingerprint())


def _path(key: tuple[str, ...]) -> Path:
    return _folder() / (hashlib.sha256("\0".join(key).encode()).hexdigest()[:32] + ".pickle")


def _read(path: Path) -> list[Any] | None:
    try:
        with path.open("rb") as handle:
            found = pickle.load(handle)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, ValueError, TypeError):
        return None
    return found if isinstance(found, list) else None


def _write(path: Path, examples: list[Any]) -> None:
    """Atomically (parallel runs may write the same entry), deleting the entries of other digests when
    this digest's folder is new. A cache that cannot be written costs the next run its time, nothing more."""
    try:
        if not path.parent.is_dir():
            for stale in path.parent.parent.glob(_PREFIX + "*"):
                shutil.rmtree(stale, ignore_errors=True)
            path.parent.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp")
    except OSError:
        return
    written = Path(handle.name)
    try:
        with handle:
            pickle.dump(examples, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(written, path)
    except (OSError, pickle.PicklingError, AttributeError, TypeError):
        written.unlink(missing_ok=True)


def covering(key: tuple[str, ...], find: Callable[[], list[Any]], use: bool = True) -> list[Any]:
    """`find()`'s examples for `key`, from the cache when it holds them."""
    if not use:
        return find()
    path = _path(key)
    found = _read(path)
    if found is None:
        found = find()
        _write(path, found)
    return found
