"""chatdouble's conformance suite: Hypothesis-generated requests that check any OpenAI-compatible server
(chat completions, and the legacy completions, embeddings and Responses endpoints it serves) against the
contract in `fixtures/`.

Entry points: the `conformance` command (`conformance.cli`), `conformance.session.run_suite` for
programs, `conformance.checks` (plain check functions) and `conformance.stream_checker` for other
projects' tests, and a pytest plugin (`pytest --pyargs conformance --conformance-url URL`).

Inside, `checks` judges, `generate` builds requests, `engine` sends them and runs the groups, `report`
writes the results; of the mock, only `mockserver.contract` is imported (and the mock itself by
`engine.mock`, when it is the server under test).
"""
