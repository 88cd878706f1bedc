"""The `mock_openai` fixture as a user's test suite sees it, run in isolation with pytester."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

SYNC_TESTS = '''
import openai

def client(mock):
    return openai.OpenAI(base_url=mock.base_url, api_key=mock.api_key, max_retries=2)

def test_reply_and_journal(mock_openai):
    mock_openai.on(last_user="ping").reply("pong")
    reply = client(mock_openai).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "ping"}])
    assert reply.choices[0].message.content == "pong"
    assert mock_openai.last_request.body["messages"][0]["content"] == "ping"
    assert mock_openai.last_request.headers["authorization"] == "Bearer [redacted]"

def test_rules_and_journal_are_reset_between_tests(mock_openai):
    assert mock_openai.requests == []
    assert mock_openai.rules == []
    reply = client(mock_openai).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "ping"}])
    assert reply.choices[0].message.content != "pong"

def test_fail_then_recover(mock_openai):
    mock_openai.fail(429, retry_after=0.01, times=2)
    client(mock_openai).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    assert [r.status for r in mock_openai.requests] == [429, 429, 200]
    assert mock_openai.unused_rules() == []

def test_tool_call(mock_openai):
    mock_openai.tool_call("lookup", {"q": "chatdouble"})
    reply = client(mock_openai).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "find it"}],
        tools=[{"type": "function", "function": {"name": "lookup"}}])
    call = reply.choices[0].message.tool_calls[0]
    assert (call.function.name, call.function.arguments) == ("lookup", '{"q":"chatdouble"}')
    assert reply.choices[0].finish_reason == "tool_calls"

def test_env(mock_openai_env):
    reply = openai.OpenAI().chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    assert reply.id.startswith("chatcmpl-")
    assert len(mock_openai_env.requests) == 1

def test_invalid_rule_is_reported(mock_openai):
    try:
        mock_openai.on(colour="red").reply("x")
    except ValueError as exc:
        assert "rules[0].match.colour" in str(exc)
    else:
        raise AssertionError("accepted an unknown match field")

def test_strict_and_remove_rule(mock_openai):
    rule = mock_openai.on(last_user="ping").reply("pong")
    mock_openai.strict()
    chat = client(mock_openai)
    try:
        chat.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "other"}])
    except openai.NotFoundError as exc:
        assert exc.code == "unmatched_request"
    else:
        raise AssertionError("strict mode answered an unmatched request")
    mock_openai.remove_rule(rule)
    mock_openai.strict(False)
    assert mock_openai.rules == []
    reply = chat.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "ping"}])
    assert reply.choices[0].message.content != "pong"

def test_sequence(mock_openai):
    mock_openai.on(model="gpt-4o").sequence({"reply": "first"}, {"reply": "second"})
    chat = client(mock_openai)
    texts = [chat.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
             .choices[0].message.content for _ in range(3)]
    assert texts[:2] == ["first", "second"] and texts[2] not in ("first", "second")
'''

ASYNC_TESTS = '''
import openai
import pytest

@pytest.mark.asyncio
async def test_async_client(mock_openai):
    mock_openai.reply("from async")
    chat = openai.AsyncOpenAI(base_url=mock_openai.base_url, api_key=mock_openai.api_key)
    reply = await chat.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content == "from async"
    await chat.close()
'''


def test_fixture_in_sync_tests_and_with_pytest_asyncio(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_user=SYNC_TESTS, test_user_async=ASYNC_TESTS)
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=9)


def test_a_failing_expectation_fails_the_users_test(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_user_fail='''
def test_unmet(mock_openai):
    mock_openai.on(last_user="hello").reply("never asked", times=1)
    mock_openai.assert_all_used()
''')
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*mock_openai rules never used: rule-*"])


def test_scenario_files_load_into_the_fixture(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makefile(".yaml", agent=AGENT_YAML, broken="rules:\n  - reply: ok\n    colour: red\n")
    pytester.makepyfile(test_user_files='''
import re

import openai
import pytest

def test_agent_file(mock_openai):
    ids = mock_openai.load_scenario("agent.yaml")
    assert ids == ["greet"]
    chat = openai.OpenAI(base_url=mock_openai.base_url, api_key=mock_openai.api_key, max_retries=0)
    reply = chat.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hello"}])
    assert reply.choices[0].message.content == "Hi from a file."
    with pytest.raises(openai.NotFoundError):
        chat.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "other"}])
    mock_openai.assert_all_used()

def test_broken_file(mock_openai):
    with pytest.raises(ValueError, match=re.escape("broken.yaml: rules[0].colour")):
        mock_openai.load_scenario("broken.yaml")
''')
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


AGENT_YAML = """
strict: true
rules:
  - id: greet
    match: {last_user: hello}
    reply: Hi from a file.
