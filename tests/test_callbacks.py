"""Callbacks to clients' URLs: sent at once in-process, off-thread with retries when served, journaled always."""

from __future__ import annotations

import threading

import requests

from esign_contracts.mocks.callbacks import Courier
from esign_contracts.mocks.journal import Journal
from esign_contracts.mocks.provider import Callback

CALLBACK = Callback("sendInfo", "http://127.0.0.1:9/hook", {"state": "signed"})


def test_in_process_a_callback_is_sent_once_at_once_and_journaled_with_the_receivers_status() -> None:
    sent: list[Callback] = []
    journal = Journal()
    Courier(journal, "okdokument", send=lambda cb: sent.append(cb) or 200).deliver([CALLBACK])
    assert sent == [CALLBACK]
    (entry,) = journal.entries(operation="callback.sendInfo")
    assert (entry.status, entry.outcome, entry.method, entry.path) == (200, "delivered", "POST", CALLBACK.url)


def test_a_receiver_without_an_answer_is_journaled_as_undelivered_with_the_reason() -> None:
    def refuse(callback: Callback) -> int:
        raise requests.ConnectionError("connection refused")

    journal = Journal()
    Courier(journal, "okdokument", send=refuse).deliver([CALLBACK])
    (entry,) = journal.entries(operation="callback.sendInfo")
    assert entry.outcome == "undelivered" and entry.status == 0 and "ConnectionError" in entry.message


def test_served_callbacks_go_out_off_the_calling_thread_and_are_retried_a_bounded_number_of_times() -> None:
    threads: list[str] = []

    def flaky(callback: Callback) -> int:
        threads.append(threading.current_thread().name)
        return 503 if len(threads) < 3 else 200

    journal = Journal()
    courier = Courier(journal, "okdokument", background=True, send=flaky, attempts=3, backoff=0)
    courier.deliver([CALLBACK])
    assert courier.wait(timeout=10)
    assert [e.status for e in journal.entries(operation="callback.sendInfo")] == [503, 503, 200]
    assert threading.current_thread().name not in threads


def test_served_callbacks_give_up_after_the_last_attempt() -> None:
    journal = Journal()
    courier = Courier(journal, "okdokument", background=True, send=lambda cb: 500, attempts=2, backoff=0)
    courier.deliver([CALLBACK, CALLBACK])
    assert courier.wait(timeout=10)
    entries = journal.entries(operation="callback.sendInfo")
    assert [e.outcome for e in entries] == ["undelivered"] * 4
    assert [e.rule for e in entries] == ["attempt 1 of 2", "attempt 2 of 2"] * 2


def test_a_recording_courier_sends_nothing() -> None:
    journal = Journal()
    Courier(journal, "okdokument", send=None).deliver([CALLBACK])
    (entry,) = journal.entries(operation="callback.sendInfo")
    assert entry.outcome == "not sent"
