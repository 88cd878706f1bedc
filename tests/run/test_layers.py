"""The package layout is a promise: the layers import only downwards, checked by import-linter."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_hold() -> None:
    command = shutil.which("lint-imports")
    if command is None:
        pytest.skip("import-linter is not installed (it comes with the test extra)")
    completed = subprocess.run([command, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stdout[-3000:]
    assert "broken" not in completed.stdout.split("Contracts:")[-1].replace("0 broken", "")
