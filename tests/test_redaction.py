"""Secrets a run meets on the way are redacted too: a token the target issues to any request of the run, and a
secret an excerpt would cut in half."""

from __future__ import annotations

from urllib.parse import urlencode

from esign_contracts.contracts.oracle import Oracle, _excerpt
from esign_contracts.contracts.report import Report
from esign_contracts.contracts.target import MockTarget
from esign_contracts.mocks import Mock, Response


def test_a_token_issued_to_a_request_of_the_model_phase_is_redacted_like_the_runs_own() -> None:
    mock = Mock("trustedx", send_callbacks=False)
    report = Report("trustedx", "in-process", 0)
    oracle = Oracle("trustedx", MockTarget(mock), mock.credentials, report)
    operation = oracle.contract.operation("requestToken")
    form = urlencode({"grant_type": "client_credentials", "scope": "urn:safelayer:eidas:sign:process:document"})
    request = oracle.request(
        operation.method, operation.path, body=form.encode(), content_type="application/x-www-form-urlencoded"
    )
    answer = oracle.exchange(request)
    assert answer is not None and answer.status == 200
    token = answer.payload()["access_token"]
    assert token in report.secrets
    assert token not in report.render() and token not in report.json() and token not in report.junit_xml()


def test_an_excerpt_is_redacted_before_it_is_cut() -> None:
    secret = "S3cret-" + "x" * 40
    body = ("a" * 220 + secret + "b" * 100).encode()  # the secret straddles the 240-character cut
    text = _excerpt(Response(200, body), [secret])
    assert "S3cret" not in text and "xxxx" not in text
    assert text.startswith("200 " + "a" * 220 + "[redacted]")
