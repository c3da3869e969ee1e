"""What every faulty-server test shares: serve an app on 127.0.0.1, run `check` against it, find the finding.

A fault counts as caught only when the exit code is 1 AND the report has a finding for one of the fault's
operations that names the broken rule and that operation's documented source.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import pytest
from cheroot.wsgi import Server

from esign_contracts.contracts.cli import main
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
