"""The WSGI adapter: one app serving one or more mocks, each under its documented base path.

It reads the WSGI environ directly: werkzeug's request and response wrappers cost more per request
than the engine itself (benchmarks/README.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from typing import Any

from requests.structures import CaseInsensitiveDict

from esign_contracts.mocks.control import PREFIX, ControlAPI
from esign_contracts.mocks.faults import Dropped
from esign_contracts.mocks.http import Headers, Request, Response, query_params
from esign_contracts.mocks.mock import Mock

MAX_BODY_BYTES = 32 * 1024 * 1024


def _reason(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def _headers(environ: dict[str, Any]) -> Headers:
    sent = [(key[5:].replace("_", "-"), value) for key, value in environ.items() if key.startswith("HTTP_")]
    for key, name in (("CONTENT_TYPE", "Content-Type"), ("CONTENT_LENGTH", "Content-Length")):
        if environ.get(key):
            sent.append((name, environ[key]))
    return Headers.of(sent)


def _path(environ: dict[str, Any]) -> str:
    # PEP 3333: PATH_INFO is bytes decoded as latin-1; clients send UTF-8.
    raw = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    return raw.encode("latin-1").decode("utf-8", "replace") or "/"


def _json(status: int, message: str) -> Response:
    return Response.json(status, {"message": message})


def declared_length(headers: CaseInsensitiveDict, limit: int) -> int | None | Response:
    """The body length a request declares (None: chunked, read to its end), or the 4xx for one that cannot be."""
    if "chunked" in headers.get("Transfer-Encoding", "").lower():
        return None
    try:
        length = int(headers.get("Content-Length") or 0)
    except ValueError:
        return _json(400, "Content-Length is not a number")
    if length < 0:
        return _json(400, f"Content-Length {length} is negative")
    if length > limit:
        return _json(413, f"request body of {length} bytes is over the {limit} byte limit")
    return length


def received(body: bytes, length: int | None, limit: int) -> Response | None:
    """413 for a body over the limit; 400 for one that ended before its Content-Length (its client hung up)."""
    if len(body) > limit:
        return _json(413, f"request body is over the {limit} byte limit")
    if length is not None and len(body) < length:
        return _json(400, f"the request body ended after {len(body)} of its Content-Length's {length} bytes")
    return None


class ConnectionCut(Exception):
    """Raised inside the answer's body to make the server abort the connection."""


def _cut_off() -> Iterator[bytes]:
    yield b"{"
    raise ConnectionCut("connection dropped by an injected fault")


_UNDER_CONTROL = PREFIX + "/"


def _is_control(path: str) -> bool:
    return path == PREFIX or path.startswith(_UNDER_CONTROL)


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

    @property
    def body_limit(self) -> int:
        return self.max_body_bytes or MAX_BODY_BYTES

    def target(self, path: str) -> Mock | ControlAPI | Response:
        """Who answers `path`: a served provider's mock, the control API, or the 404 naming the served paths (an
        adapter asks before it reads any byte of the body)."""
        if _is_control(path):
            return self.control
        mock = self.routes.get(_first_segment(path))
        if mock is not None:
            return mock
        served = ", ".join(f"/{segment} ({mock.name})" for segment, mock in self.routes.items())
        return _json(404, f"no provider is served at {path}; served paths: {served}")

    def answer(
        self,
        target: Mock | ControlAPI,
        method: str,
        path: str,
        query: str,
        headers: CaseInsensitiveDict,
        body: bytes | Response,
    ) -> Response:
        """The answer of `target` (see `target`) to a request; `body` is what was read, or the 4xx saying why it
        could not be read (any adapter: the WSGI one below, the RSGI one for granian)."""
        if isinstance(target, ControlAPI):
            if isinstance(body, Response):
                return body
            return target.handle(Request(method, path, query_params(query), headers, body))
        if isinstance(body, Response):
            # in the provider's own form (SIGNiX answers every refusal as XML)
            return target.engine.refusal(body.status, str(body.payload()["message"]), method, path)
        return target.handle(Request(method, path, query_params(query), headers, body))

    def _read(self, environ: dict[str, Any], headers: CaseInsensitiveDict) -> bytes | Response:
        limit = self.body_limit
        length = declared_length(headers, limit)
        if isinstance(length, Response):
            return length
        chunked = length is None
        # A chunked body has no length: read at most one byte past the limit, so a huge one costs nothing more.
        try:
            body = environ["wsgi.input"].read(limit + 1 if chunked else length) if chunked or length else b""
        except Exception as exc:  # noqa: BLE001 - each server raises its own error for broken framing
            return _json(400, f"the request body could not be read ({type(exc).__name__}: broken framing)")
        return received(body, length, limit) or body

    def _answer(self, environ: dict[str, Any]) -> Response:
        path = _path(environ)
        target = self.target(path)
        if isinstance(target, Response):
            return target
        headers = _headers(environ)
        method = environ.get("REQUEST_METHOD", "GET").upper()
        query = environ.get("QUERY_STRING", "")
        return self.answer(target, method, path, query, headers, self._read(environ, headers))

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
