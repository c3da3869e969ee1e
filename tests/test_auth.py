"""The core's authentication: Basic, API key, bearer tokens the model issued, OAuth2 scopes (RFC 6750)."""

from __future__ import annotations

import base64
import datetime as dt

import pytest

from esign_contracts.mocks.auth import authenticate
from esign_contracts.mocks.http import Request
from esign_contracts.mocks.provider import Token

SCOPE = "urn:safelayer:eidas:sign:process:document"
SCHEMES = {
    "basic": {"type": "http", "scheme": "basic"},
    "key": {"type": "apiKey", "in": "header", "name": "x-api-key"},
    "jwt": {"type": "http", "scheme": "bearer"},
    "oauth": {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "/token", "scopes": {SCOPE: "sign"}}}},
}
CREDENTIALS = {"basic": ("user", "pass"), "key": "k-123", "jwt": {"appId": "a", "secret": "s"}, "oauth": "fixed"}
ISSUED = {"t-sign": Token(frozenset({SCOPE})), "t-other": Token(frozenset({"openid"}))}


def _request(**headers: str) -> Request:
    return Request.from_url("GET", "https://api.example/x", headers.items())


def _auth(required: dict[str, tuple[str, ...]], **headers: str):  # type: ignore[no-untyped-def]
    return authenticate(_request(**headers), SCHEMES, required, CREDENTIALS, ISSUED.get)


def test_basic_accepts_the_configured_pair_and_tells_a_missing_header_from_a_wrong_one() -> None:
    good = "Basic " + base64.b64encode(b"user:pass").decode()
    wrong = "Basic " + base64.b64encode(b"user:nope").decode()
    assert _auth({"basic": ()}, Authorization=good) is None
    missing = _auth({"basic": ()})
    assert missing is not None and missing.missing and missing.status == 401
    assert missing.challenge() == {"WWW-Authenticate": 'Basic realm="api"'}
    refused = _auth({"basic": ()}, Authorization=wrong)
    assert refused is not None and not refused.missing and refused.name == "basic"


def test_api_key_header() -> None:
    assert _auth({"key": ()}, **{"x-api-key": "k-123"}) is None
    assert _auth({"key": ()}).kind == "missing"  # type: ignore[union-attr]
    assert _auth({"key": ()}, **{"x-api-key": "other"}).kind == "invalid"  # type: ignore[union-attr]
    assert _auth({"key": ()}).challenge() == {}  # type: ignore[union-attr]


def test_a_bearer_token_is_accepted_only_when_issued_and_body_credentials_are_never_a_token() -> None:
    assert _auth({"jwt": ()}, Authorization="Bearer t-sign") is None
    unknown = _auth({"jwt": ()}, Authorization="Bearer appId")  # a key of the body credentials
    assert unknown is not None and unknown.error == "invalid_token" and unknown.status == 401
    assert unknown.challenge() == {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    empty = _auth({"jwt": ()}, Authorization="Bearer ")
    assert empty is not None and empty.missing and empty.challenge() == {"WWW-Authenticate": "Bearer"}


def test_oauth2_scopes_rfc_6750() -> None:
    assert _auth({"oauth": (SCOPE,)}, Authorization="Bearer t-sign") is None
    assert _auth({"oauth": (SCOPE,)}, Authorization="Bearer fixed") is None  # the configured token holds every scope
    lacking = _auth({"oauth": (SCOPE,)}, Authorization="Bearer t-other")
    assert lacking is not None and lacking.status == 403 and lacking.kind == "insufficient_scope"
    assert lacking.challenge() == {"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{SCOPE}"'}


def test_any_one_of_several_requirements_is_enough() -> None:
    assert _auth({"basic": (), "key": ()}, **{"x-api-key": "k-123"}) is None


@pytest.mark.parametrize("offset, live", [(599, True), (600, False)])
def test_an_issued_token_expires_after_its_lifetime(offset: int, live: bool) -> None:
    from esign_contracts.mocks.stiply import Stiply

    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    now = [start]
    model = Stiply(clock=lambda: now[0])
    model.issue_token("t", scopes=[SCOPE], expires_in=600)
    now[0] = start + dt.timedelta(seconds=offset)
    assert (model.token("t") is not None) is live
    model.reset()
    assert "t" in model.tokens  # tokens are credentials, not state: a client's cached token survives reset
