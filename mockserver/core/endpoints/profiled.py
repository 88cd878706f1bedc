"""An endpoint as a compatibility profile serves it: the same table of functions, wrapped.

The wrapper takes the profile's parameters out of the body and checks them (`core.validate.profiles`),
lets the endpoint validate the rest against the contract, and hands both to the planner; it resolves a
gateway's model aliases first, works out the prompt a profile's parameters add to or cut from, and keys
the request for a gateway's cache when it enables one. Chat completions under a profile with vLLM's
stream style are written by vLLM's writers (`core.render.vllm`); every other endpoint keeps its own
writers, so an endpoint added to `ENDPOINTS` is served under every profile that lists its route without
code of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import orjson

from mockserver.contract.models import model_info
from mockserver.contract.profiles import DEFAULT_PROFILE, profile
from mockserver.contract.request import completion_limit
from mockserver.core.endpoints.model import Endpoint, ServeOptions, Validated, check_shared
from mockserver.core.gateways.watsonx import cache_key
from mockserver.core.generate.vendor import vllm_prompt_tokens
from mockserver.core.plan import CompletionPlan
from mockserver.core.render import quirks, vllm
from mockserver.core.validate.limits import check_room
from mockserver.core.validate.profiles import PROFILES, split_parameters

CHAT_ROUTE = "/chat/completions"


def _resolve_alias(body: Any, options: ServeOptions) -> Any:
    """A gateway maps a model alias back to the model's id before anything else reads the request."""
    if not options.aliases or not isinstance(body, dict) or not isinstance(body.get("model"), str):
        return body
    target = options.aliases.get(body["model"])
    return body if target is None else {**body, "model": target}


def _vllm_body(plan: CompletionPlan, quirk_names: tuple[str, ...]) -> bytes:
    return orjson.dumps(quirks.apply_body(quirk_names, vllm.completion_body(plan)))


def _vllm_stream(plan: CompletionPlan, request: Mapping[str, Any], quirk_names: tuple[str, ...]) -> list[bytes]:
    return quirks.apply_stream(quirk_names, vllm.stream_chunks(plan, request))


def profiled(endpoint: Endpoint, profile_name: str) -> Endpoint:
    """`endpoint` as `profile_name` serves it; the endpoint itself under the default profile."""
    if profile_name == DEFAULT_PROFILE:
        return endpoint
    route = endpoint.paths[0]
    rules = PROFILES[profile_name].check

    def validate(body: Any, options: ServeOptions) -> Validated:
        rest, extras = split_parameters(profile_name, route, _resolve_alias(body, options))
        validated = endpoint.validate(rest, options)
        if not extras:
            return validated
        request = {**validated.request, **extras}
        rules(request)
        prompt = validated.prompt_tokens
        if "documents" in extras or "truncate_prompt_tokens" in extras:
            prompt = vllm_prompt_tokens(request, prompt)
            model = request["model"]
            check_room(prompt, completion_limit(request),
                       options.context_windows.get(model) or model_info(model).context_window)
        key = cache_key(request)
        if key is not None:
            check_shared(options, "The gateway's cache ('cache.enabled')", "cache")
        return replace(validated, request=request, prompt_tokens=prompt,
                       cost=validated.cost - validated.prompt_tokens + prompt, cache_key=key)

    wrapped = replace(endpoint, validate=validate)
    if profile(profile_name).stream == "vllm" and route == CHAT_ROUTE:
        wrapped = replace(wrapped, body=_vllm_body, stream=_vllm_stream, again=None)
    return wrapped
