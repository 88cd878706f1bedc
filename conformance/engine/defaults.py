"""Run-size defaults, kept apart so that light importers (the pytest plugin, loaded in every pytest
session of an environment) need not import Hypothesis."""

DEFAULT_MAX_EXAMPLES = 10
DEFAULT_MAX_REQUESTS = 600
