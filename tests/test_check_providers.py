"""`check` passes for every provider (SIGNiX too) against its built-in mock, in-process and served; no secret shows.

Stiply has its own, deeper tests in test_check.py; this covers what every provider shares.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from esign_contracts.contracts.check import Budget, check, cleanup_operations
from esign_contracts.contracts.cli import main
from esign_contracts.contracts.credentials import variables
from esign_contracts.contracts.serve import Running
from esign_contracts.mocks import Mock, provider_class
from esign_contracts.specs import load_contract
from esign_contracts.specs.providers import PROVIDER_MODULES

PROVIDERS = sorted(set(PROVIDER_MODULES) - {"stiply"})
SECRET = "Sup3r-S3cret-{}"
SMALL = ["--examples", "3", "--sequences", "8"]


def _secret(field: str) -> bool:
    return any(word in field.lower() for word in ("secret", "password", "pswd", "token", "key"))


def credentials_and_environment(provider: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Credentials for the mock with every secret replaced by a strong one, and the environment that names them."""
    contract = load_contract(provider)
    defaults = provider_class(provider).default_credentials
    credentials: dict[str, Any] = {}
    env: dict[str, str] = {}
    for name, scheme in contract.credential_declarations().items():  # SIGNiX's CustInfo too
        wanted = variables(scheme)
        if name not in defaults or not wanted:
            continue
        value = defaults[name]
        if isinstance(value, dict):
            value = {k: SECRET.format(k) if _secret(k) else v for k, v in value.items()}
            env.update({variable: value[k] for k, variable in wanted.items()})
        elif isinstance(value, tuple):
            value = (value[0], SECRET.format(name))
            env.update(dict(zip(wanted.values(), value, strict=True)))
        else:
            value = SECRET.format(name)
            env.update(dict(zip(wanted.values(), [value], strict=True)))
        credentials[name] = value
    return credentials, env


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_built_in_mock_passes_check_in_process(provider: str) -> None:
    report = check(provider, seed=0, budget=Budget(examples=5, sequences=15))
    assert report.ok, report.render()
    reached = {operation for operation, status in report.exercised if 200 <= status < 300}
    assert reached >= {op.id for op in load_contract(provider).operations if op.method != "DELETE"} - {
        "getSignerProcessResult"
    }, f"operations never answered with success: {report.render()}"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_served_mock_passes_check_over_http_cleans_up_and_prints_no_secret(
    provider: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    credentials, env = credentials_and_environment(provider)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    mock = Mock(provider, credentials=credentials, send_callbacks=False)
    given = mock.engine.contract.document.get("x-given-resources")
    if given:  # what only the provider's UI creates (SIGNiX transactions): seeded, then named to the run
        made = [mock.control.add_transaction() for _ in range(4)]
        named = " ".join(f"{m['transaction_id']}=" + ",".join(p["ref_id"] for p in m["parties"]) for m in made)
        monkeypatch.setenv(given["variable"], named)
    junit = tmp_path / "report.xml"
    with Running([mock]) as running:
        code = main(["check", provider, "--base-url", running.base_url(mock), "--junit-xml", str(junit), *SMALL])
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    assert ET.parse(junit).getroot().get("failures") == "0"
    for operation in cleanup_operations(mock.engine.contract):
        for parameter in operation.path_parameters:
            assert mock.model.live_identifiers(parameter) == [], f"{parameter} left behind"
    secrets = [v for v in env.values() if v.startswith("Sup3r")]
    assert secrets
    issued = list(mock.model.tokens)
    for text in (out.out, out.err, junit.read_text()):
        for secret in secrets + issued:
            assert secret not in text


def test_check_refuses_an_app_env_the_spec_does_not_list_before_any_request(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, env = credentials_and_environment("ignisign")
    for variable, value in {**env, "IGNISIGN_APP_ENV": "prod"}.items():
        monkeypatch.setenv(variable, value)
    assert main(["check", "ignisign", "--base-url", "http://127.0.0.1:9/v3"]) == 2  # nothing listens there
    err = capsys.readouterr().err
    assert "appEnv from IGNISIGN_APP_ENV is not one the spec allows (DEVELOPMENT, STAGING, PRODUCTION)" in err
    assert "prod" not in err.replace("PRODUCTION", "")
    assert "cannot reach" not in err and "Traceback" not in err
