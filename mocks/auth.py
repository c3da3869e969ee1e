"""Authenticate a request with the security scheme the spec names for its operation."""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass
from typing import Any

from esign_contracts.mocks.http import Request


@dataclass(frozen=True)
class AuthProblem:
    """Why a request was not authenticated. `missing` is a client mistake; a wrong secret is not."""

    scheme: str
    missing: bool
    detail: str


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def _basic(request: Request, accepted: Any) -> AuthProblem | None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("basic "):
        return AuthProblem("basic", True, "no 'Authorization: Basic …' header")
    try:
        user, _, password = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return AuthProblem("basic", True, "the Basic credentials are not base64 of 'user:password'")
    want_user, want_password = accepted
    if _same(user, want_user) and _same(password, want_password):
        return None
    return AuthProblem("basic", False, "username or password not accepted")


def _bearer(request: Request, accepted: Any) -> AuthProblem | None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return AuthProblem("bearer", True, "no 'Authorization: Bearer …' header")
    token = header[7:].strip()
    if any(_same(token, t) for t in (accepted if isinstance(accepted, list | tuple | set) else [accepted])):
        return None
    return AuthProblem("bearer", False, "bearer token not accepted")


def _api_key(request: Request, accepted: Any, name: str) -> AuthProblem | None:
    value = request.headers.get(name)
    if value is None:
        return AuthProblem("apiKey", True, f"no {name!r} header")
    return None if _same(value, accepted) else AuthProblem("apiKey", False, f"{name} not accepted")


def authenticate(
    request: Request, schemes: dict[str, dict[str, Any]], required: tuple[str, ...], credentials: dict[str, Any]
) -> AuthProblem | None:
    """None when any one of the required schemes accepts the request, else the first scheme's problem."""
    problems = []
    for name in required:
        scheme = schemes[name]
        kind = scheme.get("type")
        if kind == "http" and scheme.get("scheme", "").lower() == "basic":
            problem = _basic(request, credentials[name])
        elif kind == "http" and scheme.get("scheme", "").lower() == "bearer":
            problem = _bearer(request, credentials[name])
        elif kind == "apiKey" and scheme.get("in") == "header":
            problem = _api_key(request, credentials[name], scheme["name"])
        else:
            raise NotImplementedError(f"security scheme {name!r} ({kind}) is not supported by the core yet")
        if problem is None:
            return None
        problems.append(problem)
    return problems[0] if problems else None
