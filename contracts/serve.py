"""Serve mocks over HTTP on cheroot: a multi-threaded, pure-Python production WSGI server.

Chosen by measurement (benchmarks/README.md): among servers that keep the mocks' state in this
process, cheroot served the mock 1.1 to 1.5 times faster than waitress; granian and uWSGI are faster
still but build the app in their own workers, where the journal and control actions are out of reach.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterable
from types import FrameType
from typing import Any, TextIO

from esign_contracts.mocks import Mock, WSGIApp
from esign_contracts.mocks.wsgi import ConnectionCut

THREADS = 8
REQUEST_TIMEOUT_SECONDS = 10


def describe_scheme(mock: Mock) -> str:
    tokens = mock.engine.contract.token_schemes()
    parts = []
    for scheme, value in mock.credentials.items():
        token = tokens.get(scheme)
        if isinstance(value, tuple) and len(value) == 2:
            parts.append(f"{scheme}: username {value[0]!r}, password {value[1]!r}")
        elif isinstance(value, dict) and token:
            fields = ", ".join(f"{k} {v!r}" for k, v in value.items())
            parts.append(f"{scheme}: a token from {token['operationId']} with {fields}")
        elif token:
            parts.append(f"{scheme}: {value!r} or a token from {token['operationId']}")
        elif isinstance(value, dict):  # credentials inside the body (SIGNiX's CustInfo)
            parts.append(f"{scheme}: " + ", ".join(f"{k} {v!r}" for k, v in value.items()))
        else:
            parts.append(f"{scheme}: {value!r}")
    return "; ".join(parts)


def make_server(mocks: Iterable[Mock], host: str = "127.0.0.1", port: int = 0, threads: int = THREADS) -> Any:
    """A cheroot server bound to host:port (0 picks a free port), not yet serving; callbacks go out off-thread."""
    from cheroot.wsgi import Server

    mocks = list(mocks)
    for mock in mocks:
        mock.deliver_callbacks_in_background()
    server = Server(
        (host, port),
        WSGIApp(mocks),
        numthreads=threads,
        server_name="esign-contracts",
        timeout=REQUEST_TIMEOUT_SECONDS,
    )
    # The app answers 413 (JSON, naming the limit) above MAX_BODY_BYTES before reading a byte of the body;
    # cheroot's own limit would answer first, in plain text.
    server.max_request_body_size = 0
    log = server.error_log

    def quiet_about_injected_drops(*args: Any, **kwargs: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionCut):  # a drop the user asked for is no error
            log(*args, **kwargs)

    server.error_log = quiet_about_injected_drops
    server.prepare()  # binds now, so the real port is known before serving
    return server


def bound_port(server: Any) -> int:
    return int(server.bind_addr[1])


class Running:
    """Mocks served on a background thread (for tests and embedding), stopped cleanly on exit."""

    def __init__(self, mocks: Iterable[Mock], host: str = "127.0.0.1", port: int = 0) -> None:
        self.mocks = list(mocks)
        self.host = host
        self.server = make_server(self.mocks, host, port)
        self._thread = threading.Thread(target=self.server.serve, name="esign-contracts-serve", daemon=True)

    @property
    def port(self) -> int:
        return bound_port(self.server)

    def base_url(self, mock: Mock | None = None) -> str:
        mock = mock or self.mocks[0]
        return f"http://{self.host}:{self.port}{mock.engine.contract.base_path}"

    def __enter__(self) -> Running:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.stop()
        self._thread.join(timeout=10)


def banner(
    mocks: list[Mock], host: str, port: int, out: TextIO, from_environment: dict[str, str] | None = None
) -> None:
    """One line per provider: where it is served and the (non-secret, mock-only) credentials it accepts.

    Credentials taken from the environment (`from_environment`: provider -> the variables read) are real ones:
    the banner names the variables, never the values.
    """
    for mock in mocks:
        contract = mock.engine.contract
        url = f"http://{host}:{port}{contract.base_path}"
        if not contract.base_path and len(contract.operations) == 1:  # SIGNiX: one endpoint is the API
            url += contract.operations[0].path
        accepted = (from_environment or {}).get(mock.name)
        shown = f"credentials from {accepted}" if accepted else describe_scheme(mock)
        print(f"{mock.name}: {url}  ({shown})", file=out)


def serve(
    mocks: list[Mock],
    host: str,
    port: int,
    out: TextIO = sys.stdout,
    from_environment: dict[str, str] | None = None,
) -> None:
    """Serve until SIGINT or SIGTERM; print one line per provider with its base URL and accepted credentials."""
    server = make_server(mocks, host, port)
    banner(mocks, host, bound_port(server), out, from_environment)
    print("Ctrl-C to stop.", file=out, flush=True)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        print("stopped.", file=out, flush=True)
