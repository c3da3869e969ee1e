"""Serve mocks over HTTP on a production WSGI server (waitress: multi-threaded, pure Python)."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterable
from types import FrameType
from typing import Any, TextIO

from esign_contracts.mocks import Mock, WSGIApp

THREADS = 8


def describe_scheme(mock: Mock) -> str:
    parts = []
    for scheme, value in mock.credentials.items():
        if isinstance(value, tuple) and len(value) == 2:
            parts.append(f"{scheme}: username {value[0]!r}, password {value[1]!r}")
        else:
            parts.append(f"{scheme}: {value!r}")
    return "; ".join(parts)


def make_server(mocks: Iterable[Mock], host: str = "127.0.0.1", port: int = 0, threads: int = THREADS) -> Any:
    """A waitress server bound to host:port (0 picks a free port), not yet serving."""
    from waitress.server import create_server

    return create_server(
        WSGIApp(mocks),
        host=host,
        port=port,
        threads=threads,
        ident="esign-contracts",
        clear_untrusted_proxy_headers=True,
    )


class Running:
    """Mocks served on a background thread (for tests and embedding), stopped cleanly on exit.

    The loop runs in short polls so that stopping happens on the serving thread itself: closing
    waitress' sockets from another thread while it polls them makes the poll fail.
    """

    POLL_SECONDS = 0.05

    def __init__(self, mocks: Iterable[Mock], host: str = "127.0.0.1", port: int = 0) -> None:
        self.mocks = list(mocks)
        self.host = host
        self.server = make_server(self.mocks, host, port)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="esign-contracts-serve", daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.effective_port)

    def base_url(self, mock: Mock | None = None) -> str:
        mock = mock or self.mocks[0]
        return f"http://{self.host}:{self.port}{mock.engine.contract.base_path}"

    def _loop(self) -> None:
        from waitress import wasyncore

        sockets = self.server._map  # waitress' own socket map for a single-address server
        while not self._stop.is_set():
            wasyncore.loop(timeout=self.POLL_SECONDS, map=sockets, count=1)
        self.server.task_dispatcher.shutdown()
        wasyncore.close_all(sockets)

    def __enter__(self) -> Running:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def serve(mocks: list[Mock], host: str, port: int, out: TextIO = sys.stdout) -> None:
    """Serve until SIGINT or SIGTERM; print one line per provider with its base URL and accepted credentials."""
    server = make_server(mocks, host, port)
    bound = server.effective_port
    for mock in mocks:
        print(
            f"{mock.name}: http://{host}:{bound}{mock.engine.contract.base_path}  ({describe_scheme(mock)})", file=out
        )
    print("Ctrl-C to stop.", file=out, flush=True)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)  # raised inside waitress' loop, which then closes the server

    signal.signal(signal.SIGTERM, stop)
    try:
        server.run()  # returns after closing the server on SIGINT (KeyboardInterrupt) or SIGTERM
    finally:
        print("stopped.", file=out, flush=True)
