"""instructor on the official client (`from_openai`): `response_model` in its tool and JSON-schema modes,
partial streaming, validation retries that re-ask, 429 retries and the exception when retries run out."""

from __future__ import annotations

import instructor
import openai
from harness import API_KEY, MODEL, Mock, case, main
from instructor.core.exceptions import InstructorRetryException
from pydantic import BaseModel, Field

ASK = [{"role": "user", "content": "Extract: Ada Lovelace was 36."}]


class Person(BaseModel):
    name: str
    age: int = Field(ge=0, le=150)


def client(mock: Mock, mode: instructor.Mode = instructor.Mode.TOOLS, max_retries: int = 2) -> instructor.Instructor:
    return instructor.from_openai(openai.OpenAI(base_url=mock.base_url, api_key=API_KEY, max_retries=max_retries),
                                  mode=mode)


@case("response_model (tools mode)")
def tools_mode(mock: Mock) -> None:
    person = client(mock).chat.completions.create(model=MODEL, messages=ASK, response_model=Person)
    assert isinstance(person, Person)
    assert mock.completions()[-1]["body"]["tool_choice"]["function"]["name"] == "Person"


@case("response_model (tools strict mode)")
def tools_strict_mode(mock: Mock) -> None:
    person = client(mock, instructor.Mode.TOOLS_STRICT).chat.completions.create(
        model=MODEL, messages=ASK, response_model=Person)
    assert isinstance(person, Person)


@case("response_model (json_schema mode)")
def json_schema_mode(mock: Mock) -> None:
    person = client(mock, instructor.Mode.JSON_SCHEMA).chat.completions.create(
        model=MODEL, messages=ASK, response_model=Person)
    assert isinstance(person, Person)
    assert mock.completions()[-1]["body"]["response_format"]["type"] == "json_schema"


@case("response_model (json mode, scripted object)")
def json_mode(mock: Mock) -> None:
    mock.rules({"match": {"body": {"response_format.type": "json_object"}}, "object": {"name": "Ada", "age": 36}})
    person = client(mock, instructor.Mode.JSON).chat.completions.create(model=MODEL, messages=ASK,
                                                                         response_model=Person)
    assert person.model_dump() == {"name": "Ada", "age": 36}


@case("async response_model")
async def async_model(mock: Mock) -> None:
    chat = instructor.from_openai(openai.AsyncOpenAI(base_url=mock.base_url, api_key=API_KEY))
    person = await chat.chat.completions.create(model=MODEL, messages=ASK, response_model=Person)
    assert isinstance(person, Person)


@case("create_partial streaming")
def partial(mock: Mock) -> None:
    partials = list(client(mock).chat.completions.create_partial(model=MODEL, messages=ASK, response_model=Person))
    assert len(partials) > 1 and isinstance(partials[-1].age, int) and partials[-1].name


@case("validation retry re-asks")
def validation_retry(mock: Mock) -> None:
    mock.rules({"tool_calls": [{"name": "Person", "arguments": {"name": "Ada", "age": 999}}], "times": 1})
    person = client(mock).chat.completions.create(model=MODEL, messages=ASK, response_model=Person, max_retries=2)
    assert 0 <= person.age <= 150
    retry = mock.completions()[1]["body"]["messages"]
    assert len(mock.completions()) == 2 and "less than or equal to 150" in str(retry[-1])


@case("retries exhausted surfaced")
def retries_exhausted(mock: Mock) -> None:
    mock.rules({"tool_calls": [{"name": "Person", "arguments": {"name": "Ada", "age": 999}}]})
    try:
        client(mock).chat.completions.create(model=MODEL, messages=ASK, response_model=Person, max_retries=2)
    except InstructorRetryException as exc:
        assert exc.n_attempts == 3 and len(mock.completions()) == 3
    else:
        raise AssertionError("no InstructorRetryException")


@case("429 retried")
def retried(mock: Mock) -> None:
    mock.rules({"error": {"status": 429, "retry_after": 0.01}, "times": 2})
    assert isinstance(client(mock).chat.completions.create(model=MODEL, messages=ASK, response_model=Person), Person)
    assert mock.statuses() == [429, 429, 200]


@case("API error surfaced, not re-asked")
def error_surfaced(mock: Mock) -> None:
    mock.rules({"error": {"status": 400, "kind": "context_length_exceeded", "param": "messages"}})
    try:
        client(mock).chat.completions.create(model=MODEL, messages=ASK, response_model=Person, max_retries=2)
    except InstructorRetryException as exc:
        assert isinstance(exc.__cause__, openai.BadRequestError) and exc.__cause__.code == "context_length_exceeded"
        assert exc.n_attempts == 1 and len(mock.completions()) == 1
    else:
        raise AssertionError("no InstructorRetryException")


if __name__ == "__main__":
    main("instructor", "instructor")
