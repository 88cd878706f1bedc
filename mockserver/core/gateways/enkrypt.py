"""Enkrypt AI's proxy in front of the model: a saved deployment's guardrails on the way in and out.

Before the model sees a request, the deployment the `X-Enkrypt-Deployment` header names runs its input
detectors over the last user message (a text completion's prompt); a detector the deployment blocks on
refuses the request with the proxy's block response (400, the detections beside the error envelope)
and nothing is generated. After generation the output detectors read the reply's text, and the reply
carries both reports as `enkrypt_policy_detections`, or is refused the same way when an output detector
blocks. A scenario rule's `detections` make detectors fire as if the text had triggered them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mockserver.contract.errors import ApiError
from mockserver.contract.request import content_text, last_user_text
from mockserver.core.gateways.guardrails import Deployment, Guard, Texts, block_message, detect, fired
from mockserver.core.render.additions import reply_text, stream_with_fields, with_fields

NAME = "enkrypt"
DEPLOYMENT_HEADER = "X-Enkrypt-Deployment"
TAGS_HEADER = "X-Enkrypt-Tags"
FIELD = "enkrypt_policy_detections"


@dataclass(frozen=True, slots=True)
class Forced:
    """Detectors a scenario rule makes fire, per direction."""

    input: frozenset[str] = frozenset()
    output: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Admission:
    """A request the input guardrails let through, and what the output guardrails need to judge its reply."""

    deployment: Deployment
    input_report: Mapping[str, Any]
    question: str
    context: str | None
    forced_output: frozenset[str]


def _prompt_text(request: Mapping[str, Any]) -> str:
    """What the input guardrails read: the last user message, or a text completion's prompt."""
    if "messages" in request:
        return last_user_text(request) or ""
    prompt = request.get("prompt")
    if isinstance(prompt, list):
        return "\n".join(part for part in prompt if isinstance(part, str))
    return content_text(prompt) or ""


def _blocked(guard: Guard, report: Mapping[str, Any], reports: Mapping[str, Any], direction: str) -> None:
    blocking = [name for name in fired(report) if name in guard.block]
    if blocking:
        message = guard.block_message or block_message(blocking[0])
        raise ApiError("guardrail_blocked", message, code=f"{direction}_guardrails_violation",
                       extra={FIELD: dict(reports)})


def _deployment(table: Mapping[str, Deployment], headers: Mapping[str, str]) -> Deployment:
    name = headers.get(DEPLOYMENT_HEADER, "")
    deployment = table.get(name)
    if deployment is None:
        saved = ", ".join(sorted(table)) or "none (start the mock with --deployments FILE)"
        raise ApiError("deployment_not_found", f"Deployment '{name}' not found. Saved deployments: {saved}.",
                       param=DEPLOYMENT_HEADER)
    tags = [tag for tag in headers.get(TAGS_HEADER, "").split(",") if tag]
    unknown = [tag for tag in tags if tag not in deployment.tags]
    if unknown:
        raise ApiError("invalid_request", f"Tag '{unknown[0]}' is not a tag of deployment '{name}' (its tags: "
                       f"{', '.join(deployment.tags) or 'none'}).", param=TAGS_HEADER)
    return deployment


def admit(table: Mapping[str, Deployment], headers: Mapping[str, str], request: Mapping[str, Any],
          forced: Forced) -> Admission:
    """The deployment's input guardrails over the request; raises the proxy's error or block response."""
    deployment = _deployment(table, headers)
    question = _prompt_text(request)
    report = detect(deployment.input, Texts(question), forced.input)
    _blocked(deployment.input, report, {"input_guardrails": report}, "input")
    return Admission(deployment, report, question, request.get("enkrypt_context"), forced.output)


def finish(admission: Admission, rendered: bytes | Sequence[bytes]) -> bytes | list[bytes]:
    """The reply with both directions' detections, or the block response when an output detector blocks."""
    texts = Texts(reply_text(rendered), admission.question, admission.context)
    report = detect(admission.deployment.output, texts, admission.forced_output)
    reports = {"input_guardrails": admission.input_report, "output_guardrails": report}
    _blocked(admission.deployment.output, report, reports, "output")
    if isinstance(rendered, bytes):
        return with_fields(rendered, {FIELD: reports})
    return stream_with_fields(rendered, {FIELD: reports})
