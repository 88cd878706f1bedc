"""The whole suite as one call, where the README documents it (`conformance.engine.session`)."""

from conformance.engine.result import RunResult
from conformance.engine.session import run_suite

__all__ = ["RunResult", "run_suite"]
