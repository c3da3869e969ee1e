"""Deliver the calls a provider makes to its clients' URLs, and journal every attempt and its outcome.

In-process (the `responses` adapter, the fixtures) a callback is sent at once with `requests`, so a test's own
`responses` registration receives it and the test sees it as soon as the control action returns. Served, it is
sent over HTTP from a background thread with a bounded number of retries, off the request thread.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable

import requests

from esign_contracts.mocks.journal import Journal
from esign_contracts.mocks.provider import Callback

TIMEOUT_SECONDS = 5.0
ATTEMPTS = 3  # a receiver that is down gets three tries
BACKOFF_SECONDS = 0.25  # then 0.5, ... between tries


def post(callback: Callback) -> int:
    """Send one callback; its HTTP status (raises requests.RequestException when there is no answer)."""
    # Documented callbacks carry no credentials (OKdokument: "sends no auth").
    body = {"json": callback.body} if callback.body is not None else {}
    answer = requests.request(callback.method, callback.url, timeout=TIMEOUT_SECONDS, **body)
    return answer.status_code


class Courier:
    """Sends callbacks for one mock; `background=True` uses a worker thread with retries; `send=None` only records."""

    def __init__(
        self,
        journal: Journal,
        provider: str,
        *,
        background: bool = False,
        send: Callable[[Callback], int] | None = post,
        attempts: int = ATTEMPTS,
        backoff: float = BACKOFF_SECONDS,
    ) -> None:
        self.journal, self.provider, self.send = journal, provider, send
        self.background = background
        self.attempts = attempts if background else 1
        self.backoff = backoff
        self._queue: queue.Queue[Callback] | None = queue.Queue() if background else None
        self._pending = 0
        self._settled = threading.Condition()
        if self._queue is not None:
            threading.Thread(target=self._work, name=f"{provider}-callbacks", daemon=True).start()

    def deliver(self, callbacks: list[Callback]) -> None:
        for callback in callbacks:
            if self._queue is None:
                self._attempt(callback, 1)
            else:
                with self._settled:
                    self._pending += 1
                self._queue.put(callback)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every queued callback has been delivered or given up; False on timeout."""
        with self._settled:
            return self._settled.wait_for(lambda: self._pending == 0, timeout)

    def _work(self) -> None:
        assert self._queue is not None
        while True:
            callback = self._queue.get()
            for attempt in range(1, self.attempts + 1):
                if self._attempt(callback, attempt) or attempt == self.attempts:
                    break
                time.sleep(self.backoff * 2 ** (attempt - 1))
            with self._settled:
                self._pending -= 1
                self._settled.notify_all()

    def _attempt(self, callback: Callback, attempt: int) -> bool:
        """One try; journaled as `callback.<name>` with the receiver's status (0 when there was no answer)."""
        if self.send is None:  # a check run: the URLs are generated, so nothing leaves the machine
            self.journal.record(
                provider=self.provider,
                operation=f"callback.{callback.name}",
                method=callback.method,
                path=callback.url,
                status=0,
                outcome="not sent",
                message="callbacks are recorded, not sent, in this mock",
            )
            return True
        try:
            status, message = self.send(callback), ""
        except requests.RequestException as exc:
            status, message = 0, f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
        delivered = 200 <= status < 300
        self.journal.record(
            provider=self.provider,
            operation=f"callback.{callback.name}",
            method=callback.method,
            path=callback.url,
            status=status,
            outcome="delivered" if delivered else "undelivered",
            rule=f"attempt {attempt} of {self.attempts}",
            message=message or f"the receiver answered {status}",
        )
        return delivered
