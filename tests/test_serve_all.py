"""`esign-contracts serve` with no provider: every provider on one port, each under its documented paths."""

from __future__ import annotations

import base64
import io
import time
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from esign_contracts.contracts import cli
from esign_contracts.contracts.credentials import variables
from esign_contracts.contracts.serve import Running, banner
from esign_contracts.mocks import Mock, WSGIApp
from esign_contracts.mocks.signix_xml import read_answer
from esign_contracts.specs import load_contract
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


@pytest.mark.usefixtures("clean_environment")
def test_credentials_from_the_environment_are_accepted_and_the_banner_names_only_the_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from esign_contracts.contracts.serve import banner

    monkeypatch.setenv("STIPLY_USERNAME", "real-user")
    monkeypatch.setenv("STIPLY_PASSWORD", "Real-Secret-123")
    served: list[tuple[list[Mock], dict[str, dict[str, str]]]] = []

    def fake_serve(
        mocks: list[Mock], host: str, port: int, credential_sources: dict[str, dict[str, str]], **kwargs: object
    ) -> None:
        served.append((mocks, credential_sources))

    monkeypatch.setattr("esign_contracts.contracts.serve.serve", fake_serve)
    assert cli.main(["serve", "stiply", "okdokument"]) == 0
    ((mocks, sourced),) = served
    assert mocks[0].credentials["basicAuth"] == ("real-user", "Real-Secret-123")
    out = io.StringIO()
    banner(mocks, "127.0.0.1", 8000, out, sourced)
    text = out.getvalue()
    assert "credentials from STIPLY_USERNAME, STIPLY_PASSWORD" in text and "Real-Secret-123" not in text
    assert "okdokument-api-key" in text  # a mock's own default is no secret and is shown


