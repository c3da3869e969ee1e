"""The one door every request of a check goes through to a server: its host only, a budget, a rate, timeouts,
and 429 answers waited out as their Retry-After says.

Both phases use it: the model phase through `HttpTarget`, the Schemathesis phase by handing its cases the same
`requests` session. Clean-up passes once the budget is spent (what the run created must still be deleted), at
the same rate.
"""

from __future__ import annotations

import email.utils
import http.cookiejar
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

DEFAULT_TIMEOUT_SECONDS = 15
MAX_RETRY_AFTER_SECONDS = 120  # a longer wait is reported, not slept through
RETRIES_ON_429 = 3


class BudgetSpent(Exception):
    """The run has sent --max-requests requests."""


class OtherHost(Exception):
    """A request to a host other than the target's: never sent."""


@dataclass
class Limits:
    """What a run may send: at most `max_requests` (None: no limit) at most `rate` per second (None: no limit)."""

    max_requests: int | None = None
    rate: float | None = None
    timeout: float = DEFAULT_TIMEOUT_SECONDS


# Ctrl-C (or SIGTERM) asks the run to stop; it stops at the next safe point, after the answer in flight has been
# read and what it created recorded, so that the clean-up knows everything there is to delete.
_STOP = threading.Event()


class StopRequested(KeyboardInterrupt):
    """The stop a signal handler asked for, raised at a safe point (a plain KeyboardInterrupt is someone else's)."""


def request_stop() -> None:
    """Called from a signal handler: the first time, ask for a stop; a second time, stop at once."""
    if _STOP.is_set():
        raise StopRequested
    _STOP.set()


def clear_stop() -> None:
    _STOP.clear()


def stop_here() -> None:
    """A safe point: raise KeyboardInterrupt when a stop was asked for (and forget the request)."""
    if _STOP.is_set():
        _STOP.clear()
        raise StopRequested


# A --live run's defaults: low, so that a forgotten flag costs a sandbox little.
LIVE_LIMITS = Limits(max_requests=300, rate=5.0)


def host_of(url: str) -> str:
    """The host[:port] as requests sends it (lower case, IDN as punycode), for comparing with a request's."""
    return urlsplit(requests.Request("GET", url).prepare().url or url).netloc


@dataclass
class Gate:
    """Counts, paces and retries the requests to one host."""

    host: str
    limits: Limits = field(default_factory=Limits)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    sent: int = 0
    waited_on_429: list[float] = field(default_factory=list)  # each Retry-After honoured, in seconds
    cleaning: bool = False
    phase_cap: int | None = None  # a phase's share of the budget: `spent` once `sent` reaches it
    _next_slot: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _session: requests.Session | None = None

    def __post_init__(self) -> None:
        self._wire_host = host_of(f"http://{self.host}/")

    @property
    def spent(self) -> bool:
        if self.cleaning:
            return False
        caps = [c for c in (self.limits.max_requests, self.phase_cap) if c is not None]
        return bool(caps) and self.sent >= min(caps)

    def admit(self, url: str) -> None:
        """Wait for this request's slot, or refuse it (another host; the budget is spent)."""
        host = urlsplit(url).netloc
        if host != self._wire_host:
            raise OtherHost(f"the run may contact only {self.host}, not {host}")
        with self._lock:
            if self.spent:
                raise BudgetSpent(f"--max-requests {self.limits.max_requests} reached")
            self.sent += 1
            wait = 0.0
            if self.limits.rate:
                now = self.clock()
                wait = max(0.0, self._next_slot - now)
                self._next_slot = max(now, self._next_slot) + 1 / self.limits.rate
        if wait:
            self.sleep(wait)

    def retry_after(self, response: requests.Response, attempt: int) -> float | None:
        """Seconds to wait before sending again after a 429, or None to hand the answer back."""
        if response.status_code != 429 or attempt >= RETRIES_ON_429:
            return None
        seconds = parse_retry_after(response.headers.get("Retry-After"), time.time())
        if seconds is None:
            seconds = 2.0**attempt  # no usable Retry-After: back off
        if seconds > MAX_RETRY_AFTER_SECONDS:
            return None
        return seconds

    def session(self) -> requests.Session:
        """The run's one session through this gate (both phases share it, and its connections)."""
        if self._session is None:
            self._session = requests.Session()
            # No cookies kept: a cookie the server sets must not carry credentials into a request sent without.
            self._session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
            adapter = _GatedAdapter(self)
            self._session.mount("http://", adapter)
            self._session.mount("https://", adapter)
        return self._session


def parse_retry_after(value: str | None, now: float) -> float | None:
    """RFC 9110 Retry-After: delay-seconds or an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


class _GatedAdapter(HTTPAdapter):
    def __init__(self, gate: Gate) -> None:
        super().__init__()
        self.gate = gate

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.gate.limits.timeout
        attempt = 0
        while True:
            self.gate.admit(request.url or "")
            response = super().send(request, **kwargs)
            wait = self.gate.retry_after(response, attempt)
            if wait is None:
                return response
            self.gate.waited_on_429.append(wait)
            response.close()
            self.gate.sleep(wait)
            attempt += 1
