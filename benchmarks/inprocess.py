"""Time per call of the in-process mock (`InProcess`) against a plain `responses` stub with the same answer.

    python benchmarks/inprocess.py [--calls 2000] [--rounds 5] [--clock cpu|wall] [--profile get|signer|invalid]
                                   [--no-collect]

For each scenario it prints the median over rounds of the time per call, in microseconds (CPU time unless
--clock wall: on a shared machine wall time mostly measures the neighbours), and the lowest and highest
mock/stub of a single round, for:
  stub  a `responses.RequestsMock` with one `add(method, url, json=..., status=...)` (the floor of the transport)
  mock  the stateful mock behind `InProcess`, through the same `requests.Session`
  core  `mock.handle(Request)` alone, without requests or responses (what the engine itself costs)
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
import responses

from esign_contracts.mocks import InProcess, Mock, Request

BASE = "https://api.stiply.nl/v1"
AUTH = ("stiply-user", "stiply-password")
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
VALID_SIGNER = {"signer_email": "a@example.com", "signer_signature_fields": [{"name": "s1"}]}
INVALID_SIGNER = {"signer_email": "not-an-email"}


@dataclass(frozen=True)
class Scenario:
    name: str
    method: str
    path: str  # relative to BASE; {key} is a sign request made for the round
    body: dict[str, Any] | None
    status: int


SCENARIOS = (
    Scenario("get", "GET", "/sign_requests/{key}", None, 200),
    Scenario("signer", "POST", "/sign_requests/{key}/signers", VALID_SIGNER, 200),
    Scenario("invalid", "POST", "/sign_requests/{key}/signers", INVALID_SIGNER, 400),
)


def new_session() -> requests.Session:
    session = requests.Session()
    session.auth = AUTH
    return session


def create_sign_request(session: requests.Session, base: str = BASE) -> str:
    """One sign request with one signer (what GET renders); its key."""
    files = {"file": ("doc.pdf", PDF, "application/pdf")}
    created = session.post(f"{base}/sign_requests", files=files, data={"term": "2w"})
    created.raise_for_status()
    key = created.json()["data"]["sign_request"]["key"]
    session.post(f"{base}/sign_requests/{key}/signers", json=VALID_SIGNER).raise_for_status()
    return key


def fresh_sign_request(mock: Mock, session: requests.Session) -> str:
    """Forget the mock's state (signers and journal grow with every call), then make one sign request."""
    mock.reset()
    return create_sign_request(session)


def call(session: requests.Session, scenario: Scenario, key: str) -> requests.Response:
    return session.request(scenario.method, BASE + scenario.path.format(key=key), json=scenario.body)


class Timer:
    """Time per call by CPU time (default: other work on the machine barely moves it) or wall time."""

    def __init__(self, clock: str = "cpu", collect: bool = True) -> None:
        self.clock = clock
        self.collect = collect
        self.wall = 0.0
        self.cpu = 0.0

    def per_call_us(self, run: Callable[[], object], calls: int, warmup: int) -> float:
        for _ in range(warmup):
            run()
        # Each window starts with nothing owed to the collector. Otherwise a full collection that the garbage of
        # an earlier window (another variant's) made due lands in this one: 20 to 40 ms on this heap, 2 to 8 % of
        # a round, in whichever window it happens to fall.
        if self.collect:
            gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(calls):
            run()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        self.wall, self.cpu = self.wall + wall, self.cpu + cpu
        return (cpu if self.clock == "cpu" else wall) / calls * 1e6

    @property
    def share(self) -> float:
        """How much of one core this process got while timed."""
        return self.cpu / self.wall if self.wall else 1.0


def measure(scenario: Scenario, calls: int, rounds: int, warmup: int, timer: Timer) -> dict[str, list[float]]:
    """Time per call of each round, by variant. Rounds alternate mock, core and stub, so load from elsewhere hits
    all three alike."""
    mock = Mock("stiply", seed=1)
    session = new_session()
    times: dict[str, list[float]] = {"stub": [], "mock": [], "core": []}
    for _ in range(rounds):
        with InProcess([mock]):
            key = fresh_sign_request(mock, session)  # fresh state each time: POST signer grows it
            answer = call(session, scenario, key)
            assert answer.status_code == scenario.status, (scenario.name, answer.status_code, answer.text)
            times["mock"].append(timer.per_call_us(lambda k=key: call(session, scenario, k), calls, warmup))
            key = fresh_sign_request(mock, session)
        url = BASE + scenario.path.format(key=key)
        prepared = session.prepare_request(requests.Request(scenario.method, url, json=scenario.body))
        request = Request.from_url(prepared.method, prepared.url, prepared.headers.items(), prepared.body)
        assert mock.handle(request).status == scenario.status
        times["core"].append(timer.per_call_us(lambda r=request: mock.handle(r), calls, warmup))
        with responses.RequestsMock(assert_all_requests_are_fired=False) as stub:
            stub.add(scenario.method, url, json=answer.json(), status=scenario.status)
            times["stub"].append(
                timer.per_call_us(lambda u=url: session.request(scenario.method, u, json=scenario.body), calls, warmup)
            )
    return times


def profile(scenario: Scenario, calls: int) -> None:
    mock = Mock("stiply", seed=1)
    session = new_session()
    with InProcess([mock]):
        key = fresh_sign_request(mock, session)
        profiler = cProfile.Profile()
        profiler.runcall(lambda: [call(session, scenario, key) for _ in range(calls)])
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(40)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000, help="calls per round (default 2000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; the median is reported (default 5)")
    parser.add_argument("--warmup", type=int, default=200, help="untimed calls before each round (default 200)")
    parser.add_argument("--clock", choices=["cpu", "wall"], default="cpu", help="what to time (default cpu)")
    parser.add_argument("--profile", choices=[s.name for s in SCENARIOS], help="print a cProfile of one scenario")
    parser.add_argument(
        "--no-collect", action="store_true", help="no gc.collect() before each timed window (as before 2026-11-23)"
    )
    args = parser.parse_args(argv)
    if args.profile:
        profile(next(s for s in SCENARIOS if s.name == args.profile), args.calls)
        return 0
    print(f"in-process: median of {args.rounds} rounds x {args.calls} calls, {args.clock} microseconds per call")
    print(f"{'scenario':<24} {'stub':>8} {'mock':>8} {'core':>8} {'mock/stub':>10} {'per round':>12}")
    timer = Timer(args.clock, collect=not args.no_collect)
    for scenario in SCENARIOS:
        times = measure(scenario, args.calls, args.rounds, args.warmup, timer)
        t = {name: statistics.median(values) for name, values in times.items()}
        rounds = [mock / stub for mock, stub in zip(times["mock"], times["stub"], strict=True)]
        spread = f"{min(rounds):.2f}-{max(rounds):.2f}"  # the mock against the stub of the same round
        label = f"{scenario.name} ({scenario.method} {scenario.status})"
        print(
            f"{label:<24} {t['stub']:>8.1f} {t['mock']:>8.1f} {t['core']:>8.1f} {t['mock'] / t['stub']:>9.2f}x"
            f" {spread:>12}"
        )
    busy = timer.share < 0.9 and args.clock == "wall"
    note = " (other work shared the machine: wall times are inflated; use --clock cpu)" if busy else ""
    print(f"this process got {timer.share:.0%} of a core while timed{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
