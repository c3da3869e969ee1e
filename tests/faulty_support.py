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
from esign_contracts.mocks.ids import RandomIds
from esign_contracts.mocks.mock import Controls
from esign_contracts.specs import load_contract

Wsgi = Callable[[dict[str, Any], Any], Iterable[bytes]]


class FaultLike(Protocol):
    operations: tuple[str, ...]
    finding: str


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
