"""The client matrix's environment cache: one build per group and pin, old builds of that group removed."""

from __future__ import annotations

from pathlib import Path

import environments
import pytest


def test_a_new_build_removes_older_builds_of_its_group_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATDOUBLE_CLIENTS_CACHE", str(tmp_path))
    for name in ("py-openai-0123456789abcdef", "py-openai-fedcba9876543210", "py-openai-agents-0123456789abcdef",
                 "py-openai-notes"):
        (tmp_path / name).mkdir()
    environments._prune("py-openai", tmp_path / "py-openai-fedcba9876543210")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "py-openai-agents-0123456789abcdef", "py-openai-fedcba9876543210", "py-openai-notes"]


def test_keys_follow_every_part_and_its_boundaries() -> None:
    key = environments._key(b"openai==3.57.0\n", b"3.11")
    assert len(key) == environments.KEY_LENGTH
    assert key == environments._key(b"openai==3.57.0\n", b"3.11")
    assert key != environments._key(b"openai==3.57.1\n", b"3.11")
    assert key != environments._key(b"openai==3.57.0\n3", b".11")
