"""A run longer than its token's life fetches the token again (x-token.lifetime), and its shadow model gives each
issued token the lifetime the target said, so that neither an expired token nor an installation's own lifetime
shows up as a violation."""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
from collections.abc import Callable
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from esign_contracts.contracts.check import Budget, check
from esign_contracts.contracts.oracle import Oracle
from esign_contracts.contracts.report import Report
from esign_contracts.contracts.target import MockTarget
from esign_contracts.contracts.token_lifetime import JWT_EXP, RENEW_AFTER, seconds_left
from esign_contracts.mocks import Mock
from esign_contracts.mocks.trustedx import TrustedX

OAUTH = {"lifetime": "/expires_in"}
JWT = {"lifetime": JWT_EXP}
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def fast_clock(seconds_per_read: int, start: dt.datetime = START) -> Callable[[], dt.datetime]:
    """A wall clock that moves on `seconds_per_read` each time anyone reads it: time passes as the run works."""
    reads = itertools.count()
    return lambda: start + dt.timedelta(seconds=seconds_per_read * next(reads))


class StoppedClock:
    def __init__(self, at: dt.datetime = START) -> None:
        self.now = at

    def __call__(self) -> dt.datetime:
        return self.now


def jwt(claims: dict[str, object]) -> str:
    part = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"eyJhbGciOiJIUzI1NiJ9.{part}.c2ln"


@pytest.mark.parametrize(
    "spec, answer, token, left",
    [
        (OAUTH, {"expires_in": 600}, "t", 600.0),
        (OAUTH, {"expires_in": 0.5}, "t", 0.5),
        (OAUTH, {}, "t", None),  # no lifetime given: kept
        (OAUTH, {"expires_in": "600"}, "t", None),  # text (the response schema's finding): kept
        (OAUTH, {"expires_in": True}, "t", None),
        (OAUTH, {"expires_in": 0}, "t", None),
        (OAUTH, {"expires_in": -5}, "t", None),
        (OAUTH, {"expires_in": float("inf")}, "t", None),
        (OAUTH, ["not", "an", "object"], "t", None),
        ({}, {"expires_in": 600}, "t", None),  # the scheme declares no lifetime
        (JWT, {}, jwt({"exp": 1_000_600}), 600.0),
        (JWT, {}, jwt({"iat": 1_000_000}), None),  # a JWT without exp
        (JWT, {}, jwt({"exp": 999_000}), None),  # already expired
        (JWT, {}, jwt({"exp": "soon"}), None),
        (JWT, {}, "not-a-jwt", None),
        (JWT, {}, "a.!!!.c", None),
        (JWT, {}, "a.bnVsbA.c", None),  # payload `null`
    ],
)
def test_seconds_left_reads_the_lifetime_where_the_spec_says(
    spec: dict[str, str], answer: object, token: str, left: float | None
) -> None:
    assert seconds_left(spec, answer, token, now=1_000_000) == left


@given(exp=st.integers(min_value=1, max_value=10**10), now=st.integers(min_value=0, max_value=10**10))
def test_a_jwt_lives_until_its_exp_claim(exp: int, now: int) -> None:
    expected = float(exp - now) if exp > now else None
    assert seconds_left(JWT, None, jwt({"exp": exp, "jti": "x"}), now) == expected


def _fetched(provider: str, seed: int, start: dt.datetime = START) -> tuple[StoppedClock, Mock, Oracle]:
    """A mock, and an oracle that has fetched its token from it, on one clock stopped at `start`."""
    clock = StoppedClock(start)
    mock = Mock(provider, seed=seed, clock=clock)
    oracle = Oracle(provider, MockTarget(mock), mock.credentials, Report(provider, "mock", 0), clock=clock)
    oracle.fetch_tokens()
    return clock, mock, oracle


