"""Authenticate a request with the security scheme the spec names for its operation.

Bearer tokens (`http`/`bearer` and `oauth2`) are accepted when they are the configured token or one the model
issued (and has not expired); an `oauth2` requirement's scopes must be held by the token (RFC 6750).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from esign_contracts.mocks.http import Request
from esign_contracts.mocks.provider import Token
from esign_contracts.specs.contract import scheme_kind


@dataclass(frozen=True)
class AuthProblem:
    """Why a request was not authenticated. `missing` is a client mistake; a wrong secret is not."""

    scheme: str  # basic | bearer | apiKey
    missing: bool
    detail: str
    status: int = 401
    error: str = ""  # the RFC 6750 error code: invalid_token, insufficient_scope
    scope: str = ""  # the scopes a token lacked, for insufficient_scope
    name: str = ""  # the security scheme's name in the spec

    @property
    def kind(self) -> str:
        """The key of the scheme's x-error-codes that names this problem."""
        return "missing" if self.missing else (self.error if self.error == "insufficient_scope" else "invalid")

    def challenge(self) -> dict[str, str]:
        """The WWW-Authenticate header of the answer (RFC 7617 for Basic, RFC 6750 for Bearer)."""
        if self.scheme == "basic":
            return {"WWW-Authenticate": 'Basic realm="api"'}
        if self.scheme != "bearer":
            return {}
        parts = [f'error="{self.error}"'] if self.error else []
        if self.scope:
            parts.append(f'scope="{self.scope}"')
        return {"WWW-Authenticate": "Bearer" + (" " + ", ".join(parts) if parts else "")}


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


@functools.lru_cache(maxsize=256)  # a client sends the same header on every request
def _user_password(encoded: str) -> tuple[str, str] | None:
    """The user and password of Basic credentials (RFC 7617); None when they are not base64 of UTF-8."""
    try:
        user, _, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


def _basic(request: Request, accepted: Any) -> AuthProblem | None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("basic "):
        return AuthProblem("basic", True, "no 'Authorization: Basic …' header")
    given = _user_password(header[6:].strip())
    if given is None:
        return AuthProblem("basic", True, "the Basic credentials are not base64 of 'user:password'")
    user, password = given
    want_user, want_password = accepted or ("", "")  # no credentials configured: nothing is accepted
    if accepted and _same(user, want_user) and _same(password, want_password):
        return None
    return AuthProblem("basic", False, "username or password not accepted")


def _bearer(
    request: Request, accepted: Any, issued: Callable[[str], Token | None], scopes: tuple[str, ...]
) -> AuthProblem | None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer ") or not header[7:].strip():
        return AuthProblem("bearer", True, "no 'Authorization: Bearer …' header")
    token = header[7:].strip()
    # A configured token (or several); a mapping is the body credentials of a token operation, not a token.
    configured = (
        [accepted] if isinstance(accepted, str) else list(accepted) if isinstance(accepted, list | tuple) else []
    )
    if any(_same(token, t) for t in configured):
        return None  # the configured token holds every scope
    found = issued(token)
    if found is None:
        return AuthProblem("bearer", False, "bearer token not issued or expired", error="invalid_token")
    lacking = [s for s in scopes if s not in found.scopes]
    if lacking:
        return AuthProblem(
            "bearer",
            False,
            f"the token lacks the scope {' '.join(lacking)}",
            403,
            "insufficient_scope",
            " ".join(scopes),
        )
    return None


def _api_key(request: Request, accepted: Any, name: str) -> AuthProblem | None:
    value = request.headers.get(name)
    if value is None:
        return AuthProblem("apiKey", True, f"no {name!r} header")
    return None if accepted and _same(value, accepted) else AuthProblem("apiKey", False, f"{name} not accepted")


def authenticate(
    request: Request,
    schemes: dict[str, dict[str, Any]],
    required: dict[str, tuple[str, ...]],
    credentials: dict[str, Any],
    issued: Callable[[str], Token | None] = lambda _: None,
) -> AuthProblem | None:
    """None when any one of the required schemes accepts the request, else the first scheme's problem."""
    problems = []
    for name, scopes in required.items():
        scheme = schemes[name]
        kind = scheme_kind(scheme)
        if kind == "basic":
            problem = _basic(request, credentials.get(name))
        elif kind == "bearer":
            problem = _bearer(request, credentials.get(name), issued, scopes if scheme["type"] == "oauth2" else ())
        elif kind == "apiKey" and scheme.get("in") == "header":
            problem = _api_key(request, credentials.get(name), scheme["name"])
        else:
            raise NotImplementedError(f"security scheme {name!r} ({kind}) is not supported by the core yet")
        if problem is None:
            return None
        problems.append(AuthProblem(**{**problem.__dict__, "name": name}))
    return problems[0] if problems else None
