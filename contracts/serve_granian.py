"""Serve mocks on granian (a Rust HTTP server, hyper and tokio): `esign-contracts serve --server granian`.

Chosen by measurement for throughput (benchmarks/README.md): granian parses HTTP outside Python, and its RSGI
interface runs the mocks on one event loop (`mocks/rsgi.py`), about 2 to 4 times cheroot's requests per second.
Headers time out after the request timeout (granian's own), bodies after the same time (the adapter's: 408).
One difference from cheroot stays: broken chunked framing ends the body where it broke, and the mock judges
what arrived.

Granian runs the app in one worker process forked from this one: the mocks are built here (credentials) and the
fork carries them over. State, journal and control actions live in that worker, reachable over HTTP
(`/__control`), which is how any client in any language reaches them anyway. One worker, never more: the
mocks' state must live in one place.
"""

from __future__ import annotations

import multiprocessing
from typing import Any

from esign_contracts.mocks import Mock, WSGIApp
from esign_contracts.mocks.rsgi import RSGIApp


def granian_server(host: str, port: int, request_timeout: int) -> Any:
    """A granian server, not yet serving; `port` must be a real port (the banner names it first)."""
    try:
        from granian import Granian
        from granian.constants import Interfaces, Loops
        from granian.http import HTTP1Settings
    except ImportError as exc:  # an optional extra
        raise SystemExit(
            "esign-contracts: --server granian needs granian: pip install 'esign-contracts[granian]'"
        ) from exc
    return Granian(
        target="esign-contracts",  # only a name: the app comes from the loader in serve_on_granian
        address=host,
        port=port,
        interface=Interfaces.RSGI,
        workers=1,
        loop=Loops.auto,  # uvloop when installed (the extra installs it where it exists): 20 % more on a POST
        log_enabled=False,
        http1_settings=HTTP1Settings(header_read_timeout=request_timeout * 1000),
        workers_kill_timeout=request_timeout,
    )


def serve_on_granian(
    mocks: list[Mock], host: str, port: int, request_timeout: int, max_body_bytes: int | None = None
) -> None:
    """Serve until SIGINT or SIGTERM (granian stops its worker gracefully on either)."""
    app = RSGIApp(WSGIApp(mocks, max_body_bytes), body_timeout=request_timeout)
    server = granian_server(host, port, request_timeout)

    def load(target: str) -> RSGIApp:
        # In the worker: threads do not survive a fork, so the callback courier starts here.
        for mock in mocks:
            mock.deliver_callbacks_in_background()
        return app

    # The loader is a closure over the mocks: it reaches the worker by fork, not by pickling (spawn).
    if multiprocessing.get_start_method(allow_none=True) != "fork":
        multiprocessing.set_start_method("fork", force=True)
    server.serve(target_loader=load)
