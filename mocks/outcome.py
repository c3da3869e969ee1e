"""The set of answers the docs allow for a request in a given state (design.md: prediction is a set)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Reason:
    """One documented (or assumed) reason a request must fail."""

    rule: str
    status: int
    documented: bool
    source: str
    detail: str = ""


@dataclass(frozen=True)
class Expected:
    """Acceptable statuses: the success statuses when nothing fails, else each failure's status.

    A failure whose status the docs do not give widens the set to any 4xx.
    """

    success: frozenset[int] = frozenset()
    failures: tuple[Reason, ...] = field(default=())

    @property
    def succeeds(self) -> bool:
        return not self.failures

    @property
    def any_4xx(self) -> bool:
        return any(not r.documented for r in self.failures)

    @property
    def statuses(self) -> frozenset[int]:
        return self.success if self.succeeds else frozenset(r.status for r in self.failures)

    def accepts(self, status: int) -> bool:
        if status >= 500:
            return False
        if self.succeeds:
            return status in self.success
        return status in self.statuses or (self.any_4xx and 400 <= status < 500)

    def describe(self) -> str:
        if self.succeeds:
            return " or ".join(str(s) for s in sorted(self.success)) + " (every documented rule holds)"
        parts = [
            f"{r.status}{'' if r.documented else ' (assumed; any 4xx accepted)'} for '{r.rule}'" for r in self.failures
        ]
        return " or ".join(parts)
