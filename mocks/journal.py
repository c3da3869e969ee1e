"""What the mock saw: every request with its outcome, and the requests the client got wrong."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Violation:
    """A request that broke the documented contract: the client's mistake, not the server's refusal."""

    provider: str
    operation: str
    rule: str
    source: str
    received: str
    detail: str
    spec_pointer: str = ""

    def __str__(self) -> str:
        where = f" (spec: {self.spec_pointer})" if self.spec_pointer else ""
        return (
            f"[{self.provider}] {self.operation}: {self.rule} — {self.detail}; "
            f"documented in {self.source or 'the spec'}{where}; received {self.received}"
        )


@dataclass(frozen=True)
class Entry:
    """One request and what the mock did with it."""

    seq: int
    at: float
    provider: str
    operation: str
    method: str
    path: str
    status: int
    outcome: str  # "ok", "refused" (unmet precondition), "violation", "unauthenticated", "unrouted", "control"
    rule: str = ""
    message: str = ""
    violations: tuple[Violation, ...] = field(default=())


class Journal:
    """Thread-safe, append-only record of a mock's traffic."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[Entry] = []

    def record(self, **fields: object) -> Entry:
        with self._lock:
            entry = Entry(seq=len(self._entries) + 1, at=time.time(), **fields)  # type: ignore[arg-type]
            self._entries.append(entry)
            return entry

    def __iter__(self) -> Iterator[Entry]:
        with self._lock:
            return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self, operation: str | None = None, outcome: str | None = None) -> list[Entry]:
        return [
            e
            for e in self
            if (operation is None or e.operation == operation) and (outcome is None or e.outcome == outcome)
        ]

    @property
    def violations(self) -> list[Violation]:
        return [v for e in self for v in e.violations]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
