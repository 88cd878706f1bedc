"""What a gateway in front of the model does to a request and its reply, per compatibility profile.

A gateway may refuse a request before the model sees it (`admit`: a guardrail proxy's input detectors)
and changes the reply the model wrote before the client gets it (`finish`: a cache's flag, the
detections on the output). Both are pure functions of the request, its headers, the gateway's settings
and the written reply, so one pipeline serves every profile and every endpoint a gateway routes to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mockserver.core.gateways import enkrypt, watsonx
from mockserver.core.gateways.enkrypt import Forced
from mockserver.core.gateways.guardrails import Deployment

Reply = bytes | Sequence[bytes]
Admit = Callable[[Mapping[str, Deployment], Mapping[str, str], Mapping[str, Any], Forced], Any]
Finish = Callable[[Any, Reply, str], Reply]


@dataclass(frozen=True, slots=True)
class Gateway:
    finish: Finish
    """The reply as the client gets it, from what `admit` returned, the written reply and its route."""
    admit: Admit | None = None
    """Before the model: raises the gateway's refusal, or returns what `finish` needs to know."""
    from_cache: Callable[[bytes], bytes] | None = None
    """A reply the gateway's cache stored, as it is sent again."""


def _enkrypt_finish(admission: enkrypt.Admission, rendered: Reply, route: str) -> Reply:
    return enkrypt.finish(admission, rendered)


GATEWAYS: dict[str, Gateway] = {
    watsonx.NAME: Gateway(finish=watsonx.finish, from_cache=watsonx.served_from_cache),
    enkrypt.NAME: Gateway(finish=_enkrypt_finish, admit=enkrypt.admit),
}

__all__ = ["GATEWAYS", "Forced", "Gateway"]