def test_the_token_is_fetched_again_once_80_percent_of_its_lifetime_has_passed() -> None:
    clock, mock, oracle = _fetched("trustedx", seed=3)
    first = oracle.tokens["bearerToken"]
    path = "/trustedx-resources/esignsp/v2/signer_processes/unknown/result"

    clock.now = START + dt.timedelta(seconds=600 * RENEW_AFTER - 1)
    assert oracle.request("GET", path).headers["Authorization"] == f"Bearer {first}"
    clock.now = START + dt.timedelta(seconds=600 * RENEW_AFTER)
    renewed = oracle.request("GET", path)
    second = oracle.tokens["bearerToken"]
    assert second != first and renewed.headers["Authorization"] == f"Bearer {second}"
    assert oracle.report.tokens_renewed == 1 and oracle.renewed == {first: "bearerToken"}
    tokens = [e for e in mock.journal.entries() if e.operation == "requestToken"]
    assert [e.status for e in tokens] == [200, 200]

    # The target still takes the new token after the first one's 600 s have passed.
    clock.now = START + dt.timedelta(seconds=601)
    answer = oracle.exchange(renewed)
    assert answer is not None and answer.status == 410  # an unknown process, not 401
    assert not oracle.report.findings


def test_a_case_schemathesis_made_with_a_renewed_token_gets_the_current_one() -> None:
    clock, mock, oracle = _fetched("trustedx", seed=4)
    first = oracle.tokens["bearerToken"]
    clock.now = START + dt.timedelta(seconds=590)
    case = SimpleNamespace(headers={"authorization": f"Bearer {first}", "Accept": "application/json"})
    oracle.refresh_case(case)
    assert case.headers == {"authorization": f"Bearer {oracle.tokens['bearerToken']}", "Accept": "application/json"}
    assert oracle.tokens["bearerToken"] != first
    # A made-up token (a negative case) is left as it is.
    made_up = SimpleNamespace(headers={"Authorization": "Bearer made-up"})
    oracle.refresh_case(made_up)
    assert made_up.headers == {"Authorization": "Bearer made-up"}


def test_a_token_that_cannot_be_fetched_again_is_reported_not_raised() -> None:
    clock, mock, oracle = _fetched("trustedx", seed=5)
    mock.faults.add("requestToken", status=503)
    clock.now = START + dt.timedelta(seconds=500)
    oracle.request("GET", "/trustedx-resources/esignsp/v2/signer_processes/unknown/result")
    assert oracle.report.tokens_renewed == 0 and not oracle.renew_at  # not tried again on every request
    assert any("could not be fetched again" in reason and "503" in reason for reason in oracle.report.skipped)


def test_an_ignisign_jwt_is_fetched_again_before_its_exp() -> None:
    now = dt.datetime.now(dt.UTC)  # the mock's JWT says exp = its issue time + 24 h, on the real clock
    clock, _, oracle = _fetched("ignisign", seed=6, start=now)
    first = oracle.tokens["bearerAuth"]
    clock.now = now + dt.timedelta(hours=24 * RENEW_AFTER, minutes=1)
    oracle.renew_due_tokens()
    assert oracle.tokens["bearerAuth"] != first and oracle.report.tokens_renewed == 1


@pytest.mark.parametrize("lifetime", [600, 120, 3600])
def test_a_long_run_stays_conformant_whatever_lifetime_the_installation_gives(lifetime: int) -> None:
    """Each read of the clock moves it 3 seconds, so the run lasts well over an hour of the target's time. Before
    tokens were fetched again, the run's token expired halfway and every later answer was a violation; and a
    target whose tokens live 3600 s was judged by the model's 600 s."""
    clock = fast_clock(seconds_per_read=3)
    model = TrustedX(clock=clock)
    model.token_lifetime = lifetime
    mock = Mock(model, seed=7, send_callbacks=False)
    report = check("trustedx", mock=mock, clock=clock, budget=Budget(examples=2, sequences=15))
    assert report.ok, report.render()
    assert report.tokens_renewed >= 1
    issued = [e for e in mock.journal.entries() if e.operation == "requestToken" and e.status == 200]
    assert len(issued) >= report.tokens_renewed + 1
    assert f"bearer tokens fetched again before they expired: {report.tokens_renewed}" in report.render()
