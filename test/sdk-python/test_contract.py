"""What the Python SDK must agree with, checked against the live server and the TypeScript SDK:
the models against the server's OpenAPI document, the error classes against src/sdk/errors.ts,
the Connect code table against src/api/envd-protocol.ts (python-sdk.test.ts writes the last two
to AGENTBOX_TEST_CONTRACT), the configuration the CLI reads, the types py.typed promises, and the
wheel PyPI would get."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx
import pytest

import agentbox
from agentbox import AuthenticationError
from agentbox._config import DEFAULT_URL, resolve_connection
from agentbox._envd import ERROR_CODE_OF_CONNECT
from agentbox.errors import error_from_body

SDK = Path(agentbox.__file__).resolve().parent.parent
sys.path.insert(0, str(SDK / "scripts"))
import generate_models  # noqa: E402

CONTRACT = json.loads(Path(os.environ["AGENTBOX_TEST_CONTRACT"]).read_text())


def test_models_are_generated_from_the_served_openapi_document(server_url: str) -> None:
    document = httpx.get(f"{server_url}/v1/openapi.json").raise_for_status().json()
    committed = (SDK / "agentbox" / "models.py").read_text()
    assert generate_models.generate(document) == committed, "agentbox/models.py is stale: run scripts/generate_models.py"


def test_error_classes_match_the_typescript_sdk() -> None:
    for code, ts_class in CONTRACT["errorClassOfCode"].items():
        err = error_from_body(500, {"code": code, "message": "m"})
        assert type(err).__name__ == ts_class, code
        assert err.code == code and err.status == 500 and str(err) == "m"
    assert error_from_body(502, None).code == "http_502"


def test_connect_codes_read_back_as_in_the_typescript_sdk() -> None:
    assert ERROR_CODE_OF_CONNECT == CONTRACT["errorCodeOfConnect"]


def test_connection_comes_from_arguments_then_environment_then_the_local_server(tmp_path: Path) -> None:
    env = {"AGENTBOX_URL": "http://h:1/", "AGENTBOX_API_KEY": "k1", "AGENTBOX_HOME": str(tmp_path)}
    assert resolve_connection(env=env) == resolve_connection(api_url="http://h:1", api_key="k1", env={})
    assert resolve_connection(api_key="k2", env=env).api_key == "k2"
    (tmp_path / "admin.key").write_text("from-file\n")
    local = resolve_connection(env={"AGENTBOX_HOME": str(tmp_path)})
    assert (local.api_url, local.api_key) == (DEFAULT_URL, "from-file")
    with pytest.raises(AuthenticationError, match="AGENTBOX_API_KEY"):
        resolve_connection(env={"AGENTBOX_HOME": str(tmp_path / "empty")})


def test_the_package_type_checks_strictly(tmp_path: Path) -> None:
    """py.typed promises callers checked types: mypy --strict must find nothing to say."""
    run = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path), str(SDK / "agentbox"), str(SDK / "scripts")],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_package_builds_a_wheel_named_agentbox_with_every_module_and_py_typed(tmp_path: Path) -> None:
    """PyPI-ready: pyproject.toml builds a wheel that carries the package whole and needs only httpx.
    Built from a copy, so the checkout gets no build directory."""
    src = tmp_path / "src"
    shutil.copytree(SDK, src, ignore=shutil.ignore_patterns("*.egg-info", "__pycache__", "build"))
    run = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--quiet",
                          "--wheel-dir", str(tmp_path / "dist"), str(src)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    [wheel] = (tmp_path / "dist").glob("agentbox-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        metadata = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    modules = {f"agentbox/{p.name}" for p in (SDK / "agentbox").glob("*.py")}
    assert modules | {"agentbox/py.typed"} <= names, sorted(names)
    assert "Name: agentbox" in metadata.splitlines()
    assert [line for line in metadata.splitlines() if line.startswith("Requires-Dist:") and "extra ==" not in line] == ["Requires-Dist: httpx<1,>=0.27"]
