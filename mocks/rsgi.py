"""The RSGI adapter (granian's own interface): the same answers as `WSGIApp`, on granian's event loop.

Chosen over granian's WSGI interface by measurement (benchmarks/README.md): WSGI runs the app on a pool of
threads that take turns at the GIL, and reads a body by blocking one of them, with no timeout. Here the
engine runs on the event loop's one thread, and a body is awaited, so a client that stalls costs no thread
and gets 408 after `body_timeout` seconds.
"""

from __future__ import annotations

import asyncio
from typing import Any

from granian.rsgi import ProtocolClosed
from requests.structures import CaseInsensitiveDict

from esign_contracts.mocks.faults import Dropped
from esign_contracts.mocks.http import Response
from esign_contracts.mocks.wsgi import WSGIApp, _json, declared_length, received


class RSGIApp:
    """Serves what `app` serves. An RSGI app is called as `await app(scope, protocol)`."""

    def __init__(self, app: WSGIApp, body_timeout: float) -> None:
        self.app = app
        self.body_timeout = body_timeout

    async def __call__(self, scope: Any, protocol: Any) -> None:
        if scope.proto != "http":  # no WebSocket is documented by any provider
            return
        path = scope.path or "/"
        headers = CaseInsensitiveDict(scope.headers.items())
        answer = self.app.unserved(path)
        if answer is None:
            body = await self._read(protocol, headers)
            try:
                answer = await self._answer(scope.method.upper(), path, scope.query_string, headers, body)
            except Dropped:
                # An injected dropped connection: an answer promised whole and cut off after its first byte.
                stream = protocol.response_stream(200, [("content-length", "64"), ("connection", "close")])
                await stream.send_bytes(b"{")
                return
        headers_out = [*answer.headers.items(), ("Content-Length", str(len(answer.body)))]
        protocol.response_bytes(answer.status, headers_out, answer.body)

    async def _answer(
        self, method: str, path: str, query: str, headers: CaseInsensitiveDict, body: bytes | Response
    ) -> Response:
        if any(mock.engine.faults for mock in self.app.mocks):
            # an injected latency sleeps: off the event loop, so that other requests go on meanwhile
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(None, self.app.answer, method, path, query, headers, body)
        return self.app.answer(method, path, query, headers, body)

    async def _read(self, protocol: Any, headers: CaseInsensitiveDict) -> bytes | Response:
        limit = self.app.body_limit
        length = declared_length(headers, limit)
        if isinstance(length, Response) or length == 0:
            return length if isinstance(length, Response) else b""
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.body_timeout):
                if length is not None:  # at most `length` (within the limit) arrives: read it at once, one await
                    chunks.append(await protocol())
                else:
                    async for chunk in protocol:
                        chunks.append(chunk)
                        size += len(chunk)
                        if size > limit:  # stop reading a chunked body as soon as it is over the limit
                            break
        except TimeoutError:
            return _json(408, f"the request body did not arrive within {self.body_timeout:g} s")
        except ProtocolClosed:
            expected = "its end" if length is None else f"its Content-Length's {length} bytes"
            return _json(400, f"the request body ended before {expected}: the client hung up")
        except Exception as exc:  # noqa: BLE001 - granian raises its own errors for broken framing
            return _json(400, f"the request body could not be read ({type(exc).__name__}: broken framing)")
        return received(b"".join(chunks), length, limit) or b"".join(chunks)
