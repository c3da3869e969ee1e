"""The WSGI adapter: one app serving one or more mocks, each under its documented base path."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from requests.structures import CaseInsensitiveDict
from werkzeug.wrappers import Request as WsgiRequest
from werkzeug.wrappers import Response as WsgiResponse

from esign_contracts.mocks.http import Request
from esign_contracts.mocks.mock import Mock

MAX_BODY_BYTES = 32 * 1024 * 1024


class WSGIApp:
    """Dispatches on the path prefix of each mock's server URL (`/v1` for Stiply)."""

    def __init__(self, mocks: Iterable[Mock]) -> None:
        self.mocks = sorted(mocks, key=lambda m: -len(m.engine.contract.base_path))
        prefixes = [m.engine.contract.base_path for m in self.mocks]
        if len(set(prefixes)) != len(prefixes):
            raise ValueError(f"two mocks share a base path: {prefixes}")

    def _mock_for(self, path: str) -> Mock | None:
        for mock in self.mocks:
            base = mock.engine.contract.base_path
            if path == base or path.startswith(base + "/") or not base:
                return mock
        return None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        incoming = WsgiRequest(environ)
        incoming.max_content_length = MAX_BODY_BYTES
        mock = self._mock_for(incoming.path)
        if mock is None:
            served = [m.engine.contract.base_path or "/" for m in self.mocks]
            body = {"message": f"no provider is served at {incoming.path}; served base paths: {', '.join(served)}"}
            return WsgiResponse(json.dumps(body), 404, content_type="application/json")(environ, start_response)
        length = incoming.content_length or 0
        if length > MAX_BODY_BYTES:
            body = {"message": f"request body of {length} bytes is over the {MAX_BODY_BYTES} byte limit"}
            return WsgiResponse(json.dumps(body), 413, content_type="application/json")(environ, start_response)
        request = Request(
            method=incoming.method,
            path=incoming.path,
            query={k: incoming.args.getlist(k) for k in incoming.args},
            headers=CaseInsensitiveDict(incoming.headers.items()),
            body=incoming.get_data(cache=False),
        )
        answer = mock.handle(request)
        response = WsgiResponse(answer.body, answer.status, headers=list(answer.headers.items()))
        return response(environ, start_response)
