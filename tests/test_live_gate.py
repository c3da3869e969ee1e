"""`check` as a CI gate, end to end against the served mock as a stand-in sandbox (`--live` on 127.0.0.1).

Afterwards the mock's journal and state show: every created resource deleted, at most --max-requests requests
(plus the clean-up), paced at --rate, an injected 429 retried after its Retry-After; and no report file nor the
captured output holds a credential. The safety rules around it: a host that is not this machine needs --live,
--dry-run sends nothing, Ctrl-C still cleans up.
"""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from esign_contracts.contracts import check as check_module
from esign_contracts.contracts.check import cleanup_operations
from esign_contracts.contracts.cli import main
from esign_contracts.contracts.gate import StopRequested
from esign_contracts.contracts.serve import Running
from esign_contracts.mocks import Mock

USER, PASSWORD = "gate-user", "Gate-Pa55word-that-must-not-leak"
ENV = {"STIPLY_USERNAME": USER, "STIPLY_PASSWORD": PASSWORD}
MAX_REQUESTS, RATE, RETRY_AFTER = 120, 40.0, 1


def _requests(mock: Mock) -> list:  # type: ignore[type-arg]
    """The journal's HTTP requests (not control actions or callbacks)."""
    return [e for e in mock.journal if e.method not in ("CONTROL",) and not e.operation.startswith("callback.")]


def _live_identifiers(mock: Mock) -> dict[str, list[str]]:
    return {
        parameter: mock.model.live_identifiers(parameter)
        for operation in cleanup_operations(mock.engine.contract)
        for parameter in operation.path_parameters
    }


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    mock = Mock("stiply", credentials={"basicAuth": (USER, PASSWORD)}, send_callbacks=False)
    with Running([mock]) as running:
        yield mock, running.base_url(mock)


def test_the_gate_end_to_end_budget_rate_429_clean_up_and_no_secret(sandbox, capsys, tmp_path: Path) -> None:
    mock, url = sandbox
    mock.faults.add("createSignRequest", status=429, times=1, retry_after=RETRY_AFTER)
    reports = {kind: tmp_path / f"reports/stiply.{kind}" for kind in ("xml", "json", "md")}
    code = main(
        [
            "check", "stiply", "--base-url", url, "--live",
            "--max-requests", str(MAX_REQUESTS), "--rate", str(RATE),
            "--junit-xml", str(reports["xml"]), "--json", str(reports["json"]), "--markdown", str(reports["md"]),
        ]
    )  # fmt: skip
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    # the plan came first, then a run that stopped at its budget and said how far it got
    assert out.out.startswith("Plan: esign-contracts check stiply against")
    assert f"stopped at --max-requests {MAX_REQUESTS}" in out.out

    # everything created is gone: the state is empty, and the journal shows each creation deleted
    assert all(ids == [] for ids in _live_identifiers(mock).values()), _live_identifiers(mock)
    entries = _requests(mock)
    created = sum(1 for e in entries if e.operation == "createSignRequest" and 200 <= e.status < 300)
    deleted = sum(1 for e in entries if e.operation == "deleteSignRequest" and 200 <= e.status < 300)
    assert created > 0 and deleted >= created

    # the budget: at most --max-requests, plus one clean-up request per thing created
    assert len(entries) <= MAX_REQUESTS + created
    # the rate: the gate spaces departures 1/RATE apart, so the arrivals span at least that (less the latency
    # of the first one; a lower bound only, which sleeping guarantees)
    span = entries[-1].at - entries[0].at
    assert span >= (len(entries) - 1) / RATE - 0.5, (span, len(entries))

    # the injected 429 was answered once, and the same request came again after its Retry-After
    creates = [e for e in entries if e.operation == "createSignRequest"]
    first_429 = next(i for i, e in enumerate(creates) if e.status == 429)
    assert creates[first_429 + 1].at - creates[first_429].at >= RETRY_AFTER
    assert f"waited {RETRY_AFTER} s as its Retry-After said" in out.out

    # reports are written and read well; no credential anywhere
    assert ET.parse(reports["xml"]).getroot().get("failures") == "0"
    data = json.loads(reports["json"].read_text())
    assert data["ok"] and data["stopped"].startswith("stopped at --max-requests")
    assert reports["md"].read_text().startswith("### esign-contracts check stiply")
    basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    for text in [out.out, out.err, *(path.read_text() for path in reports.values())]:
        for secret in (PASSWORD, basic):
            assert secret not in text


