"""`esign-contracts check` catches each faulty server of tests/faulty_servers.py, for the rule it breaks.

Each faulty app is served on 127.0.0.1 (cheroot, a free port) and checked over HTTP by the CLI's `main`
called in this process, with seed 0. A fault counts as caught only when the exit code is 1 AND the report has a
finding for the right operation that names the broken rule and its documented source.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from urllib3 import encode_multipart_formdata

from esign_contracts.contracts.check import Budget
from esign_contracts.contracts.oracle import Oracle
from esign_contracts.contracts.report import Report
from esign_contracts.contracts.target import MockTarget
from esign_contracts.mocks import Mock, WSGIApp
from esign_contracts.specs import load_contract

from .faulty_servers import FAULTS, PASSWORD, USERNAME, Fault
from .faulty_support import Harness

# Every fault is caught by a run with the default budget (measured: all of them, 30 s each over HTTP); the
# suite uses a quarter of the examples and half the sequences to stay fast, with seed 0.
BUDGET = (Budget().examples // 4, Budget().sequences // 2)
CONTRACT = load_contract("stiply")
HARNESS = Harness("stiply")
served, run_check, finding_for = HARNESS.served, HARNESS.run_check, HARNESS.finding_for
OPERATIONS = {op.id for op in CONTRACT.operations}
BY_ID = {f.id: f for f in FAULTS}
PDF = b"%PDF-1.4\n%faulty servers\n%%EOF\n"
OVER_HTTP = [f for f in FAULTS if not f.needs_control]
NEEDS_CONTROL = [f for f in FAULTS if f.needs_control]


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STIPLY_USERNAME", USERNAME)
    monkeypatch.setenv("STIPLY_PASSWORD", PASSWORD)


def test_the_correct_mock_served_the_same_way_is_conformant(credentials, capsys):
    HARNESS.assert_conformant(WSGIApp([Mock("stiply", seed=0)]), BUDGET, capsys)


@pytest.mark.parametrize("fault", OVER_HTTP, ids=lambda f: f.id)
def test_check_catches_the_faulty_server(fault: Fault, credentials, capsys):
    HARNESS.assert_caught(fault, BUDGET, capsys)


@pytest.mark.parametrize("fault", NEEDS_CONTROL, ids=lambda f: f.id)
def test_a_fault_behind_a_control_action_is_listed_as_not_exercised_over_http(fault: Fault, credentials, capsys):
    # A signer signs in a browser: over HTTP no request reaches "signer has signed", so check cannot see
    # this fault there. It must say so rather than pass silently (design.md: rules for the contract).
    with served(fault.app()) as url:
        code, report = run_check(url, 1, 2, capsys)
    not_exercised = report.split("Not exercised against this target:")[-1]
    assert re.search(r"control actions\b.*\bsign\b", not_exercised), report
    assert finding_for(fault, report) is None and code == 0, report


def test_an_update_after_the_signer_signed_is_caught_in_process():
    # `check()` without a URL always builds its own correct mock, so the faulty one is driven with the
    # pieces check uses for its model phase (oracle, in-process target) along the documented flow that
    # reaches the state: create, add a signer, send, the signer signs (control action), update the signer.
    fault = BY_ID["update-signed-signer"]
    mock = fault.mock()
    report = Report("stiply", "the faulty mock (in-process)", seed=0)
    oracle = Oracle("stiply", MockTarget(mock), mock.credentials, report)

    def send(method: str, path: str, body: object = None) -> Any:
        data, content_type = (json.dumps(body).encode(), "application/json") if body is not None else (b"", None)
        if path == "/sign_requests":
            data, content_type = encode_multipart_formdata({"term": "2w", "file": ("c.pdf", PDF, "application/pdf")})
        answer = oracle.exchange(oracle.request(method, path, body=data, content_type=content_type))
        assert answer is not None
        return answer.payload()

    key = send("POST", "/sign_requests")["data"]["sign_request"]["key"]
    signer = {"signer_email": "signer@example.com", "signer_signature_fields": [{"name": "signature1"}]}
    signer_key = send("POST", f"/sign_requests/{key}/signers", signer)["data"]["key"]
    send("POST", f"/sign_requests/{key}/actions/send")
    mock.control.sign(key)  # on the target and on the oracle's model, as the state machine does
    oracle.model.sign(key)
    assert report.ok, report.render()

    send("PUT", f"/sign_requests/{key}/signers/{signer_key}", {"new_email": "new@example.com"})

    assert finding_for(fault, report.render()), report.render()


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.id)
def test_each_fault_names_the_rule_it_breaks_and_where_it_is_documented(fault: Fault):
    doc = fault.broken.__doc__ or ""
    assert "x-source: " in doc, f"{fault.broken.__name__} does not say where its rule is documented"
    assert set(fault.operations) <= OPERATIONS
    if fault.rule_id is not None:
        (operation,) = fault.operations
        rules = {p.id: p.rule for p in CONTRACT.operation(operation).preconditions}
        assert rules.get(fault.rule_id, "<not declared>") in doc, f"{fault.rule_id} of {operation}: {rules}"
