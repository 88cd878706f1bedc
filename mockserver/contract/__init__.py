"""The contract as data, shared by the mock and the conformance suite, with nothing heavy to import.

The JSON Schemas and tables of `fixtures/` (`fixtures`, `models`, `errors`), the wire format's names
(`wire`), the error envelope (`errors.ApiError`), one reading of a request (`request`) and one SSE
writer and reader (`sse`). The conformance suite imports only this package from the mock.
"""

from mockserver.contract.errors import ApiError, ErrorKind, error_kind, error_kinds
from mockserver.contract.fixtures import (
                                      finish_reasons,
                                      fixtures_dir,
                                      load_json,
                                      request_parameters,
                                      schema,
)
from mockserver.contract.models import ModelInfo, known_models, model_info
from mockserver.contract.wire import (
                                      FINISH_CONTENT_FILTER,
                                      FINISH_FUNCTION_CALL,
                                      FINISH_LENGTH,
                                      FINISH_STOP,
                                      FINISH_TOOL_CALLS,
                                      TOOL_CALL_TEXT,
                                      served_tier,
)

__all__ = ["FINISH_CONTENT_FILTER", "FINISH_FUNCTION_CALL", "FINISH_LENGTH", "FINISH_STOP", "FINISH_TOOL_CALLS",
           "TOOL_CALL_TEXT", "ApiError", "ErrorKind", "ModelInfo", "error_kind", "error_kinds", "finish_reasons",
           "fixtures_dir", "known_models", "load_json", "model_info", "request_parameters", "schema",
           "served_tier"]
