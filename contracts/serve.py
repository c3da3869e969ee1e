"""Serve mocks over HTTP on a production WSGI server (waitress: multi-threaded, pure Python)."""

from __future__ import annotations

import signal
import sys
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
        server.close()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        server.run()
    except KeyboardInterrupt:
        server.close()
