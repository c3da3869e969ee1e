"""Fault injection: make one operation answer a documented error, wait, or drop the connection.

For the next N calls or a share of them (drawn from a seeded generator, so a run repeats). The same
`Faults` object is used from Python (`mock.faults`) and over HTTP (`/__control/{provider}/faults`).
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

from esign_contracts.mocks.provider import misfits
from esign_contracts.specs import Contract, Operation

KINDS = ("status", "latency", "drop")
# A server may answer these to any request whatever its API documents (RFC 6585 429 Too Many Requests,
# RFC 9110 503 Service Unavailable), with a Retry-After: a client, and a check, must cope with them.
TRANSPORT_STATUSES = frozenset({429, 503})
MAX_LATENCY_MS = 60_000


class FaultError(ValueError):
    """A fault that cannot be injected as asked; the message says why and what is allowed."""


class Dropped(Exception):
    """The adapter closes the connection without an answer (an injected `drop` fault)."""


@dataclass
class Fault:
    """One injected behaviour for one operation (or "*" for every operation of the provider)."""

    operation: str
    status: int | None = None  # answer this documented status instead of running the model
    latency_ms: int = 0  # wait this long first (then answer normally, or with `status`)
    drop: bool = False  # close the connection without an answer
    times: int | None = None  # for the next N matching calls (None: until cleared, or by share)
    retry_after: int | None = None  # seconds, sent as Retry-After with a 429 or 503
    share: float | None = None  # or for this share of the matching calls, 0 < share <= 1
    id: int = 0
    applied: int = field(default=0)

    def describe(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, False) or k in ("id", "applied")}


def _error_statuses(operation: Operation) -> list[int]:
    """The statuses a fault may answer for `operation`: its documented ones that are errors (a 2xx is no fault)."""
    return sorted(status for status in operation.statuses if status >= 400)


def _listed(statuses: list[int]) -> str:
    return ", ".join(map(str, statuses)) or "none"


class Faults:
    """The faults of one mock, checked against its contract when added."""

    def __init__(self, contract: Contract, seed: int | None = 0) -> None:
        self.contract = contract
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._next_id = 0

    def __bool__(self) -> bool:
        return bool(self._faults)

    def add(
        self,
        operation: str,
        *,
        status: int | None = None,
        latency_ms: int = 0,
        drop: bool = False,
        times: int | None = None,
        share: float | None = None,
        retry_after: int | None = None,
    ) -> Fault:
        """Inject a fault; FaultError when the operation, status or numbers are not ones the contract allows."""
        # JSON gives any kind of value: a string where a number belongs would compare wrongly or not at all below
        wrong = misfits(
            Faults.add,
            {
                "operation": operation,
                "status": status,
                "latency_ms": latency_ms,
                "drop": drop,
                "times": times,
                "share": share,
                "retry_after": retry_after,
            },
        )
        if wrong:
            raise FaultError("; ".join(wrong))
        operations = {op.id: op for op in self.contract.operations}
        if operation != "*" and operation not in operations:
            raise FaultError(f"{self.contract.name} has no operation {operation!r}; known: {', '.join(operations)}")
        if status is not None and status not in TRANSPORT_STATUSES:
            documented = _error_statuses(operations[operation]) if operation != "*" else []
            if status not in documented:
                raise FaultError(
                    f"status {status} is not a documented error status of {operation}; documented: "
                    f"{_listed(documented) if operation != '*' else 'name one operation to inject a status'} "
                    "(429 and 503 are allowed on any operation)"
                )
        if retry_after is not None and (status not in TRANSPORT_STATUSES or not 0 <= retry_after <= 3600):
            raise FaultError("retry_after (0 to 3600 seconds) goes with status 429 or 503")
        if status is None and not drop and not latency_ms:
            raise FaultError("a fault needs status, latency_ms or drop")
        if drop and status is not None:
            raise FaultError("a dropped connection has no status: give drop or status, not both")
        if not 0 <= latency_ms <= MAX_LATENCY_MS:
            raise FaultError(f"latency_ms must be between 0 and {MAX_LATENCY_MS}")
        if times is not None and times < 1:
            raise FaultError("times must be at least 1")
        if share is not None and not 0 < share <= 1:
            raise FaultError("share must be more than 0 and at most 1")
        if times is not None and share is not None:
            raise FaultError("give times or share, not both")
        with self._lock:
            self._next_id += 1
            fault = Fault(
                operation, status, latency_ms, drop, times=times, share=share, retry_after=retry_after, id=self._next_id
            )
            self._faults.append(fault)
        return fault

    def take(self, operation: str) -> Fault | None:
        """The fault that applies to this call of `operation`, counted; None when none does."""
        if not self._faults:
            return None
        with self._lock:
            for fault in self._faults:
                if fault.operation not in (operation, "*"):
                    continue
                if fault.share is not None and self._random.random() >= fault.share:
                    continue
                fault.applied += 1
                if fault.times is not None and fault.applied >= fault.times:
                    self._faults.remove(fault)
                return fault
        return None

    def list(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def remove(self, fault_id: int) -> bool:
        with self._lock:
            before = len(self._faults)
            self._faults = [f for f in self._faults if f.id != fault_id]
            return len(self._faults) < before

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
