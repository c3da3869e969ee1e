"""`esign-contracts check` and `serve`: the mock passes in-process and over HTTP; usage errors exit 2; no secrets."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from esign_contracts.contracts.check import Budget, check
from esign_contracts.contracts.cli import main
from esign_contracts.contracts.report import Report
from esign_contracts.contracts.serve import Running
from esign_contracts.mocks import Mock

SMALL = ["--examples", "3", "--sequences", "8"]


@pytest.fixture
def served() -> Iterator[tuple[str, Mock]]:
    """The Stiply mock on a free port of 127.0.0.1, with credentials that must never be printed."""
    mock = Mock("stiply", credentials={"basicAuth": ("ci-user", "Sup3r-S3cret-Passw0rd")})
    with Running([mock]) as running:
        yield running.base_url(), mock


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STIPLY_USERNAME", "ci-user")
    monkeypatch.setenv("STIPLY_PASSWORD", "Sup3r-S3cret-Passw0rd")


def test_the_built_in_mock_passes_check_in_process_and_reaches_the_documented_states() -> None:
    report = check("stiply", seed=0)
    assert report.ok, report.render()
    for pair in [
        ("sendSignRequest", 200), ("createSigner", 403), ("sendSignRequest", 403), ("getSignRequest", 404),
        ("updateSigner", 200), ("createSignRequest", 415), ("createSignRequest", 400), ("getSignRequestKey", 200),
        ("deleteSigner", 200), ("sendReminder", 403), ("extendTerm", 403),
    ]:  # fmt: skip
        assert report.exercised[pair] > 0, f"{pair} never exercised"
    # States only control actions make (all signed, term expired), and what they unlock
    assert sum(report.exercised[(f"control.{name}", 0)] for name in ("sign", "sign_all", "expire_term")) > 0
    unlocked = [("getSignedDocument", 200), ("getProofDocument", 200), ("extendTerm", 200), ("updateSigner", 403)]
    assert sum(report.exercised[pair] for pair in unlocked) > 0
    assert len(report.documented & set(report.exercised)) >= len(report.documented) - 5


def test_the_served_mock_passes_check_over_http(served, credentials, capsys, tmp_path: Path) -> None:
    url, mock = served
    junit = tmp_path / "report.xml"
    code = main(["check", "stiply", "--base-url", url, "--junit-xml", str(junit), *SMALL])
    out = capsys.readouterr()
    assert code == 0, out.out
    assert "conformant" in out.out
    assert "Not exercised against this target" in out.out and "control actions" in out.out
    suite = ET.parse(junit).getroot()
    assert suite.get("failures") == "0" and int(suite.get("skipped")) >= 1
    assert mock.model.requests == {}  # the run deleted what it created


def test_no_credential_appears_in_any_output(served, credentials, capsys, tmp_path: Path) -> None:
    url, mock = served
    junit = tmp_path / "report.xml"
    main(["check", "stiply", "--base-url", url, "--junit-xml", str(junit), *SMALL])
    out = capsys.readouterr()
    token = base64.b64encode(b"ci-user:Sup3r-S3cret-Passw0rd").decode()
    for text in (out.out, out.err, junit.read_text()):
        assert "Sup3r-S3cret-Passw0rd" not in text and token not in text


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["check", "stiply", "--base-url", "ftp://x"], {}, "--base-url must be an http(s) URL"),
        (["check", "stiply", "--base-url", "http://127.0.0.1:99999/v1"], {}, "Port out of range 0-65535"),
        (["check", "stiply", "--base-url", "http://[::1/v1"], {}, "Invalid IPv6 URL"),
        (["check", "stiply", "--base-url", "http://127.0.0.1:0/v1"], {}, "names port 0"),
        (["check", "stiply", "--base-url", "http://:8000/v1"], {}, "--base-url must be an http(s) URL"),
        (["check", "stiply", "--base-url", "http://127.0.0.1:1/v1"], {}, "set STIPLY_USERNAME and STIPLY_PASSWORD"),
        (["check", "stiply", "--base-url", "http://127.0.0.1:1/v1"], {"STIPLY_USERNAME": "u", "STIPLY_PASSWORD": "p"},
         "cannot reach http://127.0.0.1:1/v1"),
        (["check", "stiply", "--examples", "0"], {}, "must be at least 1"),
        (["check", "stiply", "--base-url", "http://127.0.0.1:1/v1"], {"STIPLY_PASSWORD": "p"},
         "STIPLY_PASSWORD is set but STIPLY_USERNAME is not: set all of STIPLY_USERNAME, STIPLY_PASSWORD, or none"),
        (["check", "signix", "--base-url", "http://127.0.0.1:1"], {}, "(or pass --credential signix.CustInfo="),
    ],
)  # fmt: skip
def test_usage_errors_exit_2_with_one_sentence_and_no_traceback(argv, env, message, monkeypatch, capsys) -> None:
    monkeypatch.delenv("STIPLY_USERNAME", raising=False)
    monkeypatch.delenv("STIPLY_PASSWORD", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_wrong_credentials_and_a_wrong_base_url_are_usage_errors(served, monkeypatch, capsys) -> None:
    url, _ = served
    monkeypatch.setenv("STIPLY_USERNAME", "ci-user")
    monkeypatch.setenv("STIPLY_PASSWORD", "wrong")
    assert main(["check", "stiply", "--base-url", url, *SMALL]) == 2
    assert "refused the credentials from STIPLY_USERNAME, STIPLY_PASSWORD" in capsys.readouterr().err
    monkeypatch.setenv("STIPLY_PASSWORD", "Sup3r-S3cret-Passw0rd")
    assert main(["check", "stiply", "--base-url", url.removesuffix("/v1"), *SMALL]) == 2
    assert "is the base URL right?" in capsys.readouterr().err


def test_an_unknown_provider_is_a_usage_error(capsys) -> None:
    assert main(["check", "docusign"]) == 2
    known = "known providers: ignisign, okdokument, signix, stiply, trustedx"
    assert f"unknown provider docusign; {known}" in capsys.readouterr().err


def test_a_base_url_names_one_provider(capsys) -> None:
    assert main(["check", "stiply", "okdokument", "--base-url", "http://127.0.0.1:1"]) == 2
    assert "name exactly one provider" in capsys.readouterr().err


def test_check_without_a_provider_checks_every_built_in_mock(monkeypatch, capsys, tmp_path: Path) -> None:
    checked = []

    def fake_check(provider, base_url, **kwargs):  # type: ignore[no-untyped-def]
        checked.append(provider)
        return Report(provider, "the built-in mock", 0)

    monkeypatch.setattr("esign_contracts.contracts.check.check", fake_check)
    junit = tmp_path / "all.xml"
    assert main(["check", "--junit-xml", str(junit)]) == 0
    assert checked == ["ignisign", "okdokument", "signix", "stiply", "trustedx"]
    suites = ET.parse(junit).getroot()
    assert suites.tag == "testsuites" and len(suites) == 5


def test_the_same_seed_gives_the_same_run() -> None:
    budget = Budget(examples=2, sequences=5, steps=10)
    first, second = check("stiply", seed=5, budget=budget), check("stiply", seed=5, budget=budget)
    assert first.requests_sent == second.requests_sent and first.exercised == second.exercised


def test_a_seeded_run_does_not_depend_on_the_code_loaded_beside_it(tmp_path: Path, monkeypatch) -> None:
    # Hypothesis draws literals from every loaded local module; a seeded check must not (reproduce lines).
    budget = Budget(examples=2, sequences=6, steps=15)
    before = check("stiply", seed=3, budget=budget)
    module = tmp_path / "user_constants_for_the_probe.py"
    module.write_text("\n".join(f"C{i} = 'term-{i}'; N{i} = {i * 7919}" for i in range(300)))
    monkeypatch.syspath_prepend(str(tmp_path))
    __import__("user_constants_for_the_probe")
    after = check("stiply", seed=3, budget=budget)
    assert (before.requests_sent, before.exercised) == (after.requests_sent, after.exercised)


def test_an_unwritable_report_path_is_a_usage_error_and_a_missing_folder_is_made(capsys, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    assert main(["check", "stiply", "--junit-xml", str(tmp_path / "a-file" / "r.xml"), *SMALL]) == 2
    assert f"cannot write {tmp_path / 'a-file' / 'r.xml'}" in capsys.readouterr().err
    assert main(["check", "stiply", "--json", str(tmp_path / "reports" / "r.json"), *SMALL]) == 0
    assert (tmp_path / "reports" / "r.json").is_file()


# --credential gives check the server's credentials, before the environment's (serve's form)


@pytest.fixture
def no_stiply_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STIPLY_USERNAME", raising=False)
    monkeypatch.delenv("STIPLY_PASSWORD", raising=False)


@pytest.mark.usefixtures("no_stiply_environment")
def test_credentials_from_a_flag_check_the_server_and_are_never_printed(served, capsys, tmp_path: Path) -> None:
    url, mock = served
    flag = ["--credential", "stiply.basicAuth=ci-user:Sup3r-S3cret-Passw0rd"]
    junit = tmp_path / "report.xml"
    assert main(["check", "stiply", "--base-url", url, *flag, "--junit-xml", str(junit), *SMALL]) == 0
    out = capsys.readouterr()
    assert "conformant" in out.out
    for text in (out.out, out.err, junit.read_text()):
        assert "Sup3r-S3cret-Passw0rd" not in text
        assert base64.b64encode(b"ci-user:Sup3r-S3cret-Passw0rd").decode() not in text
    assert mock.model.requests == {}


def test_a_flag_beats_the_environment_and_a_refusal_names_the_flag(served, credentials, capsys) -> None:
    url, _ = served  # the environment holds the right credentials; the flag's are wrong and win
    assert main(["check", "stiply", "--base-url", url, "--credential", "stiply.basicAuth=ci-user:Wr0ng", *SMALL]) == 2
    err = capsys.readouterr().err
    assert "refused the credentials from --credential stiply.basicAuth" in err and "Wr0ng" not in err


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["check", "stiply", "--credential", "stiply.basicAuth=a:Secret-Value"], "the built-in mock needs none"),
        (
            ["check", "stiply", "--base-url", "http://127.0.0.1:9/v1", "--credential", "stiply.basicAuth=Secret-Value"],
            "malformed value (no ':' between USER and PASSWORD)",
        ),
        (
            [
                "check",
                "stiply",
                "--base-url",
                "http://127.0.0.1:9/v1",
                "--credential",
                "okdokument.apiKey=Secret-Value",
            ],
            "okdokument is not checked (checking stiply)",
        ),
    ],
)
def test_a_misused_credential_flag_is_a_usage_error_without_the_value(argv, said, capsys) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert said in err and "Secret-Value" not in err and "Traceback" not in err


@pytest.mark.usefixtures("no_stiply_environment")
def test_missing_credentials_name_the_variables_and_the_flag(capsys) -> None:
    assert main(["check", "stiply", "--base-url", "http://127.0.0.1:9/v1", *SMALL]) == 2
    err = capsys.readouterr().err
    assert "set STIPLY_USERNAME and STIPLY_PASSWORD in the environment" in err
    assert "(or pass --credential stiply.basicAuth=USER:PASSWORD)" in err
