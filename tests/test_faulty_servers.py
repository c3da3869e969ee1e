"""`esign-contracts check` catches each faulty server of tests/faulty_servers.py, for the rule it breaks.

Each faulty app is served on 127.0.0.1 (waitress, a free port) and checked over HTTP through the CLI,
in-process, with seed 0. A fault counts as caught only when the exit code is 1 AND the report has a
finding for the right operation that names the broken rule and its documented source.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from waitress import wasyncore
from waitress.server import create_server

from esign_contracts.contracts.cli import main
from esign_contracts.contracts.oracle import Oracle
from esign_contracts.contracts.report import Report
from esign_contracts.contracts.stateful import run_sequences
from esign_contracts.contracts.target import MockTarget
from esign_contracts.mocks import Mock, WSGIApp
from esign_contracts.specs import load_contract

from .faulty_servers import FAULTS, PASSWORD, USERNAME, Fault, Wsgi

# The smallest budget (Schemathesis examples per operation and mode, state machine sequences) that catches
# each fault with seed 0; the run is deterministic, so these were measured, not guessed.
BUDGETS: dict[str, tuple[int, int]] = {
    "signer-after-send": (1, 5),
    "send-without-signers": (1, 2),
    "keeps-deleted-request": (1, 3),
    "lenient-signer-body": (1, 35),  # broken bodies on a live sign request are rare in the model phase
    "numeric-file-size": (1, 1),
    "crashes-on-invalid-json": (1, 2),
    "crashes-on-bad-signer": (2, 1),
    "ignores-credentials": (1, 1),
    "remind-before-send": (1, 2),
    "duplicate-external-key": (1, 4),
}
CONTRACT = load_contract("stiply")
OPERATIONS = {op.id for op in CONTRACT.operations}
OVER_HTTP = [f for f in FAULTS if not f.needs_control]
NEEDS_CONTROL = [f for f in FAULTS if f.needs_control]


@contextmanager
def served(app: Wsgi) -> Iterator[str]:
    """Serve `app` on a free port of 127.0.0.1 in a daemon thread; yield the Stiply base URL."""
    sockets: dict[int, object] = {}
    server = create_server(app, map=sockets, host="127.0.0.1", port=0, threads=4)
    stop = threading.Event()

    def serve() -> None:
        # waitress' own run() loops until its sockets are closed; closing them from another thread races
        # with its select(), so the serving thread polls a stop flag and closes everything itself.
        while not stop.is_set():
            wasyncore.loop(timeout=0.05, map=sockets, count=1)
        server.task_dispatcher.shutdown()
        wasyncore.close_all(sockets)  # the listening socket and every kept-alive connection

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}/v1"
    finally:
        stop.set()
        thread.join(timeout=5)


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STIPLY_USERNAME", USERNAME)
    monkeypatch.setenv("STIPLY_PASSWORD", PASSWORD)


def run_check(url: str, examples: int, sequences: int, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    argv = ["check", "stiply", "--base-url", url, "--seed", "0"]
    code = main([*argv, "--examples", str(examples), "--sequences", str(sequences)])
    return code, capsys.readouterr().out


def findings(report: str) -> list[str]:
    """The report's findings, each a block starting "✗ operation — check: rule"."""
    return [block for block in report.split("\n\n") if block.startswith("✗ ")]


def finding_for(fault: Fault, report: str) -> str | None:
    """The first finding under one of the fault's operations that names its rule and that operation's x-source."""
    for block in findings(report):
        operation, _, header = block.splitlines()[0].removeprefix("✗ ").partition(" — ")
        documented = f"\n  documented: {CONTRACT.operation(operation).source}\n" if operation in OPERATIONS else None
        if operation in fault.operations and re.search(fault.finding, header) and documented in block:
            return block
    return None


def test_the_correct_mock_served_the_same_way_is_conformant(credentials, capsys):
    # Every fault's budget is a prefix of this one (same seed), so no finding below comes from the harness.
    budget = (max(e for e, _ in BUDGETS.values()), max(s for _, s in BUDGETS.values()))
    with served(WSGIApp([Mock("stiply", seed=0)])) as url:
        code, report = run_check(url, *budget, capsys)
    assert findings(report) == [], report
    assert code == 0 and report.rstrip().endswith("conformant."), report


@pytest.mark.parametrize("fault", OVER_HTTP, ids=lambda f: f.id)
def test_check_catches_the_faulty_server(fault: Fault, credentials, capsys):
    with served(fault.app()) as url:
        code, report = run_check(url, *BUDGETS[fault.id], capsys)
    assert finding_for(fault, report), f"no finding for {fault.operations} matching {fault.finding!r}:\n{report}"
    assert code == 1, report


@pytest.mark.parametrize("fault", NEEDS_CONTROL, ids=lambda f: f.id)
def test_a_fault_behind_a_control_action_is_listed_as_not_exercised_over_http(fault: Fault, credentials, capsys):
    # A signer signs in a browser: over HTTP no request reaches "signer has signed", so check cannot see
    # this fault there. It must say so rather than pass silently (design.md: rules for the contract).
    with served(fault.app()) as url:
        code, report = run_check(url, 1, 2, capsys)
    not_exercised = report.split("Not exercised against this target:")[-1]
    assert "control actions" in not_exercised and "sign" in not_exercised, report
    assert finding_for(fault, report) is None and code == 0, report


@pytest.mark.parametrize("fault", NEEDS_CONTROL, ids=lambda f: f.id)
def test_a_fault_behind_a_control_action_is_caught_in_process(fault: Fault):
    # `check()` without a URL always builds its own correct mock, so drive the faulty one with the
    # same pieces check uses for its model phase: the oracle, an in-process target, the sequences.
    report = Report("stiply", "faulty in-process mock", seed=0)
    mock = fault.mock()
    oracle = Oracle("stiply", MockTarget(mock), mock.credentials, report)
    run_sequences(oracle, seed=0, examples=5, steps=50, run_token="faulty")
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
