"""What a check talks to: the built-in mock in-process, or a server over HTTP."""

from __future__ import annotations

from typing import Protocol
from urllib.parse import urlsplit

import requests

from esign_contracts.contracts.gate import BudgetSpent, Gate, OtherHost
from esign_contracts.mocks import Mock, Request, Response
from esign_contracts.mocks.mock import Controls


class TargetError(Exception):
    """The target could not be reached or did not answer."""


class Target(Protocol):
    label: str
    remote: bool
    controls: Controls | None
    gate: Gate | None

    def send(self, request: Request) -> Response: ...


class MockTarget:
    """The built-in mock, called directly (no sockets); its control actions are available."""

    remote = False
    gate: Gate | None = None

    def __init__(self, mock: Mock) -> None:
        self.mock = mock
        self.label = f"the built-in {mock.name} mock (in-process)"
        self.controls: Controls | None = mock.control

    def send(self, request: Request) -> Response:
        return self.mock.handle(request)


class HttpTarget:
    """A server at `base_url`; requests carry paths under the spec's base path, which is swapped for the URL's."""

    remote = True
    controls: Controls | None = None

    def __init__(self, base_url: str, spec_base_path: str, gate: Gate | None = None) -> None:
        parts = urlsplit(base_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.base_path = parts.path.rstrip("/")
        self.spec_base_path = spec_base_path
        self.label = base_url
        # Every request goes through the gate: this host only, the budget, the rate, a timeout, 429 waits.
        self.gate = gate or Gate(parts.netloc)
        self.session = self.gate.session()

    def url_for(self, path: str) -> str:
        rest = path[len(self.spec_base_path) :] if path.startswith(self.spec_base_path) else path
        return f"{self.origin}{self.base_path}{rest}"

    def send(self, request: Request) -> Response:
        try:
            answer = self.session.request(
                request.method,
                self.url_for(request.path),
                params=request.query,
                headers=dict(request.headers),
                data=request.body or None,
                allow_redirects=False,
            )
        except OtherHost as exc:
            raise TargetError(str(exc)) from exc
        except BudgetSpent:
            raise
        except requests.RequestException as exc:
            raise TargetError(f"{request.method} {self.url_for(request.path)} failed: {type(exc).__name__}") from exc
        return Response(answer.status_code, answer.content, dict(answer.headers))
