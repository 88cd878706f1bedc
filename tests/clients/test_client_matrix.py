"""The client matrix: each popular client library, in its own environment, against a mock this test starts.

Opt-in (`pytest -m clients`): the environments take a minute to build the first time. Each client program
reports every feature it exercised to a JSON file; the test fails on a feature that failed, or on one marked
as an expected failure that now passes (the mark is stale). The reports are copied to the results
directory (`CHATDOUBLE_CLIENT_RESULTS`, default `build/client-matrix/`), which `render_matrix.py` turns
into the README's table.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from environments import HERE, NODE_DIR, node_modules, python_env
from servers import mockserver_process

pytestmark = pytest.mark.clients

RESULTS = Path(os.environ.get("CHATDOUBLE_CLIENT_RESULTS", HERE.parents[1] / "build" / "client-matrix"))
PROGRAM_SECONDS = 600
# Settings that keep the libraries off the network and their telemetry quiet; loopback never goes through a proxy.
QUIET = {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost", "LITELLM_LOCAL_MODEL_COST_MAP": "True",
         "LANGCHAIN_TRACING_V2": "false", "OTEL_SDK_DISABLED": "true", "DO_NOT_TRACK": "1",
         "OPENAI_AGENTS_DISABLE_TRACING": "1", "HF_HUB_OFFLINE": "1"}
SECRETS = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID")


@dataclass(frozen=True)
class Client:
    library: str
    program: str
    group: str  # a requirements-GROUP.txt, or "node"


CLIENTS = (
    Client("openai-python", "client_openai.py", "openai"),
    Client("langchain-openai", "client_langchain.py", "langchain"),
    Client("litellm", "client_litellm.py", "litellm"),
    Client("pydantic-ai", "client_pydantic_ai.py", "pydantic-ai"),
    Client("instructor", "client_instructor.py", "instructor"),
    Client("openai-agents", "client_agents.py", "agents"),
    Client("llama-index", "client_llamaindex.py", "llamaindex"),
    Client("openai-node", "client_openai_node.mjs", "node"),
    Client("vercel-ai-sdk", "client_ai_sdk.mjs", "node"),
    Client("watsonx-ai-node", "client_watsonx_gateway.mjs", "node"),
)


def _command(client: Client, workdir: Path) -> list[str]:
    if client.group != "node":
        return [str(python_env(client.group)), str(HERE / client.program)]
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI"):
            pytest.fail("node is not installed: CI runs the Node clients too")
        pytest.skip("node is not installed")
    # ES modules resolve packages from their own folder up, so the programs run from a folder whose
    # node_modules is the cached one.
    (workdir / "node_modules").symlink_to(node_modules(), target_is_directory=True)
    for name in ("harness.mjs", client.program):
        shutil.copy(NODE_DIR / name, workdir / name)
    return [node, str(workdir / client.program)]


def _environment() -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if k not in SECRETS}, **QUIET}


@pytest.mark.parametrize("client", CLIENTS, ids=[client.library for client in CLIENTS])
def test_client_library_against_the_mock(client: Client, tmp_path: Path) -> None:
    command = _command(client, tmp_path)
    report_path = tmp_path / "report.json"
    with mockserver_process("--clock", "1700000000") as root:
        done = subprocess.run([*command, root, str(report_path)], cwd=tmp_path, env=_environment(),
                              capture_output=True, text=True, timeout=PROGRAM_SECONDS)
    assert done.returncode == 0 and report_path.exists(), f"{client.program} crashed:\n{done.stdout}\n{done.stderr}"
    report = json.loads(report_path.read_text())
    RESULTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(report_path, RESULTS / f"{client.library}.json")
    assert report["library"] == client.library and report["results"], f"{client.program} ran no case"
    broken = [result for result in report["results"] if result["outcome"] in ("failed", "xpassed")]
    assert not broken, "\n".join(
        f"{r['outcome']}: {client.library} {r['feature']}"
        + (f" (marked: {r['reason']})" if r["reason"] else "") + f"\n{r['detail']}" for r in broken)
