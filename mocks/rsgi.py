"""The RSGI adapter (granian's own interface): the same answers as `WSGIApp`, on granian's event loop.

Chosen over granian's WSGI interface by measurement (benchmarks/README.md): WSGI runs the app on a pool of
threads that take turns at the GIL, and reads a body by blocking one of them, with no timeout. Here the
engine runs on the event loop's one thread, and a body is awaited, so a client that stalls costs no thread
and gets 408 once `body_timeout` seconds have passed (within SWEEP_SECONDS more).
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from granian.rsgi import ProtocolClosed
from requests.structures import CaseInsensitiveDict

from esign_contracts.mocks.faults import Dropped
from esign_contracts.mocks.http import Headers, Response
from esign_contracts.mocks.wsgi import WSGIApp, _json, declared_length, received

SWEEP_SECONDS = 0.25  # how late past its deadline a stalled body may get its 408

if sys.version_info >= (3, 12):
    _current_task = asyncio.current_task  # written in C from 3.12
else:  # 3.11's asyncio.current_task is Python around this dict of each loop's running task (C `_asyncio`'s own)
    from asyncio.tasks import _current_tasks

    _current_task = _current_tasks.get


class RSGIApp:
    """Serves what `app` serves. An RSGI app is called as `await app(scope, protocol)`."""

    def __init__(self, app: WSGIApp, body_timeout: float) -> None:
        self.app = app
        self.body_timeout = body_timeout
        # Reads under way and their deadlines, swept every SWEEP_SECONDS: `asyncio.timeout` around every body
        # cost 10 % of a POST's rate (benchmarks/README.md); a dict entry costs next to nothing.
        self._reading: dict[asyncio.Task[Any], float] = {}
        self._overdue: set[asyncio.Task[Any]] = set()
        self._sweeping = False

    def _watch(self, loop: asyncio.AbstractEventLoop) -> asyncio.Task[Any]:
        """Note the current read's deadline; the task reading, for the sweep to cancel."""
        task = _current_task(loop)
        assert task is not None
        self._reading[task] = loop.time() + self.body_timeout
        if not self._sweeping:
            self._sweeping = True
            loop.call_later(SWEEP_SECONDS, self._sweep, loop)
        return task

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        """Cancel each read past its deadline (it then answers 408); keep sweeping while reads are under way."""
        now = loop.time()
        for task, deadline in list(self._reading.items()):
            if deadline <= now:
                del self._reading[task]
                self._overdue.add(task)
                task.cancel()
        self._sweeping = bool(self._reading)
        if self._sweeping:
            loop.call_later(SWEEP_SECONDS, self._sweep, loop)

    async def __call__(self, scope: Any, protocol: Any) -> None:
        if scope.proto != "http":  # no WebSocket is documented by any provider
            return
        path = scope.path or "/"
        target = self.app.target(path)
        if isinstance(target, Response):
            answer = target
        else:
            headers = Headers.of(scope.headers.items())
            body = await self._read(protocol, headers)
            args = (target, scope.method.upper(), path, scope.query_string, headers, body)
            try:
                if self._faulted():
                    # an injected latency sleeps: off the event loop, so that other requests go on meanwhile
                    answer = await asyncio.get_running_loop().run_in_executor(None, self.app.answer, *args)
                else:  # called, not awaited in a coroutine of its own: one less object per request
                    answer = self.app.answer(*args)
            except Dropped:
                # An injected dropped connection: an answer promised whole and cut off after its first byte.
                stream = protocol.response_stream(200, [("content-length", "64"), ("connection", "close")])
                await stream.send_bytes(b"{")
                return
        headers_out = [*answer.headers.items(), ("Content-Length", str(len(answer.body)))]
        protocol.response_bytes(answer.status, headers_out, answer.body)

    def _faulted(self) -> bool:
        """Whether a fault is injected into any served mock."""
        for mock in self.app.mocks:  # a loop, not any(...) over a generator: this runs on every request
            if mock.engine.faults:
                return True
        return False

    async def _read(self, protocol: Any, headers: CaseInsensitiveDict) -> bytes | Response:
        limit = self.app.body_limit
        length = declared_length(headers, limit)
        if isinstance(length, Response) or length == 0:
            return length if isinstance(length, Response) else b""
        task = self._watch(asyncio.get_running_loop())
        try:
            if length is not None:  # at most `length` (within the limit) arrives: read it at once, one await
                body = await protocol()
            else:
                chunks: list[bytes] = []
                size = 0
                async for chunk in protocol:
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > limit:  # stop reading a chunked body as soon as it is over the limit
                        break
                body = b"".join(chunks)
        except asyncio.CancelledError:
            if task not in self._overdue:
                raise  # not ours: granian stopping
            self._overdue.discard(task)
            task.uncancel()
            return _json(408, f"the request body did not arrive within {self.body_timeout:g} s")
        except ProtocolClosed:
            expected = "its end" if length is None else f"its Content-Length's {length} bytes"
            return _json(400, f"the request body ended before {expected}: the client hung up")
        except Exception as exc:  # noqa: BLE001 - granian raises its own errors for broken framing
            return _json(400, f"the request body could not be read ({type(exc).__name__}: broken framing)")
        finally:
            self._reading.pop(task, None)
        return received(body, length, limit) or body
