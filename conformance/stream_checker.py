"""The streaming protocol's state machine, where the README documents it (`conformance.checks.stream`)."""

from conformance.checks.stream import (
                                       STREAM_RULES,
                                       ChoiceAssembly,
                                       StreamChecker,
                                       StreamResult,
                                       ToolCallAssembly,
                                       check_stream_text,
)

__all__ = ["STREAM_RULES", "ChoiceAssembly", "StreamChecker", "StreamResult", "ToolCallAssembly",
           "check_stream_text"]
