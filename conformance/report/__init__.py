"""The run's result written for people and for machines: JSON (`json_report`, described by
`report.schema.json`), JUnit XML (`junit`), a Markdown feature matrix (`markdown`), a self-contained
HTML page (`html`), and the terminal's progress and summary (`terminal`)."""

from conformance.report.html import html_page, write_html
from conformance.report.json_report import as_dict, write_json
from conformance.report.junit import junit_xml, write_junit
from conformance.report.markdown import markdown, write_markdown
from conformance.report.terminal import Terminal

__all__ = ["Terminal", "as_dict", "html_page", "junit_xml", "markdown", "write_html", "write_json", "write_junit",
           "write_markdown"]
