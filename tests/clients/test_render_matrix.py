"""The README's client matrix is written from the client programs' reports, between its markers only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from render_matrix import END, START, main, replace, table

REPORTS = [
    {"library": "zeta-client", "distribution": "zeta", "version": "2.0", "runtime": "Node 20.1.0",
     "results": [{"feature": "create", "outcome": "passed", "reason": "", "detail": ""}]},
    {"library": "alpha-client", "distribution": "alpha", "version": "1.4", "runtime": "Python 3.11.7",
     "results": [{"feature": "reply", "outcome": "passed", "reason": "", "detail": ""},
                 {"feature": "a | b", "outcome": "xfailed", "reason": "mock: wrong\nwording", "detail": "Trace"}]},
]


def write_reports(folder: Path) -> None:
    folder.mkdir()
    for report in REPORTS:
        (folder / f"{report['library']}.json").write_text(json.dumps(report))


def test_rows_name_library_and_version_once_and_number_the_reasons() -> None:
    assert table([REPORTS[1], REPORTS[0]]).splitlines() == [
        "| Library | Version | Feature | Result |",
        "|---|---|---|---|",
        "| alpha-client | alpha 1.4 (Python 3.11.7) | reply | pass |",
        "|  |  | a \\| b | expected failure (1) |",
        "| zeta-client | zeta 2.0 (Node 20.1.0) | create | pass |",
        "",
        "1. alpha-client, a | b: mock: wrong wording",
    ]


def test_only_the_text_between_the_markers_changes(tmp_path: Path) -> None:
    write_reports(tmp_path / "results")
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nBefore.\n{START}\nold table\n{END}\nAfter.\n")
    assert main(["--results", str(tmp_path / "results"), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith(f"# Title\n\nBefore.\n{START}\n| Library |") and text.endswith(f"{END}\nAfter.\n")
    assert "old table" not in text and text.index("alpha-client") < text.index("zeta-client")


@pytest.mark.parametrize("readme", ["no markers", f"{END}\n{START}", f"{START}{START}{END}"])
def test_a_readme_without_one_pair_of_markers_is_refused(readme: str) -> None:
    with pytest.raises(ValueError, match="client-matrix:start"):
        replace(readme, "table")


def test_no_reports_is_an_error_that_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="pytest -m clients"):
        main(["--results", str(tmp_path), "--readme", str(tmp_path / "README.md")])
