"""Scripted behaviour as plain data: rules that match requests and say what happens to them.

A scenario is a list of rules plus, when strict, the error for requests no rule matches. The same rule
dictionaries arrive from YAML/JSON files, the admin API and the pytest plugin; `parse_rule` turns each
into frozen data once (`model`), checked against the published scenario schema (`parse`), and `select`
picks the action for a request as a pure function of the rules, the request and how many earlier
requests each rule has already seen (`match`).
"""

from mockserver.controls.rules.match import RequestView, matches, select
from mockserver.controls.rules.model import (
                                             ACTION_KEYS,
                                             REPLY_ACTIONS,
                                             Action,
                                             Counts,
                                             ErrorSpec,
                                             FieldTest,
                                             Match,
                                             Rule,
                                             Scenario,
                                             TextMatch,
)
from mockserver.controls.rules.parse import (
                                             load_scenario,
                                             parse_action,
                                             parse_error,
                                             parse_match,
                                             parse_rule,
                                             parse_scenario,
                                             parse_strict,
                                             read_document,
)

__all__ = ["ACTION_KEYS", "REPLY_ACTIONS", "Action", "Counts", "ErrorSpec", "FieldTest", "Match", "RequestView",
           "Rule", "Scenario", "TextMatch", "load_scenario", "matches", "parse_action", "parse_error", "parse_match",
           "parse_rule", "parse_scenario", "parse_strict", "read_document", "select"]
