"""The client matrix's environments: one virtual environment per Python group and one node_modules, each
built from the pinned files next to this module and kept in a cache outside the checkout.

The client libraries pin conflicting `openai` versions, so no two groups share an environment. An
environment's directory is named after a hash of what decides its contents (the pinned file, the Python or
Node version, the platform), so a changed pin builds a new one and an unchanged one is reused across runs and
checkouts. `CHATDOUBLE_CLIENTS_CACHE` moves the cache (default `~/.cache/chatdouble-clients`).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from uv import find_uv_bin

HERE = Path(__file__).resolve().parent
NODE_DIR = HERE / "node"
COMPLETE = ".complete"
BUILD_SECONDS = 900
KEY_LENGTH = 16
# The interpreter behind the test run's own virtual environment, which CI deletes before every run.
BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)


def cache_root() -> Path:
    default = Path.home() / ".cache" / "chatdouble-clients"
    return Path(os.environ.get("CHATDOUBLE_CLIENTS_CACHE", default))


def _key(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()[:KEY_LENGTH]


@contextmanager
def _locked(name: str) -> Iterator[None]:
    """One build of a group at a time, across processes: parallel runs would otherwise write one directory."""
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f".{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _prune(name: str, keep: Path) -> None:
    """Older builds of the same group: a changed pin leaves one behind each time. Only NAME-<key> matches,
    so a group whose name starts with another's is left alone."""
    for old in cache_root().glob(f"{name}-*"):
        key = old.name[len(name) + 1:]
        if old != keep and old.is_dir() and len(key) == KEY_LENGTH and all(c in "0123456789abcdef" for c in key):
            shutil.rmtree(old, ignore_errors=True)


def _build(name: str, target: Path, steps: list[list[str]], files: tuple[Path, ...] = ()) -> None:
    """Run the steps in a fresh directory holding `files`; the marker written last tells a finished build from
    one that was interrupted."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for source in files:
        shutil.copy(source, target / source.name)
    for step in steps:
        done = subprocess.run(step, cwd=target, capture_output=True, text=True, timeout=BUILD_SECONDS)
        if done.returncode != 0:
            shutil.rmtree(target, ignore_errors=True)
            raise RuntimeError(f"building {name} failed: {' '.join(step)}\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    (target / COMPLETE).write_text("")
    _prune(name, target)


def python_env(group: str) -> Path:
    """The interpreter of the group's environment (`requirements-GROUP.txt`), built on first use."""
    pinned = HERE / f"requirements-{group}.txt"
    name = f"py-{group}"
    interpreter = f"{sys.version_info.major}.{sys.version_info.minor}"
    target = cache_root() / f"{name}-{_key(pinned.read_bytes(), interpreter.encode(), platform.machine().encode())}"
    python = target / "bin" / "python"
    with _locked(name):
        if not (target / COMPLETE).exists():
            uv = find_uv_bin()
            _build(name, target, [[uv, "venv", "--quiet", "--python", BASE_PYTHON, str(target)],
                                  [uv, "pip", "install", "--quiet", "--python", str(python), "-r", str(pinned)]])
    return python


def node_modules() -> Path:
    """The node_modules of `node/package-lock.json`, installed with `npm ci` on first use."""
    node = shutil.which("node")
    npm = shutil.which("npm")
    if node is None or npm is None:
        raise FileNotFoundError("node and npm are needed for the Node clients")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    lock = (NODE_DIR / "package-lock.json").read_bytes()
    target = cache_root() / f"node-{_key(lock, (NODE_DIR / 'package.json').read_bytes(), version.encode())}"
    with _locked("node"):
        if not (target / COMPLETE).exists():
            _build("node", target, [[npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"]],
                   files=(NODE_DIR / "package.json", NODE_DIR / "package-lock.json"))
    return target / "node_modules"
