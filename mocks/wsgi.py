"""The WSGI adapter: one app serving one or more mocks, each under its documented base path.

It reads the WSGI environ directly: werkzeug's request and response wrappers cost more per request
than the engine itself (benchmarks/README.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from requests.structures import CaseInsensitiveDict

from esign_contracts.mocks.control import PREFIX, ControlAPI
from esign_contracts.mocks.faults import Dropped
from esign_contracts.mocks.http import Request, Response
from esign_contracts.mocks.mock import Mock

MAX_BODY_BYTES = 32 * 1024 * 1024


def _reason(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def _headers(environ: dict[str, Any]) -> CaseInsensitiveDict:
    headers = CaseInsensitiveDict()
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-")] = value
    for key, name in (("CONTENT_TYPE", "Content-Type"), ("CONTENT_LENGTH", "Content-Length")):
        if environ.get(key):
            headers[name] = environ[key]
    return headers


def _path(environ: dict[str, Any]) -> str:
    # PEP 3333: PATH_INFO is bytes decoded as latin-1; clients send UTF-8.
    raw = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    return raw.encode("latin-1").decode("utf-8", "replace") or "/"


def _json(status: int, message: str) -> Response:
    return Response.json(status, {"message": message})


class ConnectionCut(Exception):
    """Raised inside the answer's body to make the server abort the connection."""


def _cut_off() -> Iterator[bytes]:
    yield b"{"
    raise ConnectionCut("connection dropped by an injected fault")


def _first_segment(path: str) -> str:
    return path.lstrip("/").split("/", 1)[0]


class WSGIApp:
    """Dispatches on the first path segment of each mock's documented paths (`/v1` Stiply, `/v3` Ignisign, ...)."""

    def __init__(self, mocks: Iterable[Mock], max_body_bytes: int | None = None) -> None:
        self.mocks = list(mocks)
        self.max_body_bytes = max_body_bytes  # None: MAX_BODY_BYTES, read at call time
        self.routes: dict[str, Mock] = {}
        for mock in self.mocks:
            contract = mock.engine.contract
            for operation in contract.operations:
                segment = _first_segment(contract.base_path + operation.path)
                other = self.routes.setdefault(segment, mock)
                if other is not mock:
                    raise ValueError(f"{other.name} and {mock.name} both serve paths under /{segment}")
        self.control = ControlAPI(self.mocks)

    def _request(self, environ: dict[str, Any], path: str) -> Request | Response:
        """The neutral request, or the 4xx answer when the body cannot be read."""
        limit = self.max_body_bytes or MAX_BODY_BYTES
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _json(400, "Content-Length is not a number")
        if length < 0:
            return _json(400, f"Content-Length {length} is negative")
        if length > limit:
            return _json(413, f"request body of {length} bytes is over the {limit} byte limit")
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        # A chunked body has no length: read at most one byte past the limit, so a huge one costs nothing more.
        try:
            body = environ["wsgi.input"].read(limit + 1 if chunked else length) if chunked or length else b""
        except Exception as exc:  # noqa: BLE001 - each server raises its own error for broken framing
            return _json(400, f"the request body could not be read ({type(exc).__name__}: broken framing)")
        if len(body) > limit:
            return _json(413, f"request body is over the {limit} byte limit")
        if not chunked and len(body) < length:  # the client hung up early (a server without a body timeout)
            return _json(400, f"the request body ended after {len(body)} of its Content-Length's {length} bytes")
        return Request(
            method=environ.get("REQUEST_METHOD", "GET").upper(),
            path=path,
            query=parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True),
            headers=_headers(environ),
            body=body,
        )

    def _mock_for(self, path: str) -> Mock | None:
        return self.routes.get(_first_segment(path))

    def _answer(self, environ: dict[str, Any]) -> Response:
        path = _path(environ)
        if path == PREFIX or path.startswith(PREFIX + "/"):
            request = self._request(environ, path)
            return request if isinstance(request, Response) else self.control.handle(request)
        mock = self._mock_for(path)
        if mock is None:
            served = ", ".join(f"/{segment} ({mock.name})" for segment, mock in self.routes.items())
            return _json(404, f"no provider is served at {path}; served paths: {served}")
        request = self._request(environ, path)
        if isinstance(request, Response):
            # in the provider's own form (SIGNiX answers every refusal as XML)
            method = environ.get("REQUEST_METHOD", "GET").upper()
            return mock.engine.refusal(request.status, str(request.payload()["message"]), method, path)
        return mock.handle(request)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            answer = self._answer(environ)
        except Dropped:
            # An injected dropped connection. WSGI gives an app no socket to close, so the answer is cut off
            # once its status line is out: the server then closes the connection without a complete answer.
            start_response("200 OK", [("Content-Length", "64"), ("Connection", "close")])
            return _cut_off()
        headers = [*answer.headers.items(), ("Content-Length", str(len(answer.body)))]
        start_response(_reason(answer.status), headers)
        return [answer.body]
