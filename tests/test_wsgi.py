"""The WSGI adapter: the same engine behind a WSGI app; bad input gets a documented 4xx, never a 5xx."""

from __future__ import annotations

import base64

import pytest
from werkzeug.test import Client

from esign_contracts.mocks import Mock, WSGIApp
from esign_contracts.mocks import wsgi as wsgi_module

AUTH = {"Authorization": "Basic " + base64.b64encode(b"stiply-user:stiply-password").decode()}


@pytest.fixture
def client() -> Client:
    return Client(WSGIApp([Mock("stiply")]))


def test_the_served_mock_answers_under_its_documented_base_path(client: Client) -> None:
    answer = client.post("/v1/actions/ping", json={"ping_value": "pong"}, headers=AUTH)
    assert (answer.status_code, answer.json) == (200, {"ping_value": "pong", "status_code": "200"})


def test_a_path_outside_every_base_path_gets_404_naming_the_served_ones(client: Client) -> None:
    answer = client.get("/v2/anything", headers=AUTH)
    assert answer.status_code == 404 and "/v1" in answer.json["message"]


def test_a_body_over_the_limit_gets_413(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wsgi_module, "MAX_BODY_BYTES", 1000)
    answer = client.post("/v1/actions/ping", data=b"x" * 2000, headers={**AUTH, "Content-Type": "application/json"})
    assert answer.status_code == 413


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"\xff\xfe not utf-8", "application/json"),
        (b"[" * 10_000 + b"]" * 10_000, "application/json"),
        (b'{"ping_value": ' + b'{"a":' * 5_000 + b"1" + b"}" * 5_001, "application/json"),
        (b"--x\r\nContent-Disposition: form-data; name=\r\n\r\n", "multipart/form-data; boundary=x"),
        (b"ping_value=pong", "text/plain"),
        (b"", "application/json"),
    ],
    ids=["invalid-utf8", "deep-array", "deep-object", "broken-multipart", "wrong-type", "empty"],
)
def test_hostile_bodies_get_a_4xx_and_are_reported(client: Client, body: bytes, content_type: str) -> None:
    mock = client.application.mocks[0]
    answer = client.post("/v1/actions/ping", data=body, headers={**AUTH, "Content-Type": content_type})
    assert 400 <= answer.status_code < 500
    assert mock.violations and mock.violations[-1].operation == "ping"


def test_a_broken_multipart_upload_gets_400_not_500(client: Client) -> None:
    answer = client.post(
        "/v1/sign_requests", data=b"--x\r\ngarbage", headers={**AUTH, "Content-Type": "multipart/form-data; boundary=x"}
    )
    assert answer.status_code == 400