"""


def test_rate_limit_and_chaos_last_one_test(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_user_limits='''
import openai
import pytest

def test_limited(mock_openai):
    mock_openai.rate_limit(requests_per_minute=2)
    chat = openai.OpenAI(base_url=mock_openai.base_url, api_key=mock_openai.api_key, max_retries=0)
    for _ in range(2):
        chat.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.RateLimitError):
        chat.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])

def test_chaotic(mock_openai):
    mock_openai.chaos(server_error=1.0)
    chat = openai.OpenAI(base_url=mock_openai.base_url, api_key=mock_openai.api_key, max_retries=0)
    with pytest.raises(openai.InternalServerError):
        chat.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])

def test_back_to_normal(mock_openai):
    chat = openai.OpenAI(base_url=mock_openai.base_url, api_key=mock_openai.api_key, max_retries=0)
    for _ in range(3):
        chat.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])

def test_bad_chaos(mock_openai):
    with pytest.raises(ValueError, match="chaos.explode"):
        mock_openai.chaos(explode=0.5)
''')
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_timing_fault_and_quirks_last_one_test(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_user_settings='''
import openai
import pytest

MESSAGES = [{"role": "user", "content": "x"}]

def test_quirk(mock_openai):
    mock_openai.quirks("n_ignored")
    chat = openai.OpenAI(base_url=mock_openai.base_url, api_key=mock_openai.api_key, max_retries=0)
    assert len(chat.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, n=3).choices) == 1
    assert mock_openai.settings["quirks"] == ["n_ignored"]

def test_fault(mock_openai):
    mock_openai.fault("error-after=0,error=overloaded")
    chat = openai.OpenAI(base_url=mock_openai.base_url, api_key=mock_openai.api_key, max_retries=0)
    with pytest.raises(openai.InternalServerError):
        chat.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

def test_timing(mock_openai):
    mock_openai.timing(ttft_ms=5, itl_ms=1)
    assert mock_openai.settings["timing"] == {"ttft_ms": 5.0, "itl_ms": 1.0, "jitter": 0.0}

def test_back_to_normal(mock_openai):
    chat = openai.OpenAI(base_url=mock_openai.base_url, api_key=mock_openai.api_key, max_retries=0)
    assert len(chat.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, n=3).choices) == 3
    settings = mock_openai.settings
    assert (settings["quirks"], settings["fault"], settings["timing"]["ttft_ms"]) == ([], None, 0.0)

def test_bad_timing(mock_openai):
    with pytest.raises(ValueError, match="timing.jitter"):
        mock_openai.timing(jitter=3)
''')
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)


STRICT_TESTS = '''
import openai
import pytest

MESSAGES = [{"role": "user", "content": "ping"}]

def chat(mock):
    return openai.OpenAI(base_url=mock.base_url, api_key=mock.api_key, max_retries=0).chat.completions

@pytest.mark.mock_openai_strict
def test_unused_rule(mock_openai):
    mock_openai.on(last_user="never").reply("x")

@pytest.mark.mock_openai_strict
def test_unscripted_request(mock_openai):
    mock_openai.on(last_user="ping").reply("pong", times=1)
    chat(mock_openai).create(model="gpt-4o-mini", messages=MESSAGES)
    chat(mock_openai).create(model="gpt-4o-mini", messages=MESSAGES)

@pytest.mark.mock_openai_strict
def test_all_scripted(mock_openai):
    mock_openai.on(last_user="ping").reply("pong")
    assert chat(mock_openai).create(model="gpt-4o-mini", messages=MESSAGES).choices[0].message.content == "pong"

def test_not_strict(mock_openai):
    mock_openai.on(last_user="never").reply("x")
'''


def test_strict_teardown_reports_unused_rules_and_unscripted_requests(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_user_strict=STRICT_TESTS)
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4, errors=2)
    result.stdout.fnmatch_lines(["*rules never used: rule-*", "*1 request(s) no rule matched: POST /v1/chat/completions*"])


def test_strict_teardown_from_the_ini_option(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\nmock_openai_strict = true\n")
    pytester.makepyfile(test_user_strict=STRICT_TESTS)
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4, errors=3)
