"""`pytest --esign-check PROVIDER`: the contract as test items inside another repo's pytest run.

Each run is an inner pytest (pytester, in this process) in an empty project: against the built-in mock it
passes; against a served faulty server the item of the broken rule fails with the finding, and JUnit shows it;
the same safety applies (a host that is not this machine needs --esign-live); a suite that does not ask for a
check does not even import the checker.
"""

from __future__ import annotations

import pytest

from esign_contracts.contracts.serve import Running

from .faulty_okdokument import API_KEY, FAULTS

SMALL = ["--esign-examples", "3", "--esign-sequences", "5", "-p", "no:cacheprovider"]


def test_the_contract_is_collected_as_one_item_per_operation_and_rule(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--esign-check", "okdokument", "--collect-only", "-q", *SMALL)
    names = result.stdout.str()
    for item in (
        "updateSignatureRequest",
        "updateSignatureRequest::signature_request_exists",
        "createSignatureRequest",
    ):
        assert f"esign-contracts[okdokument]::{item}" in names or f"::{item}\n" in names or item in names


def test_the_built_in_mock_passes_every_item_it_reached(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--esign-check", "okdokument", "-rs", *SMALL)
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0 and outcomes["passed"] >= 3, result.stdout.str()


def test_a_faulty_server_fails_the_item_of_the_broken_rule_and_junit_shows_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    fault = next(f for f in FAULTS if f.id == "update-unknown-id")
    secret = "Inner-Api-Key-0123456789"
    monkeypatch.setenv("OKDOKUMENT_API_KEY", secret)
    mock = fault.mock()
    mock.engine.credentials["apiKey"] = secret
    mock.engine.provider.credentials = mock.engine.credentials
    assert API_KEY != secret
    junit = pytester.path / "junit.xml"
    with Running([mock]) as running:
        result = pytester.runpytest_inprocess(
            "--esign-check", "okdokument", "--esign-base-url", running.base_url(mock), f"--junitxml={junit}", *SMALL
        )
    out = result.stdout.str()
    assert result.ret == 1, out
    assert "updateSignatureRequest::signature_request_exists FAILED" in out or (
        "FAILED" in out and "signature_request_exists" in out
    ), out
    assert "signatureRequestId must exist" in out
    text = junit.read_text()
    assert "<failure" in text and "signature_request_exists" in text
    assert secret not in out and secret not in text


def test_a_host_that_is_not_this_machine_needs_esign_live(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess(
        "--esign-check", "okdokument", "--esign-base-url", "https://apidev.okdokument.com", *SMALL
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "pass --live" in result.stderr.str().lower()


def test_a_suite_that_asks_for_no_check_does_not_load_the_checker(pytester: pytest.Pytester) -> None:
    # A fresh interpreter: this one has loaded everything already. (Schemathesis' own pytest plugin loads
    # Schemathesis whatever we do; what is ours to keep out is our checker, mocks and oracle.)
    pytester.makepyfile(
        test_plain="""
import sys

def test_plain():
    ours = [m for m in sys.modules if m.startswith("esign_contracts.") and m.split(".")[1] in ("mocks", "contracts")]
    assert ours == ["esign_contracts.contracts", "esign_contracts.contracts.plugin"] or sorted(ours) == sorted(
        ["esign_contracts.contracts", "esign_contracts.contracts.plugin"]
    ), ours
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
