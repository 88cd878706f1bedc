"""The import contracts hold (the mock's layers, and the suite reaching the mock only through
`mockserver.contract` and the one module that starts the mock in-process), and the suite's library entry
points stay light to import."""

from __future__ import annotations

import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import mockserver

tomllib = pytest.importorskip("tomllib")
ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("aiohttp", "faker", "jsonschema_rs", "yaml", "hypothesis")


def _contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def test_the_forbidden_list_names_every_part_of_the_mock_but_the_contract() -> None:
    """A new subpackage of the mock is forbidden to the suite until someone decides otherwise."""
    [forbidden] = [c for c in _contracts() if c["type"] == "forbidden" and c["source_modules"] == ["conformance"]]
    parts = {f"mockserver.{info.name}" for info in pkgutil.iter_modules(mockserver.__path__)}
    assert set(forbidden["forbidden_modules"]) == parts - {"mockserver.contract"}
    assert forbidden["ignore_imports"] == ["conformance.engine.mock -> mockserver.**"]


@pytest.mark.skipif(shutil.which("lint-imports") is None, reason="import-linter is not installed")
def test_import_contracts_are_kept() -> None:
    run = subprocess.run(["lint-imports"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


@pytest.mark.parametrize("statement", ["from conformance import checks",
                                       "from conformance.stream_checker import StreamChecker",
                                       "import conformance.report", "import conformance.pytest_plugin"])
def test_library_imports_stay_light(statement: str) -> None:
    code = f"import sys; {statement}; print(sorted({{m.split('.')[0] for m in sys.modules}}))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert not [name for name in HEAVY if f"'{name}'" in loaded], loaded
