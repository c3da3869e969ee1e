"""Serve mocks over HTTP: cheroot (the default, and `Running` for tests and embedding) or granian.

cheroot, a multi-threaded pure-Python WSGI server, keeps the mocks' state in this process; chosen by
measurement (benchmarks/README.md) among such servers, it served the mock 1.1 to 1.5 times faster than
waitress. `--server granian` (contracts/serve_granian.py) serves the same app 2 to 4 times faster from one
forked worker, where the state is reached over the control API.
"""

from __future__ import annotations

import gc
import signal
import sys
import threading
from collections.abc import Iterable
from types import FrameType
from typing import Any, TextIO

from esign_contracts.contracts.ports import ensure_can_listen, free_port
from esign_contracts.mocks import Mock, WSGIApp
from esign_contracts.mocks.wsgi import ConnectionCut

THREADS = 8
REQUEST_TIMEOUT_SECONDS = 10


def describe_scheme(mock: Mock, sources: dict[str, str] | None = None) -> str:
    """The credentials a mock accepts, scheme by scheme. A scheme in `sources` (scheme -> where its value came
    from: the variables read, or --credential) may hold a real secret: it is named by its source, never shown."""
    tokens = mock.engine.contract.token_schemes()
    parts = []
    for scheme, value in mock.credentials.items():
        token = tokens.get(scheme)
        source = (sources or {}).get(scheme)
        if source and token and isinstance(value, dict):
            parts.append(f"{scheme}: a token from {token['operationId']} with credentials from {source}")
        elif source and token:
            parts.append(f"{scheme}: credentials from {source} or a token from {token['operationId']}")
        elif source:
            parts.append(f"{scheme}: credentials from {source}")
        elif isinstance(value, tuple) and len(value) == 2:
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


def make_server(
    mocks: Iterable[Mock],
    host: str = "127.0.0.1",
    port: int = 0,
    threads: int = THREADS,
    max_body_bytes: int | None = None,
    request_timeout: int | None = None,
) -> Any:
    """A cheroot server bound to host:port (0 picks a free port), not yet serving; callbacks go out off-thread."""
    from cheroot.wsgi import Server

    mocks = list(mocks)
    for mock in mocks:
        mock.deliver_callbacks_in_background()
    server = Server(
        (host, port),
        WSGIApp(mocks, max_body_bytes),
        numthreads=threads,
        server_name="esign-contracts",
        timeout=request_timeout or REQUEST_TIMEOUT_SECONDS,
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
    mocks: list[Mock],
    host: str,
    port: int,
    out: TextIO,
    credential_sources: dict[str, dict[str, str]] | None = None,
) -> None:
    """One line per provider: where it is served and the credentials it accepts.

    A mock's own defaults are no secrets and are shown. Credentials given by the environment or by
    --credential (`credential_sources`: provider -> scheme -> the variables read, or "--credential") may be
    real ones: the banner names their source, never the values.
    """
    for mock in mocks:
        contract = mock.engine.contract
        url = f"http://{host}:{port}{contract.base_path}"
        if not contract.base_path and len(contract.operations) == 1:  # SIGNiX: one endpoint is the API
            url += contract.operations[0].path
        shown = describe_scheme(mock, (credential_sources or {}).get(mock.name))
        print(f"{mock.name}: {url}  ({shown})", file=out)


def tune_garbage_collection() -> None:
    """For a process that only serves (granian's worker inherits it by fork): the journal keeps up to 100,000
    entries, and a full collection walking them all paused answers for 90 to 220 ms (the p99 of
    benchmarks/peers.py); what exists at start is frozen out of every collection, and the younger generations
    are collected less often. Entries leave the journal by reference counting, not by the collector."""
    gc.freeze()
    gc.set_threshold(50_000, 50, 1000)


def serve(
    mocks: list[Mock],
    host: str,
    port: int,
    out: TextIO = sys.stdout,
    credential_sources: dict[str, dict[str, str]] | None = None,
    server: str = "cheroot",
    max_body_bytes: int | None = None,
    request_timeout: int | None = None,
) -> None:
    """Serve until SIGINT or SIGTERM; print one line per provider with its base URL and accepted credentials
    (`credential_sources`: see `banner`). `server`: cheroot (every timeout) or granian (faster; see serve_granian).
    `max_body_bytes`: the request body limit (413 above it), MAX_BODY_BYTES by default. `request_timeout`: seconds
    for a request's headers and for its body, REQUEST_TIMEOUT_SECONDS by default."""
    request_timeout = request_timeout or REQUEST_TIMEOUT_SECONDS
    tune_garbage_collection()
    ensure_can_listen(host, port)  # an OSError for the CLI to report, before any server binds
    if server == "granian":
        from esign_contracts.contracts.serve_granian import serve_on_granian

        port = port or free_port(host)
        banner(mocks, host, port, out, credential_sources)
        print("Ctrl-C to stop.", file=out, flush=True)
        try:
            serve_on_granian(mocks, host, port, request_timeout, max_body_bytes)
        finally:
            print("stopped.", file=out, flush=True)
        return
    cheroot = make_server(mocks, host, port, max_body_bytes=max_body_bytes, request_timeout=request_timeout)
    banner(mocks, host, bound_port(cheroot), out, credential_sources)
    print("Ctrl-C to stop.", file=out, flush=True)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        cheroot.serve()
    except KeyboardInterrupt:
        pass
    finally:
        cheroot.stop()
        print("stopped.", file=out, flush=True)
