"""The WSGI apps `served.py` puts behind each server, and a runner for the servers started from Python.

Chosen by environment, so every server can import the same `wsgi_apps:app`:
  BENCH_APP=mock   the Stiply mock (`esign_contracts.mocks.WSGIApp`), state in this one process
  BENCH_APP=bare   answers each (method, body) with the fixed bytes in BENCH_FIXTURES: the server's ceiling

    python benchmarks/wsgi_apps.py waitress|cheroot PORT [THREADS]
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable
from typing import Any

from esign_contracts.contracts.serve import THREADS, make_server
from esign_contracts.mocks import Mock, WSGIApp

WSGI = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
NOT_FOUND = ("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "0")], b"")


def bare_app(fixtures: str) -> WSGI:
    """fixtures: a JSON list of {method, request_body, status, reason, headers, body} as the mock answered them."""
    answers = {}
    for item in json.loads(open(fixtures, encoding="utf-8").read()):
        payload = item["body"].encode("utf-8")
        headers = [*item["headers"].items(), ("Content-Length", str(len(payload)))]
        answers[(item["method"], item["request_body"].encode("utf-8"))] = (
            f"{item['status']} {item['reason']}",
            headers,
            payload,
        )

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        status, headers, payload = answers.get((environ["REQUEST_METHOD"], body), NOT_FOUND)
        start_response(status, headers)
        return [payload]

    return app


def build() -> WSGI:
    if os.environ.get("BENCH_APP", "mock") == "bare":
        return bare_app(os.environ["BENCH_FIXTURES"])
    return WSGIApp([Mock("stiply")])


app = build()


def run(server: str, port: int, threads: int = THREADS) -> None:
    if server == "waitress":
        from waitress.server import create_server

        options = {"threads": threads, "ident": "esign-contracts", "clear_untrusted_proxy_headers": True}
        create_server(app, host="127.0.0.1", port=port, **options).run()
    elif server == "cheroot":
        if isinstance(app, WSGIApp):
            make_server(app.mocks, "127.0.0.1", port, threads).serve()  # what `esign-contracts serve` runs
        else:
            from cheroot.wsgi import Server

            Server(("127.0.0.1", port), app, numthreads=threads).safe_start()
    else:
        raise SystemExit(f"unknown server {server!r}")


if __name__ == "__main__":
    run(sys.argv[1], *map(int, sys.argv[2:4]))
