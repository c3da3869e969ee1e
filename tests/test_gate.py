"""The gate every request of a check passes: its host only, the budget, the rate, and 429 with Retry-After.

A fake clock and sleep make the pacing exact without waiting; the 429 test talks to a served mock on 127.0.0.1.
"""

from __future__ import annotations

import pytest

from esign_contracts.contracts.gate import BudgetSpent, Gate, Limits, OtherHost, parse_retry_after


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_only_the_target_host_is_admitted() -> None:
    gate = Gate("127.0.0.1:8000")
    gate.admit("http://127.0.0.1:8000/v1/ping")
    with pytest.raises(OtherHost, match="only 127.0.0.1:8000, not example.com"):
        gate.admit("https://example.com/v1/ping")
    assert gate.sent == 1


def test_the_budget_is_a_hard_stop_until_clean_up() -> None:
    gate = Gate("h", Limits(max_requests=3))
    for _ in range(3):
        gate.admit("http://h/x")
    assert gate.spent
    with pytest.raises(BudgetSpent):
        gate.admit("http://h/x")
    gate.cleaning = True  # what the run created is deleted even after the budget is spent
    gate.admit("http://h/x")
    assert gate.sent == 4


def test_requests_are_paced_at_the_rate() -> None:
    time = FakeTime()
    gate = Gate("h", Limits(rate=4), sleep=time.sleep, clock=time.clock)
    starts = []
    for _ in range(9):
        gate.admit("http://h/x")
        starts.append(time.now)
    assert starts[-1] - starts[0] == pytest.approx(2.0)  # 8 intervals of 1/4 s
    assert all(b - a >= 0.25 - 1e-9 for a, b in zip(starts, starts[1:], strict=False))


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("3", 3.0), ("Thu, 01 Jan 1970 00:01:40 GMT", 40.0), ("soon", None), (None, None)],
)
def test_retry_after_reads_seconds_and_http_dates(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, now=60.0) == seconds


def test_a_429_is_retried_after_its_retry_after_against_a_served_mock() -> None:
    from esign_contracts.contracts.serve import Running
    from esign_contracts.mocks import Mock

    mock = Mock("okdokument")
    mock.faults.add("deleteSignatureRequest", status=429, times=1, retry_after=1)
    with Running([mock]) as running:
        url = running.base_url(mock)
        time = FakeTime()
        host = url.split("//", 1)[1].split("/", 1)[0]
        gate = Gate(host, sleep=time.sleep, clock=time.clock)
        answer = gate.session().delete(f"{url}/JSON/signatureRequest/nope", headers={"x-api-key": "okdokument-api-key"})
    assert answer.status_code == 400  # the documented answer, after the injected 429
    assert gate.waited_on_429 == [1.0] and time.slept == [1.0]
    statuses = [e.status for e in mock.journal if e.operation == "deleteSignatureRequest"]
    assert statuses == [429, 400]
