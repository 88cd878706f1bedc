"""An error as the bytes a client receives: the envelope, bent by the active quirks."""

from __future__ import annotations

import orjson

from mockserver.contract.errors import ApiError
from mockserver.core.render import quirks


def render_error(error: ApiError, quirk_names: tuple[str, ...]) -> tuple[int, bytes]:
    status, body = quirks.apply_error(quirk_names, error.status, error.envelope())
    return status, orjson.dumps(body)
