"""The recipes users copy (README "Recipes") do what they say, as far as this machine can run them: no Docker
engine here, so the image's and the compose service's command lines run as plain processes on loopback."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from servers import free_port, mockserver_process

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

RECORD_WORKERS = '''
import os, pytest

@pytest.fixture(autouse=True)
def record_worker(mock_openai):
    with open(os.environ["WORKER_LOG"], "a") as log:
        log.write(f"{os.environ.get('PYTEST_XDIST_WORKER', 'none')} {mock_openai.base_url}\\n")
'''


def dockerfile_instruction(name: str) -> list[str]:
    """The exec-form arguments of a Dockerfile instruction, e.g. CMD ["--clock", "1700000000"]."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    found = re.search(rf"^{name}\s+(?:--\S+\s+)*(?:CMD\s+)?(\[.*\])\s*$", text, re.MULTILINE)
    assert found, f"no exec-form {name} in the Dockerfile"
    return json.loads(found.group(1))


def test_xdist_workers_each_start_their_own_mock(pytester: pytest.Pytester, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "workers.log"
    monkeypatch.setenv("WORKER_LOG", str(log))
    pytester.makepyfile(test_parallel_workers=(EXAMPLES / "xdist" / "test_parallel_workers.py").read_text())
    pytester.makeconftest(RECORD_WORKERS)
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=12)
    seen = {tuple(line.split()) for line in log.read_text().splitlines()}
    workers = {worker for worker, _ in seen}
    urls = {url for _, url in seen}
    assert workers == {"gw0", "gw1"} and len(urls) == 2, seen
    assert all(url.startswith("http://127.0.0.1:") for url in urls)


def test_compose_app_tests_pass_against_the_compose_mock_command(tmp_path: Path) -> None:
    compose = yaml.safe_load((EXAMPLES / "compose" / "compose.yaml").read_text())
    command = compose["services"]["mock"]["command"]
    scenarios = ROOT / "fixtures" / "scenarios"
    flags = [str(scenarios / Path(arg).name) if arg.startswith("/scenarios/") else arg for arg in command]
    app = tmp_path / "app"
    shutil.copytree(EXAMPLES / "compose" / "app", app)
    with mockserver_process(*flags) as root:
        env = {"OPENAI_BASE_URL": f"{root}/v1", "OPENAI_API_KEY": "sk-test", "MOCK_ADMIN_URL": f"{root}/_mock",
               "PATH": str(Path(sys.executable).parent)}
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                              cwd=app, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout


def test_image_command_line_serves_and_passes_its_health_check() -> None:
    entrypoint = dockerfile_instruction("ENTRYPOINT")
    assert entrypoint[:2] == ["mockserver", "--host"] and entrypoint[3:] == ["--port", "8000"]
    health = dockerfile_instruction("HEALTHCHECK")
    with mockserver_process(*dockerfile_instruction("CMD")) as root:
        port = root.rsplit(":", 1)[1]
        probe = [sys.executable if arg == "python" else arg.replace("8000", port) for arg in health]
        done = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr


def test_image_health_check_fails_when_nothing_answers() -> None:
    health = dockerfile_instruction("HEALTHCHECK")
    probe = [sys.executable if arg == "python" else arg.replace("8000", str(free_port())) for arg in health]
    assert subprocess.run(probe, capture_output=True, timeout=30).returncode != 0


def test_workflow_calls_conformance_with_options_it_has() -> None:
    workflow = yaml.safe_load((EXAMPLES / "github-actions" / "mock-and-conformance.yml").read_text())
    steps = workflow["jobs"]["integration"]["steps"]
    runs = [shlex.split(step["run"]) for step in steps if step.get("run", "").startswith("conformance ")]
    assert len(runs) == 1 and "--junit" in runs[0]
    help_text = subprocess.run([sys.executable, "-m", "conformance", "--help"], capture_output=True, text=True,
                               check=True, timeout=60).stdout
    assert all(f"{arg} " in help_text or f"{arg}\n" in help_text for arg in runs[0] if arg.startswith("--"))
    service = workflow["jobs"]["integration"]["services"]["mock"]
    assert service["image"] == workflow["env"]["MOCK_IMAGE"] and service["ports"] == ["8000:8000"]
