"""What the mock saw: every request with its outcome, and the requests the client got wrong."""

from __future__ import annotations

import operator
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, TypeVar

# Every outcome an entry can have (the control API refuses a filter on any other): the engine's answers ("refused":
# an unmet precondition), an injected fault's, a control action's, a callback's to a client's URL ("not sent": the
# mock sends none, as in check's shadow), and a body over the limit or cut short ("unreadable").
OUTCOMES = (
    "ok",
    "refused",
    "violation",
    "unauthenticated",
    "unrouted",
    "unreadable",
    "injected",
    "control",
    "delivered",
    "undelivered",
    "not sent",
)


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
    outcome: str  # one of OUTCOMES
    rule: str = ""
    message: str = ""
    violations: tuple[Violation, ...] = field(default=())


def made(cls: type[_Frozen], values: dict[str, object]) -> _Frozen:
    """`cls(**values)` for a frozen dataclass at a third of the cost, for the records made on every request: a frozen
    dataclass's `__init__` sets each field through `object.__setattr__`. The same names are required and refused;
    an absent field keeps its default, which the dataclass leaves on the class."""
    given = (cls, *values)
    if given not in _CHECKED:  # each caller gives the same names every time: they are checked once
        # a field with a default_factory has no default on the class to fall back on: it must be given
        required = {f.name for f in fields(cls) if f.default is MISSING}  # type: ignore[arg-type]
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        if not required <= values.keys() <= names:
            missing, unknown = sorted(required - values.keys()), sorted(values.keys() - names)
            raise TypeError(f"{cls.__name__}: missing fields {missing}, unknown fields {unknown}")
        _CHECKED.add(given)
    record = object.__new__(cls)
    record.__dict__.update(values)
    return record


_Frozen = TypeVar("_Frozen")
_CHECKED: set[tuple[object, ...]] = set()  # (class, *names) given to `made` and found right


# A violation's row holds its fields in the dataclass's order, so `Violation(*row)` makes it again.
_violation_row = operator.attrgetter(*(f.name for f in fields(Violation)))


def _entry(row: tuple[Any, ...]) -> Entry:
    return Entry(*row[:-1], violations=tuple(Violation(*v) for v in row[-1]))  # type: ignore[arg-type]


_ENTRY_FIELDS = [f.name for f in fields(Entry)]  # an entry's row holds its fields in this order
_SEQ, _OPERATION, _OUTCOME = (_ENTRY_FIELDS.index(name) for name in ("seq", "operation", "outcome"))


class Journal:
    """Thread-safe record of a mock's traffic.

    It keeps the newest `limit` entries (a long-running served mock must not grow without bound) and
    every violation up to the same limit; `dropped` counts the entries it let go.
    """

    def __init__(self, limit: int = 100_000) -> None:
        self._lock = threading.Lock()
        # Each entry and violation is kept as a tuple of plain values and made into its record when read: a full
        # journal of records took twice the memory (855 against 423 bytes an entry) and gave the collector four
        # objects an entry to walk, where such tuples leave its view (benchmarks/README.md).
        self._entries: deque[tuple[Any, ...]] = deque(maxlen=limit)
        self._violations: deque[tuple[str, ...]] = deque(maxlen=limit)
        self._seq = 0
        self.dropped = 0

    def record(
        self,
        *,
        provider: str,
        operation: str,
        method: str,
        path: str,
        status: int,
        outcome: str,
        rule: str = "",
        message: str = "",
        violations: tuple[Violation, ...] = (),
    ) -> None:
        rows = tuple(_violation_row(v) for v in violations) if violations else ()
        with self._lock:
            self._seq += 1
            row = (self._seq, time.time(), provider, operation, method, path, status, outcome, rule, message, rows)
            if len(self._entries) == self._entries.maxlen:
                self.dropped += 1
            self._entries.append(row)
            if rows:
                self._violations.extend(rows)

    def __iter__(self) -> Iterator[Entry]:
        with self._lock:
            rows = list(self._entries)
        return iter([_entry(row) for row in rows])

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self, operation: str | None = None, outcome: str | None = None, after: int = 0) -> list[Entry]:
        """The entries of `operation` with `outcome` (None: any), newer than sequence number `after`; only those
        are made into records, so polling for what is new stays cheap on a full journal. An outcome that is not
        one of OUTCOMES is refused: a misspelt filter would read as "nothing happened"."""
        if outcome is not None and outcome not in OUTCOMES:
            raise ValueError(f"outcome {outcome!r} is not a journal outcome; known: {', '.join(OUTCOMES)}")
        with self._lock:
            rows = list(self._entries)
        return [
            _entry(row)
            for row in rows
            if row[_SEQ] > after
            and (operation is None or row[_OPERATION] == operation)
            and (outcome is None or row[_OUTCOME] == outcome)
        ]

    @property
    def violations(self) -> list[Violation]:
        with self._lock:
            rows = list(self._violations)
        return [Violation(*row) for row in rows]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._violations.clear()
            self.dropped = 0
