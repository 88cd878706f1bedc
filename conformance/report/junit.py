"""JUnit XML (`--junit`): one test suite per area of the contract, one test case per check."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from conformance.engine.result import CheckRecord, RunResult
from conformance.report.common import failure_text


def junit_xml(result: RunResult) -> str:
    suites = ET.Element("testsuites", name="conformance", tests=str(len(result.checks)),
                        failures=str(len(result.failures)))
    by_area: dict[str, list[CheckRecord]] = {}
    for record in result.checks.values():
        by_area.setdefault(record.area, []).append(record)
    for area, records in by_area.items():
        suite = ET.SubElement(suites, "testsuite", name=f"conformance.{area}", tests=str(len(records)),
                              failures=str(sum(r.status == "fail" for r in records)),
                              skipped=str(sum(r.status == "not exercised" for r in records)))
        for record in records:
            case = ET.SubElement(suite, "testcase", classname=f"conformance.{area}", name=record.name)
            details = "\n\n".join(f"group {f.group}:\n{failure_text(f)}" for f in record.failures.values())
            if record.status == "fail":
                first = next(iter(record.failures.values()))
                ET.SubElement(case, "failure", message=f"expected {first.expected}").text = details
            elif record.status == "not exercised":
                ET.SubElement(case, "skipped", message="no generated request exercised this check")
            elif record.status == "warn":
                ET.SubElement(case, "system-out").text = "warning: " + details
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


def write_junit(result: RunResult, path: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(junit_xml(result) + "\n")