# --credential PROVIDER.SCHEME=VALUE: flag > environment > default, scheme by scheme


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No credential variable of any provider set, whatever the machine running the tests has."""
    for name in PROVIDER_MODULES:
        for scheme in load_contract(name).credential_declarations().values():
            for variable in variables(scheme).values():
                monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[Mock], dict[str, dict[str, str]]]]:
    """What `serve` would have served (nothing listens): the mocks and where their credentials came from."""
    calls: list[tuple[list[Mock], dict[str, dict[str, str]]]] = []

    def fake_serve(
        mocks: list[Mock], host: str, port: int, credential_sources: dict[str, dict[str, str]], **kwargs: object
    ) -> None:
        calls.append((mocks, credential_sources))

    monkeypatch.setattr("esign_contracts.contracts.serve.serve", fake_serve)
    return calls


FLAGS = [
    "--credential",
    "stiply.basicAuth=flag-user:Flag:Pass-1",  # split at the first ':', a password may hold one
    "--credential",
    "okdokument.apiKey=Flag-Key-2",
    "--credential",
    "signix.custinfo=sponsor=acme,client=acme-client,userid=alice,pswd=Flag,Pswd-3",  # names in any case
    "--credential",
    "ignisign.bearerAuth=appId=flag-app, appEnv=STAGING, secret=Flag-Secret-4",
    "--credential",
    "trustedx.bearerToken=Flag-Token-5",
]
FLAG_SECRETS = ["Flag:Pass-1", "Flag-Key-2", "Flag,Pswd-3", "Flag-Secret-4", "Flag-Token-5"]


@pytest.mark.usefixtures("clean_environment")
def test_credential_flags_set_what_each_served_mock_accepts(served: list[Any]) -> None:
    assert cli.main(["serve", *FLAGS]) == 0
    ((mocks, sources),) = served
    accepted = {mock.name: mock.credentials for mock in mocks}
    assert accepted["stiply"] == {"basicAuth": ("flag-user", "Flag:Pass-1")}
    assert accepted["okdokument"] == {"apiKey": "Flag-Key-2"}
    assert accepted["signix"] == {
        "CustInfo": {"Sponsor": "acme", "Client": "acme-client", "UserId": "alice", "Pswd": "Flag,Pswd-3"}
    }
    assert accepted["ignisign"] == {"bearerAuth": {"appId": "flag-app", "appEnv": "STAGING", "secret": "Flag-Secret-4"}}
    # trustedx: the flag replaces the token only; the client credentials stay the mock's defaults
    assert accepted["trustedx"] == {
        "clientBasic": ("trustedx-client", "trustedx-secret"),
        "bearerToken": "Flag-Token-5",
    }
    assert sources["trustedx"] == {"bearerToken": "--credential"}
    assert sources["stiply"] == {"basicAuth": "--credential"}


def test_half_a_set_of_credentials_in_the_environment_is_a_usage_error_unless_a_flag_gives_them(
    clean_environment: None, served: list[Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STIPLY_PASSWORD", "Env-Pass")  # and no STIPLY_USERNAME
    assert cli.main(["serve", "stiply"]) == 2
    err = capsys.readouterr().err
    assert "STIPLY_PASSWORD is set but STIPLY_USERNAME is not" in err and "Env-Pass" not in err
    assert served == []
    assert cli.main(["serve", "stiply", "--credential", "stiply.basicAuth=flag-user:Flag-Pass"]) == 0
    ((mocks, _),) = served
    assert mocks[0].credentials["basicAuth"] == ("flag-user", "Flag-Pass")


def test_a_flag_beats_the_environment_which_beats_the_default(
    clean_environment: None, served: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STIPLY_USERNAME", "env-user")
    monkeypatch.setenv("STIPLY_PASSWORD", "Env-Pass")
    monkeypatch.setenv("OKDOKUMENT_API_KEY", "Env-Key")
    monkeypatch.setenv("TRUSTEDX_CLIENT_ID", "env-client")
    monkeypatch.setenv("TRUSTEDX_CLIENT_SECRET", "Env-Client-Secret")
    flags = ["--credential", "stiply.basicAuth=flag-user:Flag-Pass", "--credential", "trustedx.bearerToken=Flag-Token"]
    assert cli.main(["serve", "stiply", "okdokument", "trustedx", "signix", *flags]) == 0
    ((mocks, sources),) = served
    accepted = {mock.name: mock.credentials for mock in mocks}
    assert accepted["stiply"]["basicAuth"] == ("flag-user", "Flag-Pass")  # flag over environment
    assert accepted["okdokument"]["apiKey"] == "Env-Key"  # environment over default
    assert accepted["trustedx"] == {"clientBasic": ("env-client", "Env-Client-Secret"), "bearerToken": "Flag-Token"}
    assert accepted["signix"]["CustInfo"]["Pswd"] == "signix-mock-password"  # nothing given: the default
    assert sources == {
        "stiply": {"basicAuth": "--credential"},
        "okdokument": {"apiKey": "OKDOKUMENT_API_KEY"},
        "trustedx": {"clientBasic": "TRUSTEDX_CLIENT_ID, TRUSTEDX_CLIENT_SECRET", "bearerToken": "--credential"},
    }
    out = io.StringIO()
    banner(mocks, "127.0.0.1", 8000, out, sources)
    text = out.getvalue()
    assert "stiply: http://127.0.0.1:8000/v1  (basicAuth: credentials from --credential)" in text
    assert "(apiKey: credentials from OKDOKUMENT_API_KEY)" in text
    assert (
        "clientBasic: credentials from TRUSTEDX_CLIENT_ID, TRUSTEDX_CLIENT_SECRET; "
        "bearerToken: credentials from --credential or a token from requestToken" in text
    )
    assert "Pswd 'signix-mock-password'" in text  # a default is no secret and is shown
    for secret in ("Flag-Pass", "Env-Pass", "Env-Key", "Env-Client-Secret", "Flag-Token", "env-user", "flag-user"):
        assert secret not in text


@pytest.mark.usefixtures("clean_environment")
def test_the_banner_names_the_flag_and_never_prints_its_values(served: list[Any]) -> None:
    assert cli.main(["serve", *FLAGS]) == 0
    ((mocks, sources),) = served
    out = io.StringIO()
    banner(mocks, "127.0.0.1", 8000, out, sources)
    text = out.getvalue()
    for secret in [*FLAG_SECRETS, "flag-user", "flag-app", "alice"]:
        assert secret not in text
    assert "(basicAuth: credentials from --credential)" in text
    assert "(apiKey: credentials from --credential)" in text
    assert "(CustInfo: credentials from --credential)" in text
    assert "(bearerAuth: a token from authenticateApp with credentials from --credential)" in text
    # TrustedX's client credentials were not flagged: still the mock's defaults, shown
    assert "clientBasic: username 'trustedx-client', password 'trustedx-secret'" in text


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--credential", "docusign.apiKey=Secret-Value"], "--credential docusign.apiKey: unknown provider"),
        (
            ["--credential", "stiply.bearer=Secret-Value"],
            "--credential stiply.bearer: stiply has no such scheme; its schemes: stiply.basicAuth=USER:PASSWORD",
        ),
        (
            ["--credential", "stiply.basicAuth=Secret-Value"],
            "--credential stiply.basicAuth: malformed value (no ':' between USER and PASSWORD); "
            "expected stiply.basicAuth=USER:PASSWORD",
        ),
        (["--credential", "stiply.basicAuth=:Secret-Value"], "(USER empty)"),
        (["--credential", "okdokument.apiKey="], "expected okdokument.apiKey=KEY"),
        (
            ["--credential", "signix.CustInfo=Sponsor=a,Client=b,UserId=c,Pswd="],
            "--credential signix.CustInfo: malformed value (Pswd is empty); "
            "expected signix.CustInfo=Sponsor=SPONSOR,Client=CLIENT,UserId=USER_ID,Pswd=PSWD",
        ),
        (["--credential", "signix.CustInfo=Sponsor=a,Client=b,Pswd=Secret-Value"], "(UserId missing)"),
        (
            ["--credential", "ignisign.bearerAuth=Secret-Value"],
            "each field is FIELD=VALUE, the fields are appId, appEnv, secret",
        ),
        (
            ["--credential", "trustedx.clientBasic=Secret-Value"],
            "trustedx's schemes: trustedx.bearerToken=TOKEN, trustedx.clientBasic=USER:PASSWORD",
        ),
        # no '=': the whole text may be the secret, so it is not repeated
        (["--credential", "stiply.basicAuth:Secret-Value"], "--credential takes PROVIDER.SCHEME=VALUE, e.g. stiply."),
        (["--credential", "Secret-Value"], "--credential takes PROVIDER.SCHEME=VALUE"),
        (["--credential", "stiply.basicAuth=a:Secret-Value", "--credential", "stiply.BASICAUTH=b:c"], "given twice"),
        (["stiply", "--credential", "okdokument.apiKey=Secret-Value"], "okdokument is not served (serving stiply)"),
    ],
)
def test_a_bad_credential_flag_is_a_usage_error_that_never_repeats_the_value(
    argv: list[str], said: str, served: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["serve", *argv]) == 2
    captured = capsys.readouterr()
    assert said in captured.err and captured.err.startswith("esign-contracts: --credential")
    assert "Traceback" not in captured.err + captured.out and "Secret-Value" not in captured.err + captured.out
    assert served == []  # nothing was served


@pytest.mark.parametrize("given", ["flag", "environment"])
def test_an_app_env_the_spec_does_not_list_is_a_usage_error_naming_its_source_and_the_enum(
    given: str, clean_environment: None, served: list[Any], monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """Ignisign's appEnv is in every URL: a value outside the spec's enum would have the mock refuse every call."""
    argv = ["serve", "ignisign"]
    if given == "flag":
        argv += ["--credential", "ignisign.bearerAuth=appId=app, appEnv=prod, secret=Secret-Value"]
    else:
        for variable, value in [
            ("IGNISIGN_APP_ID", "app"),
            ("IGNISIGN_APP_ENV", "prod"),
            ("IGNISIGN_SECRET", "Secret-Value"),
        ]:
            monkeypatch.setenv(variable, value)
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    source = "--credential ignisign.bearerAuth" if given == "flag" else "IGNISIGN_APP_ENV"
    assert err.startswith(
        f"esign-contracts: ignisign credentials: appEnv from {source} is not one the spec allows "
        "(DEVELOPMENT, STAGING, PRODUCTION); spec: /paths/"
    )
    assert "/parameters, path appEnv" in err
    # never the value: in a swapped variable it may be the secret
    assert "prod" not in err.replace("PRODUCTION", "") and "Secret-Value" not in err and "Traceback" not in err
    assert served == []


def test_a_credential_flag_without_a_value_is_an_argparse_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli.main(["serve", "--credential"])
    assert stopped.value.code == 2 and "--credential: expected one argument" in capsys.readouterr().err


def test_over_http_a_mock_refuses_its_default_and_accepts_the_flags_credentials() -> None:
    flags = [
        "stiply.basicAuth=flag-user:Flag-Pass",
        "okdokument.apiKey=Flag-Key",
        "signix.CustInfo=Sponsor=acme,Client=acme,UserId=alice,Pswd=Flag-Pswd",
    ]
    mocks, sources = cli.mocks_to_serve(["stiply", "okdokument", "signix"], flags, env={})
    assert sources == {
        name: {scheme: "--credential"}
        for name, scheme in [("stiply", "basicAuth"), ("okdokument", "apiKey"), ("signix", "CustInfo")]
    }
    signix = mocks[2]
    transaction = signix.control.add_transaction()["transaction_id"]

    def custinfo(sponsor: str, client: str, user: str, password: str) -> str:
        request = (
            '<?xml version="1.0" ?><SubmitAjaxRq xmlns="urn:com:signix:schema:sdddc-1-1"><CustInfo>'
            f"<Sponsor>{sponsor}</Sponsor><Client>{client}</Client><UserId>{user}</UserId><Pswd>{password}</Pswd>"
            f"</CustInfo><Data><TransactionID>{transaction}</TransactionID>"
            '<Request>{"objectType":"Transaction_Suspend"}</Request></Data></SubmitAjaxRq>'
        )
        return urlencode({"method": "SubmitAjax", "request": request})

    with Running(mocks) as running:
        root = f"http://127.0.0.1:{running.port}"
        ping = f"{root}/v1/actions/ping"
        pong = {"ping_value": "pong"}
        assert requests.post(ping, json=pong, auth=("stiply-user", "stiply-password"), timeout=5).status_code == 401
        assert requests.post(ping, json=pong, auth=("flag-user", "Flag-Pass"), timeout=5).status_code == 200
        create = f"{root}/JSON/signatureRequest"
        assert requests.post(create, json={}, headers={"x-api-key": "okdokument-api-key"}, timeout=5).status_code == 401
        assert requests.post(create, json={}, headers={"x-api-key": "Flag-Key"}, timeout=5).status_code == 200
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        signix_url = f"{root}/sdd/b2b/sdddc_ns.jsp"
        default = requests.post(
            signix_url, data=custinfo("oem", "oemclient", "oemclient", "signix-mock-password"), headers=form, timeout=5
        )
        assert read_answer(default.content).status_code == 102  # SIGNiX's refusal of the CustInfo
        flagged = requests.post(
            signix_url, data=custinfo("acme", "acme", "alice", "Flag-Pswd"), headers=form, timeout=5
        )
        assert read_answer(flagged.content).status_code == 0 and read_answer(flagged.content).has_data
    assert [e.outcome for e in mocks[0].journal] == ["unauthenticated", "ok"]
    assert [e.outcome for e in mocks[1].journal] == ["unauthenticated", "ok"]


def test_server_and_body_limit_flags_reach_serve(monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    calls: list[dict[str, object]] = []

    def fake_serve(mocks: list[Mock], host: str, port: int, **kwargs: object) -> None:
        calls.append(kwargs)

    monkeypatch.setattr("esign_contracts.contracts.serve.serve", fake_serve)
    assert cli.main(["serve", "stiply"]) == 0
    assert cli.main(["serve", "stiply", "--server", "granian", "--max-body-bytes", "1024"]) == 0
    assert [(c["server"], c["max_body_bytes"]) for c in calls] == [("cheroot", None), ("granian", 1024)]
    for bad in (["--server", "gunicorn"], ["--max-body-bytes", "0"], ["--max-body-bytes", "ten"]):
        with pytest.raises(SystemExit) as exited:
            cli.main(["serve", "stiply", *bad])
        assert exited.value.code == 2
        err = capsys.readouterr().err
        assert bad[0] in err and "Traceback" not in err


@pytest.mark.parametrize("server", ["cheroot", "granian"])
def test_serve_in_its_own_process_answers_and_stops_cleanly_on_sigint_and_sigterm(server: str) -> None:
    import signal
    import subprocess
    import sys

    from esign_contracts.contracts.ports import free_port

    for stop in (signal.SIGINT, signal.SIGTERM):
        port = free_port("127.0.0.1")
        command = [sys.executable, "-m", "esign_contracts.contracts.cli", "serve", "stiply", "okdokument"]
        process = subprocess.Popen(
            [*command, "--server", server, "--port", str(port), "--max-body-bytes", "100"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            banner = process.stdout.readline() + process.stdout.readline()  # type: ignore[union-attr]
            assert f"stiply: http://127.0.0.1:{port}/v1" in banner
            ping = f"http://127.0.0.1:{port}/v1/actions/ping"
            for _ in range(300):  # granian's worker starts after the banner: a guard, not a timing assumption
                try:
                    answer = requests.post(ping, json={"ping_value": "x"}, auth=("stiply-user", "stiply-password"))
                    break
                except requests.ConnectionError:
                    time.sleep(0.1)
            assert answer.status_code == 200
            big = requests.post(ping, data=b"{" + b" " * 200 + b"}", auth=("stiply-user", "stiply-password"))
            assert big.status_code == 413 and "100 byte limit" in big.json()["message"]
            # an injected dropped connection is a connection the client sees closed, on either server
            fault = {"operation": "ping", "drop": True, "times": 1}
            assert requests.post(f"http://127.0.0.1:{port}/__control/stiply/faults", json=fault).status_code == 201
            with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
                requests.post(ping, json={"ping_value": "x"}, auth=("stiply-user", "stiply-password"))
            again = requests.post(ping, json={"ping_value": "x"}, auth=("stiply-user", "stiply-password"))
            assert again.status_code == 200
            # an injected latency delays the answer, which then comes whole (granian: off the event loop)
            fault = {"operation": "ping", "latency_ms": 50, "times": 1}
            assert requests.post(f"http://127.0.0.1:{port}/__control/stiply/faults", json=fault).status_code == 201
            late = requests.post(ping, json={"ping_value": "y"}, auth=("stiply-user", "stiply-password"))
            assert late.json() == {"ping_value": "y", "status_code": "200"}
        finally:
            process.send_signal(stop)
            out, err = process.communicate(timeout=60)
        assert process.returncode == 0, (stop, out, err)
        assert out.rstrip().endswith("stopped."), out
        assert "Traceback" not in err, err


@pytest.mark.parametrize("port", ["99999", "-1", "http"])
def test_a_port_that_is_no_tcp_port_is_a_usage_error(port: str, capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as exit:
        cli.main(["serve", "stiply", "--port", port])
    err = capsys.readouterr().err
    assert exit.value.code == 2 and "argument --port" in err and "Traceback" not in err


@pytest.mark.parametrize("server", ["cheroot", "granian"])
def test_a_port_in_use_is_a_usage_error_not_a_traceback(server: str, capsys) -> None:  # type: ignore[no-untyped-def]
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert cli.main(["serve", "stiply", "--server", server, "--port", str(port)]) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
