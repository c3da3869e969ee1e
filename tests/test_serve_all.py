"""`esign-contracts serve` with no provider: every provider on one port, each under its documented paths."""

from __future__ import annotations

import base64
import io

import pytest
import requests

from esign_contracts.contracts import cli
from esign_contracts.contracts.serve import Running
from esign_contracts.mocks import Mock, WSGIApp
from esign_contracts.specs.providers import PROVIDER_MODULES


def test_the_documented_paths_of_all_providers_do_not_collide() -> None:
    app = WSGIApp([Mock(name) for name in PROVIDER_MODULES])
    assert {mock.name for mock in app.routes.values()} == set(PROVIDER_MODULES)


def test_two_mocks_of_one_provider_cannot_share_a_server() -> None:
    with pytest.raises(ValueError, match="both serve paths under /v1"):
        WSGIApp([Mock("stiply"), Mock("stiply")])


def test_one_server_answers_every_provider_with_its_own_rules() -> None:
    mocks = {name: Mock(name) for name in PROVIDER_MODULES}
    with Running(list(mocks.values())) as served:
        root = f"http://127.0.0.1:{served.port}"
        stiply_auth = base64.b64encode(b"stiply-user:stiply-password").decode()
        ping = requests.post(
            f"{root}/v1/actions/ping", json={"ping_value": "pong"}, headers={"Authorization": f"Basic {stiply_auth}"}
        )
        assert ping.status_code == 200
        created = requests.post(
            f"{root}/JSON/signatureRequest", json={}, headers={"x-api-key": "okdokument-api-key"}, timeout=5
        )
        assert created.status_code == 200 and created.json()["message"] == "msg.signature.request.id.created"
        form = {"grant_type": "client_credentials", "scope": "urn:safelayer:eidas:sign:process:document"}
        token = requests.post(
            f"{root}/trustedx-authserver/oauth/main-as/token", data=form, auth=("trustedx-client", "trustedx-secret")
        )
        assert token.status_code == 200 and token.json()["token_type"] == "Bearer"
        jwt = requests.post(
            f"{root}/v3/auth/app-api",
            json={"appId": "ignisign-app", "appEnv": "DEVELOPMENT", "secret": "ignisign-secret"},
        )
        assert jwt.status_code == 200 and jwt.json()["jwtToken"]
        stray = requests.get(f"{root}/v9/nothing")
        assert stray.status_code == 404 and "/JSON (okdokument)" in stray.json()["message"]
    # each request reached its own provider's journal, and only that one
    assert [e.operation for e in mocks["stiply"].journal] == ["ping"]
    assert [e.operation for e in mocks["okdokument"].journal] == ["createSignatureRequest"]
    assert [e.operation for e in mocks["trustedx"].journal] == ["requestToken"]
    assert [e.operation for e in mocks["ignisign"].journal] == ["authenticateApp"]


def test_serve_without_providers_serves_all_and_the_banner_names_each(monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[list[str]] = []

    def fake_serve(mocks: list[Mock], host: str, port: int, **kwargs: object) -> None:
        served.append([m.name for m in mocks])

    monkeypatch.setattr("esign_contracts.contracts.serve.serve", fake_serve)
    assert cli.main(["serve"]) == 0
    assert cli.main(["serve", "okdokument", "stiply", "okdokument"]) == 0
    assert served == [sorted(PROVIDER_MODULES), ["okdokument", "stiply"]]


def test_the_banner_lists_each_base_url_and_the_credentials_the_mock_accepts() -> None:
    from esign_contracts.contracts.serve import banner

    out = io.StringIO()
    banner([Mock(name) for name in PROVIDER_MODULES], "127.0.0.1", 8000, out)
    text = out.getvalue()
    for name in PROVIDER_MODULES:
        assert f"{name}: http://127.0.0.1:8000" in text
    assert "okdokument-api-key" in text and "ignisign-secret" in text and "trustedx-secret" in text


def test_serve_refuses_an_unknown_provider_with_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["serve", "stiply", "docusign"]) == 2
    assert (
        "unknown provider docusign; known providers: ignisign, okdokument, signix, stiply, trustedx"
        in capsys.readouterr().err
    )


def test_credentials_from_the_environment_are_accepted_and_the_banner_names_only_the_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from esign_contracts.contracts.serve import banner

    monkeypatch.setenv("STIPLY_USERNAME", "real-user")
    monkeypatch.setenv("STIPLY_PASSWORD", "Real-Secret-123")
    served: list[tuple[list[Mock], dict[str, str]]] = []

    def fake_serve(mocks: list[Mock], host: str, port: int, from_environment: dict[str, str]) -> None:
        served.append((mocks, from_environment))

    monkeypatch.setattr("esign_contracts.contracts.serve.serve", fake_serve)
    assert cli.main(["serve", "stiply", "okdokument"]) == 0
    ((mocks, sourced),) = served
    assert mocks[0].credentials["basicAuth"] == ("real-user", "Real-Secret-123")
    out = io.StringIO()
    banner(mocks, "127.0.0.1", 8000, out, sourced)
    text = out.getvalue()
    assert "credentials from STIPLY_USERNAME, STIPLY_PASSWORD" in text and "Real-Secret-123" not in text
    assert "okdokument-api-key" in text  # a mock's own default is no secret and is shown
