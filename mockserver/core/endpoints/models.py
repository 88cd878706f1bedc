"""`GET /models` and `GET /models/{model}`: the model table, or only the models a server serves."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from mockserver.contract.errors import model_not_found
from mockserver.contract.models import known_models, model_info
from mockserver.core.endpoints.model import Endpoint, ServeOptions, Validated
from mockserver.core.generate.planner import Context


def _model_object(model_id: str, card: Mapping[str, Any]) -> dict[str, Any]:
    info = model_info(model_id)
    return {"id": info.id, "object": "model", "created": info.created, "owned_by": info.owned_by, **card}


def _served(options: ServeOptions) -> list[str]:
    return list(options.models) if options.models is not None else list(known_models())


def _validate_list(route: Any, options: ServeOptions) -> Validated:
    return Validated({"models": tuple(_served(options)), "cards": options.cards})


def _validate_one(route: Any, options: ServeOptions) -> Validated:
    model = options.aliases.get(route["model"], route["model"])
    if model not in _served(options):
        raise model_not_found(route["model"])
    return Validated({"model": model, "cards": options.cards})


def _plan_list(request: Mapping[str, Any], context: Context) -> dict[str, Any]:
    return {"object": "list", "data": [_model_object(m, request["cards"].get(m, {})) for m in request["models"]]}


def _plan_one(request: Mapping[str, Any], context: Context) -> dict[str, Any]:
    return _model_object(request["model"], request["cards"].get(request["model"], {}))


def _body(plan: dict[str, Any], quirk_names: tuple[str, ...]) -> bytes:
    return orjson.dumps(plan)


def _unpaced(plan: dict[str, Any]) -> tuple[int, str]:
    return 0, ""


MODELS = Endpoint(name="models", method="GET", paths=("/models",), validate=_validate_list, plan=_plan_list,
                  body=_body, pacing=_unpaced, reads_body=False, generates=False)
MODEL = Endpoint(name="models.retrieve", method="GET", paths=("/models/{model:.+}",), validate=_validate_one,
                 plan=_plan_one, body=_body, pacing=_unpaced, reads_body=False, generates=False)
