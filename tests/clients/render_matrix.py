"""Write the README's client matrix from the reports of the last `pytest -m clients` run.

    python tests/clients/render_matrix.py [--results build/client-matrix] [--readme README.md]

Each client program's report (library, the distribution tested and its version, runtime, and per feature an outcome and, for an expected
failure, its reason) becomes rows of one table, placed between the README's two marker comments; the rest
of the README is left as it is. Expected failures get numbered notes under the table with their reasons.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

START = "<!-- client-matrix:start -->"
END = "<!-- client-matrix:end -->"
RESULT = {"passed": "pass", "failed": "**FAIL**", "xfailed": "expected failure", "xpassed": "**unexpected pass**"}
ROOT = Path(__file__).resolve().parents[2]


def load(results: Path) -> list[dict[str, Any]]:
    reports = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(results.glob("*.json"))]
    if not reports:
        raise FileNotFoundError(f"no client reports in {results}: run `pytest -m clients` first")
    return sorted(reports, key=lambda report: report["library"])


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(reports: Iterable[dict[str, Any]]) -> str:
    rows = ["| Library | Version | Feature | Result |", "|---|---|---|---|"]
    notes: list[str] = []
    for report in reports:
        first = True
        for result in report["results"]:
            verdict = RESULT[result["outcome"]]
            if result["reason"]:
                notes.append(f"{len(notes) + 1}. {report['library']}, {result['feature']}: "
                             + result["reason"].replace("\n", " "))
                verdict += f" ({len(notes)})"
            library = f"{report['library']}" if first else ""
            version = f"{report['distribution']} {report['version']} ({report['runtime']})" if first else ""
            rows.append(f"| {library} | {version} | {_cell(result['feature'])} | {verdict} |")
            first = False
    return "\n".join(rows + ([""] + notes if notes else []))


def replace(readme: str, rendered: str) -> str:
    """The README with the text between the markers replaced, markers kept."""
    if readme.count(START) != 1 or readme.count(END) != 1 or readme.index(START) > readme.index(END):
        raise ValueError(f"the README needs one {START} followed by one {END}")
    head, rest = readme.split(START)
    _, tail = rest.split(END)
    return f"{head}{START}\n{rendered}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=ROOT / "build" / "client-matrix")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    options = parser.parse_args(argv)
    rendered = table(load(options.results))
    readme = options.readme.read_text(encoding="utf-8")
    options.readme.write_text(replace(readme, rendered), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