def test_a_host_that_is_not_this_machine_needs_live(capsys) -> None:
    assert main(["check", "stiply", "--base-url", "https://api.stiply.nl/v1"]) == 2
    assert "pass --live" in capsys.readouterr().err.lower()


def test_dry_run_prints_the_plan_and_sends_nothing(sandbox, capsys) -> None:
    mock, url = sandbox
    assert main(["check", "stiply", "--base-url", url, "--dry-run", "--max-requests", "50"]) == 0
    plan = capsys.readouterr().out
    assert "at most 50 requests" in plan and "createSignRequest (POST /sign_requests)" in plan
    assert "creates: sign_request, signer" in plan and "STIPLY_PASSWORD" in plan and PASSWORD not in plan
    assert _requests(mock) == []


def test_ctrl_c_stops_the_run_and_still_cleans_up(sandbox, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    mock, url = sandbox
    real = check_module.run_sequences

    def interrupted(oracle, **kwargs):  # type: ignore[no-untyped-def]
        # Ctrl-C in the middle of the model phase: some sign requests exist on the target by now.
        kwargs["examples"] = 3
        real(oracle, **kwargs)
        assert any(_live_identifiers(mock).values()), "the interrupted run should have created something"
        raise StopRequested  # what the CLI's Ctrl-C handler raises at the next safe point

    monkeypatch.setattr(check_module, "run_sequences", interrupted)
    code = main(["check", "stiply", "--base-url", url, "--examples", "1"])
    out = capsys.readouterr().out
    assert code == 130
    assert "interrupted (Ctrl-C)" in out
    assert all(ids == [] for ids in _live_identifiers(mock).values())


def test_sigterm_as_a_ci_sends_on_cancel_stops_the_run_and_still_cleans_up(sandbox) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    mock, url = sandbox
    command = [sys.executable, "-m", "esign_contracts.contracts.cli", "check", "stiply", "--base-url", url]
    run = subprocess.Popen(
        command, env={**os.environ, **ENV}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120  # a guard against a hang, not a timing assumption
    while not any(_live_identifiers(mock).values()) and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert run.poll() is None, "the run ended before it created anything"
    run.send_signal(signal.SIGTERM)
    out, err = run.communicate(timeout=120)
    assert run.returncode == 130, out + err
    assert "interrupted (Ctrl-C)" in out
    assert all(ids == [] for ids in _live_identifiers(mock).values()), _live_identifiers(mock)
    assert PASSWORD not in out + err


def test_a_keyboard_interrupt_in_library_use_goes_on_up_after_the_clean_up(sandbox, monkeypatch) -> None:
    mock, url = sandbox
    real = check_module.run_sequences

    def interrupted(oracle, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["examples"] = 3
        real(oracle, **kwargs)
        raise KeyboardInterrupt  # not our handler's: a caller's (pytest's, an IDE's) Ctrl-C

    monkeypatch.setattr(check_module, "run_sequences", interrupted)
    with pytest.raises(KeyboardInterrupt):
        check_module.check("stiply", url, env=ENV, budget=check_module.Budget(examples=1))
    assert all(ids == [] for ids in _live_identifiers(mock).values())


def test_a_2xx_the_model_did_not_expect_is_still_cleaned_up(monkeypatch, capsys) -> None:
    from .faulty_servers import DuplicateExternalKey
    from .faulty_support import mock_of

    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    mock = mock_of(DuplicateExternalKey())
    mock.engine.credentials["basicAuth"] = (USER, PASSWORD)
    with Running([mock]) as running:
        code = main(["check", "stiply", "--base-url", running.base_url(mock), "--examples", "2", "--sequences", "5"])
    out = capsys.readouterr().out
    assert code == 1, out
    assert all(ids == [] for ids in _live_identifiers(mock).values()), out
