"""The `mockserver` command: flags become one Config, and the running server honours them."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from servers import mockserver_process
from wire import PLAIN, assert_completion, assert_error, post, send

from mockserver.controls.config import Config
from mockserver.run.cli import config_from_args

FLAGS = ["--host", "--port", "--seed", "--api-key", "--clock", "--models"]


def _help(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


def test_help_explains_each_flag() -> None:
    text = _help([sys.executable, "-m", "mockserver", "--help"])
    for flag in FLAGS:
        line = next((line for line in text.splitlines() if line.strip().startswith(flag)), None)
        assert line is not None, flag
        section = text[text.index(line):]
        explanation = section.split("\n  -", 1)[0]
        assert len(explanation.split()) > 4, explanation


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("mockserver")
    found = str(script) if script.exists() else shutil.which("mockserver")
    assert found is not None
    assert "--api-key" in _help([found, "--help"])


def test_defaults() -> None:
    config = config_from_args([])
    assert config == Config()
    assert (config.host, config.port) == ("127.0.0.1", 8000)
    assert config.api_keys == () and config.models is None and config.clock is None


def test_flags_become_the_config() -> None:
    config = config_from_args(["--host", "127.0.0.2", "--port", "9001", "--seed", "42", "--api-key", "k1",
                               "--api-key", "k2", "--clock", "1700000000", "--models", "gpt-4o, o3-mini,"])
    assert config.host == "127.0.0.2" and config.port == 9001 and config.seed == 42
    assert config.api_keys == ("k1", "k2")
    assert config.clock == 1700000000
    assert config.models == ("gpt-4o", "o3-mini")


@pytest.mark.parametrize("argv", [["--port", "eighty"], ["--seed", "1.5"], ["--clock", "yesterday"], ["--bogus"]])
def test_bad_flags_exit_with_usage(argv: list[str]) -> None:
    done = subprocess.run([sys.executable, "-m", "mockserver", *argv], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "usage: mockserver" in done.stderr


def test_running_server_honours_its_flags() -> None:
    with mockserver_process("--seed", "9", "--clock", "1234567890", "--api-key", "sk-a", "--api-key", "sk-b",
                            "--models", "gpt-4o-mini,gpt-4.1") as url:
        missing = assert_error(post(url, PLAIN), status=401, code="invalid_api_key")
        assert missing["type"] == "invalid_request_error"
        wrong = assert_error(post(url, PLAIN, headers={"Authorization": "Bearer sk-c"}), status=401,
                             code="invalid_api_key")
        assert "Incorrect API key" in wrong["message"]
        for key in ("sk-a", "sk-b"):
            body = assert_completion(post(url, PLAIN, headers={"Authorization": f"Bearer {key}"}))
            assert body["created"] == 1234567890
        assert_error(post(url, {**PLAIN, "model": "gpt-4o"}, headers={"Authorization": "Bearer sk-a"}),
                     status=404, code="model_not_found")
        listed = send(url, "GET", "/v1/models", headers={"Authorization": "Bearer sk-b"}).json()
        assert [model["id"] for model in listed["data"]] == ["gpt-4o-mini", "gpt-4.1"]
        assert_error(send(url, "GET", "/v1/models/gpt-4o", headers={"Authorization": "Bearer sk-b"}),
                     status=404, code="model_not_found")


def test_seed_flag_changes_the_reply() -> None:
    contents = []
    for seed in ("1", "2"):
        with mockserver_process("--seed", seed) as url:
            contents.append(assert_completion(post(url, PLAIN))["choices"][0]["message"]["content"])
    assert contents[0] != contents[1]


@pytest.mark.parametrize("flags", [(), ("--workers", "2", "--no-admin")], ids=["one process", "two workers"])
def test_port_zero_announces_the_port_it_listens_on_once_it_does(flags: tuple[str, ...]) -> None:
    # Scripts start the mock on port 0 and read the line: the address in it must answer as soon as it shows.
    process = subprocess.Popen([sys.executable, "-m", "mockserver", "--port", "0", *flags], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    try:
        line = process.stdout.readline()
        match = re.fullmatch(r"mockserver listening on (http://127\.0\.0\.1:(\d+))/v1 \(seed 0.*\)\n", line)
        assert match is not None and int(match.group(2)) > 0, line
        assert send(match.group(1), "GET", "/v1/models").status == 200
    finally:
        process.terminate()
        process.wait(timeout=15)
        process.stdout.close()
