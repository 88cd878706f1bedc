"""After a normal (non-editable) install, the package finds its contract files inside itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, mockserver
from mockserver.contract import fixtures_dir, known_models, schema
from mockserver.core.validate.request import validate_request
validate_request({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
print(json.dumps({"package": mockserver.__file__, "fixtures": str(fixtures_dir()),
                  "title": schema("chat_completion_request")["$id"], "models": len(known_models())}))
"""


def test_installed_package_carries_its_fixtures(tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(ROOT)], check=True, timeout=120, capture_output=True)
    assert (target / "mockserver" / "_fixtures" / "schemas" / "chat_completion_request.schema.json").is_file()
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60, check=True)
    found = json.loads(done.stdout)
    assert Path(found["package"]).is_relative_to(target)
    assert Path(found["fixtures"]) == target / "mockserver" / "_fixtures"
    assert found["title"] == "chat_completion_request"
    assert found["models"] > 0
