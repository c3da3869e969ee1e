"""The `responses` adapter: route requests-based clients to mocks without a network."""

from __future__ import annotations

import re
from collections.abc import Iterable
from types import TracebackType
from typing import Any

import requests
import responses

from esign_contracts.mocks.faults import Dropped
from esign_contracts.mocks.http import Request
from esign_contracts.mocks.mock import Mock

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def _body(prepared: Any) -> bytes:
    body = prepared.body
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        return body.read()
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    return b"".join(chunk if isinstance(chunk, bytes) else chunk.encode() for chunk in body)


class InProcess:
    """Answers every request to a mock's host through `responses`; other hosts are left to `self.responses`."""

    def __init__(self, mocks: Iterable[Mock], rsps: responses.RequestsMock | None = None) -> None:
        self.mocks = list(mocks)
        self.responses = rsps or responses.RequestsMock(assert_all_requests_are_fired=False)
        for mock in self.mocks:
            self._register(mock)

    def _register(self, mock: Mock) -> None:
        host = mock.engine.contract.host
        pattern = re.compile(rf"https?://{re.escape(host)}(?:[/?#].*)?$")

        def callback(prepared: Any) -> tuple[int, dict[str, str], bytes]:
            request = Request.from_url(prepared.method, prepared.url, prepared.headers, _body(prepared))
            try:
                answer = mock.handle(request)
            except Dropped as exc:  # what a client sees when the server closes the connection
                raise requests.ConnectionError(f"connection closed without an answer ({exc})") from exc
            return answer.status, answer.headers, answer.body

        for method in METHODS:
            self.responses.add_callback(method, pattern, callback=callback)

    def start(self) -> InProcess:
        self.responses.start()
        return self

    def stop(self) -> None:
        self.responses.stop()
        self.responses.reset()

    def __enter__(self) -> InProcess:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
