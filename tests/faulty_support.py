"""What every faulty-server test shares: serve an app on 127.0.0.1, run `check` against it, find the finding.

A fault counts as caught only when the exit code is 1 AND the report has a finding for one of the fault's
operations that names the broken rule and that operation's documented source.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import pytest
from cheroot.wsgi import Server

from esign_contracts.contracts.cli import main
from esign_contracts.mocks import Engine, Mock, Provider, WSGIApp
from esign_contracts.mocks.callbacks import Courier
from esign_contracts.mocks.engine import RULE_HEADER
from esign_contracts.mocks.ids import RandomIds
from esign_contracts.mocks.mock import Controls
from esign_contracts.specs import Contract, load_contract

Wsgi = Callable[[dict[str, Any], Any], Iterable[bytes]]


class FaultLike(Protocol):
    operations: tuple[str, ...]
    finding: str


class ClientFaultLike(Protocol):
    """A faulty client (each provider's test file has its table of them) and what the mock must list."""

    client: Callable[[], Any]  # sends the faulty request; returns the `requests` answer
    status: int
    operation: str
    rule: str
    detail: str  # words the violation's detail must contain


@dataclass(frozen=True)
class FaultyClient:
    """A faulty client whose violation points into the spec (`pointer`)."""

    client: Callable[[], Any]
    status: int
    operation: str
    rule: str
    detail: str  # words the violation's detail must contain
    pointer: str  # the violation's JSON pointer into the provider's spec


def assert_listed(faulty: ClientFaultLike, mock: Mock) -> None:
    """The faulty client gets the documented status, and the mock lists one violation of the rule, whose name
    the client hears too (the rule header)."""
    answer = faulty.client()
    assert answer.status_code == faulty.status, answer.text
    (violation,) = mock.violations
    assert (violation.provider, violation.operation, violation.rule) == (mock.name, faulty.operation, faulty.rule)
    assert faulty.detail in violation.detail, violation
    assert answer.headers[RULE_HEADER] == faulty.rule


def assert_located(faulty: FaultyClient, mock: Mock, contract: Contract) -> None:
    """The one violation points at the client's pointer, a real place in the spec, and (but for credentials,
    which the security scheme states) names its operation's documented source."""
    faulty.client()
    (violation,) = mock.violations
    assert violation.spec_pointer == faulty.pointer
    assert contract.resolve(violation.spec_pointer) is not None
    if faulty.rule != "credentials" and faulty.operation in {op.id for op in contract.operations}:
        assert violation.source == contract.operation(faulty.operation).source


def assert_unrouted(client: Callable[[], Any], status: int, detail: str, mock: Mock, contract: Contract) -> None:
    """A wrong method or path gets `status` and is listed as a violation of "documented operation"."""
    answer = client()
    assert answer.status_code == status, answer.text
    (violation,) = mock.violations
    assert (violation.provider, violation.operation, violation.rule) == (
        mock.name,
        "(no documented operation)",
        "documented operation",
    )
    assert detail in violation.detail, violation
    # Core limitation: an unrouted request's violation carries no spec pointer (`Engine._answer` passes none) and
    # its source is f"{contract.title} > Reference", no section of the docs. The pointer that would resolve is
    # /paths (or the nearest path item); accept it once the core gives one.
    if violation.spec_pointer:
        contract.resolve(violation.spec_pointer)
    else:
        assert violation.source == f"{contract.title} > Reference"


def findings(report: str) -> list[str]:
    """The report's findings, each a block starting "✗ operation — check: rule"."""
    return [block for block in report.split("\n\n") if block.startswith("✗ ")]


class Harness:
    """Serving and checking for one provider's faulty servers."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.contract = load_contract(provider)
        self.operations = {op.id for op in self.contract.operations}

    @contextmanager
    def served(self, app: Wsgi) -> Iterator[str]:
        """Serve `app` on a free port of 127.0.0.1 with cheroot (as `serve` does) in a thread; yield the base URL."""
        server = Server(("127.0.0.1", 0), app, numthreads=4)
        server.prepare()
        thread = threading.Thread(target=server.serve, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.bind_addr[1]}{self.contract.base_path}"
        finally:
            server.stop()
            thread.join(timeout=5)

    def run_check(self, url: str, examples: int, sequences: int, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
        argv = ["check", self.provider, "--base-url", url, "--seed", "0"]
        code = main([*argv, "--examples", str(examples), "--sequences", str(sequences)])
        return code, capsys.readouterr().out

    def assert_conformant(self, app: Wsgi, budget: tuple[int, int], capsys: pytest.CaptureFixture[str]) -> None:
        """`check` of `app` (the unbroken mock) served finds nothing and exits 0."""
        with self.served(app) as url:
            code, report = self.run_check(url, *budget, capsys)
        assert findings(report) == [], report
        assert code == 0 and report.rstrip().endswith("conformant."), report

    def assert_caught(self, fault: ServerFault, budget: tuple[int, int], capsys: pytest.CaptureFixture[str]) -> None:
        """`check` of the faulty server exits 1 with a finding that names the broken rule and its source."""
        with self.served(fault.app()) as url:
            code, report = self.run_check(url, *budget, capsys)
        missing = f"no finding for {fault.operations} matching {fault.finding!r}:\n{report}"
        assert self.finding_for(fault, report), missing
        assert code == 1, report

    def finding_for(self, fault: FaultLike, report: str) -> str | None:
        """The first finding under one of the fault's operations that names its rule and its x-source."""
        for block in findings(report):
            operation, _, header = block.splitlines()[0].removeprefix("✗ ").partition(" — ")
            source = self.contract.operation(operation).source if operation in self.operations else None
            documented = f"\n  documented: {source}\n" if source else None
            if operation in fault.operations and re.search(fault.finding, header) and documented in block:
                return block
        return None


def mock_of(model: Provider, engine: type[Engine] = Engine, seed: int = 0) -> Mock:
    """A served-style `Mock` (no callbacks leave it) around a model instance, on the real engine or a faulty one."""
    mock = Mock(model, seed=seed, send_callbacks=False)
    if engine is not Engine:
        mock.engine = engine(model, ids=RandomIds(seed))
        mock.engine.courier = Courier(mock.engine.journal, mock.name, send=None)
        mock.control = Controls(mock.engine)
    return mock


@dataclass(frozen=True)
class ServerFault:
    """One faulty server and what a `check` report must say about it. Each provider's `Fault` sets `model`."""

    id: str
    operations: tuple[str, ...]  # the operationIds a finding may be reported under
    finding: str  # a regular expression the finding's header line ("✗ op — check: rule") must match
    model: type[Provider]
    engine: type[Engine] = Engine
    middleware: Callable[[Wsgi], Wsgi] | None = None
    rule_id: str | None = None  # the x-preconditions id it breaks, if any
    detail: str = ""  # a regular expression the finding's body must match too (what exactly is wrong)
    needs_control: bool = False  # only reachable with control actions (in-process target)

    @property
    def broken(self) -> type:
        """The class that breaks the rule (its docstring names the rule and its x-source)."""
        return self.middleware or (self.engine if self.engine is not Engine else self.model)  # type: ignore[return-value]

    def mock(self, seed: int = 0) -> Mock:
        return mock_of(self.model(), self.engine, seed)

    def app(self, seed: int = 0) -> Wsgi:
        app: Wsgi = WSGIApp([self.mock(seed)])
        return self.middleware(app) if self.middleware else app
