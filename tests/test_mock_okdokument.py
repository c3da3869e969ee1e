"""The OKdokument mock behaves as the docs say: create/update/delete, the not-exist refusal, the sendInfo call."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
import responses

from esign_contracts.contracts.conformance import response_problems
from esign_contracts.mocks import ControlError, InProcess, Mock, Response
from esign_contracts.specs import load_contract

OKDOKUMENT = "https://apidev.okdokument.com"
REQUESTS = f"{OKDOKUMENT}/JSON/signatureRequest"
HOOK = "https://client.example/sendInfo?arg=123456"
CONTRACT = load_contract("okdokument")
NOT_EXIST = "err.signature.request.not.exist"


@pytest.fixture
def okdokument() -> Iterator[tuple[Mock, requests.Session, InProcess]]:
    """A fresh OKdokument mock behind `responses`, and a session that sends its API key."""
    mock = Mock("okdokument", seed=7)
    session = requests.Session()
    session.headers["x-api-key"] = mock.credentials["apiKey"]
    with InProcess([mock]) as in_process:
        yield mock, session, in_process


def conforms(answer: requests.Response, operation_id: str) -> Any:
    """The answer's body, after checking it against the documented response for its status."""
    response = Response(answer.status_code, answer.content, dict(answer.headers))
    problems, body = response_problems(CONTRACT, CONTRACT.operation(operation_id), response)
    assert problems == []
    return body


def create(session: requests.Session, **fields: str) -> dict[str, str]:
    answer = session.post(REQUESTS, json=fields)
    assert answer.status_code == 200, answer.text
    return conforms(answer, "createSignatureRequest")


def refused_as_not_existing(mock: Mock, answer: requests.Response, missing: str) -> None:
    """The documented refusal: 400 with the message key and the id; the client did nothing wrong."""
    assert (answer.status_code, answer.json()) == (400, {"message": NOT_EXIST, "value": missing})
    assert answer.headers["X-Esign-Contracts-Rule"] == "signature_request_exists"
    assert mock.violations == []
    assert mock.journal.entries(outcome="refused")[-1].rule == "signature_request_exists"


def deliveries(mock: Mock) -> list[Any]:
    return mock.journal.entries(operation="callback.sendInfo")


# -- effects -------------------------------------------------------------------------------------------------------


def test_create_answers_the_documented_shape_with_new_ids(okdokument) -> None:
    mock, session, _ = okdokument
    created = create(session, sendInfoURL=HOOK, resulturl="https://okdokument.com")
    assert created["message"] == "msg.signature.request.id.created"
    assert created["url"] == f"{OKDOKUMENT}/openDocument/{created['result']}"
    assert created["documentId"] and created["documentId"] != created["result"]
    assert mock.model.live_identifiers("signatureRequestId") == [created["result"]]
    assert mock.model.live_identifiers("signature_request_id") == [created["result"]]
    assert mock.violations == []


def test_update_with_the_documented_example_answers_the_documented_shape(okdokument) -> None:
    mock, session, _ = okdokument
    key = create(session)["result"]
    body = {"signatureRequestId": key, "sendInfoURL": "https://azure/sendInfo?arg=123456", "resulturl": "https://ok"}
    updated = conforms(session.patch(REQUESTS, json=body), "updateSignatureRequest")
    assert updated == {"message": "msg.updated", "result": key, "url": f"{OKDOKUMENT}/{key}"}
    assert mock.model.requests[key].send_info_url == "https://azure/sendInfo?arg=123456"
    assert mock.model.requests[key].result_url == "https://ok"


def test_update_changes_only_the_fields_it_sends(okdokument) -> None:
    mock, session, _ = okdokument
    key = create(session, sendInfoURL=HOOK, resulturl="https://first.example")["result"]
    assert session.patch(REQUESTS, json={"signatureRequestId": key}).status_code == 200
    request = mock.model.requests[key]
    assert (request.send_info_url, request.result_url) == (HOOK, "https://first.example")


def test_delete_answers_the_documented_shape_and_forgets_the_request(okdokument) -> None:
    mock, session, _ = okdokument
    key = create(session)["result"]
    deleted = conforms(session.delete(f"{REQUESTS}/{key}"), "deleteSignatureRequest")
    assert deleted == {"message": "msg.deleted", "result": key}
    assert mock.model.live_identifiers("signatureRequestId") == []


# -- the documented refusal ----------------------------------------------------------------------------------------


def test_updating_an_unknown_id_is_refused_with_the_documented_body(okdokument) -> None:
    mock, session, _ = okdokument
    create(session)
    answer = session.patch(REQUESTS, json={"signatureRequestId": "1d58a59e-e8f7-4d07-bb99-d3fa39cb58a8"})
    refused_as_not_existing(mock, answer, "1d58a59e-e8f7-4d07-bb99-d3fa39cb58a8")


def test_a_deleted_request_can_be_neither_deleted_again_nor_updated(okdokument) -> None:
    mock, session, _ = okdokument
    key = create(session, sendInfoURL=HOOK)["result"]
    session.delete(f"{REQUESTS}/{key}")
    refused_as_not_existing(mock, session.delete(f"{REQUESTS}/{key}"), key)
    refused_as_not_existing(mock, session.patch(REQUESTS, json={"signatureRequestId": key, "sendInfoURL": HOOK}), key)
    with pytest.raises(ControlError, match="no signature request"):
        mock.control.sign(key)


def test_a_signed_request_can_still_be_updated_and_deleted(okdokument) -> None:
    mock, session, _ = okdokument
    key = create(session)["result"]
    mock.control.sign(key)
    assert (
        session.patch(REQUESTS, json={"signatureRequestId": key, "resulturl": "https://x.example"}).status_code == 200
    )
    assert session.delete(f"{REQUESTS}/{key}").status_code == 200


# -- the sendInfo callback -----------------------------------------------------------------------------------------


def test_signing_posts_send_info_to_the_registered_url_without_auth_and_journals_it(okdokument) -> None:
    mock, session, in_process = okdokument
    created = create(session, sendInfoURL=HOOK)
    in_process.responses.add(responses.POST, HOOK, status=200)
    mock.control.sign(signature_request_id=created["result"])
    (call,) = [c for c in in_process.responses.calls if c.request.url == HOOK]
    body = json.loads(call.request.body)
    assert body == {"state": "signed", "id": created["documentId"], "signatureRequestId": created["result"]}
    assert CONTRACT.validator("/components/schemas/SendInfo").is_valid(body)
    assert "x-api-key" not in {k.lower() for k in call.request.headers}
    assert "authorization" not in {k.lower() for k in call.request.headers}
    (delivery,) = deliveries(mock)
    assert (delivery.method, delivery.path, delivery.status, delivery.outcome) == ("POST", HOOK, 200, "delivered")
    assert [e.operation for e in mock.journal][-2:] == ["control.sign", "callback.sendInfo"]


def test_a_receiver_that_does_not_answer_200_is_journaled_as_undelivered(okdokument) -> None:
    mock, session, in_process = okdokument
    key = create(session, sendInfoURL=HOOK)["result"]
    in_process.responses.add(responses.POST, HOOK, status=500)
    mock.control.sign(key)
    assert [(d.status, d.outcome) for d in deliveries(mock)][-1] == (500, "undelivered")
    assert mock.model.requests[key].signed  # the document is signed whatever the receiver says


@pytest.mark.parametrize(
    ("fields", "called"),
    [
        ({"sendInfoUrl": HOOK}, HOOK),  # the table's spelling registers the URL too
        ({"sendInfoURL": HOOK, "sendInfoUrl": "https://other.example/hook"}, HOOK),  # both: sendInfoURL wins
        ({"sendInfoURL": "https://other.example/hook", "sendInfoUrl": HOOK}, "https://other.example/hook"),
    ],
)
def test_both_spellings_register_the_url_and_send_info_url_wins(okdokument, fields, called) -> None:
    mock, session, in_process = okdokument
    key = create(session)["result"]
    assert session.patch(REQUESTS, json={"signatureRequestId": key, **fields}).status_code == 200
    in_process.responses.add(responses.POST, called, status=200)
    mock.control.sign(key)
    assert [d.path for d in deliveries(mock)] == [called]
    assert mock.violations == []


def test_the_table_spelling_on_create_registers_the_url(okdokument) -> None:
    mock, session, in_process = okdokument
    key = create(session, sendInfoUrl=HOOK)["result"]
    in_process.responses.add(responses.POST, HOOK, status=200)
    mock.control.sign(key)
    assert [(d.path, d.outcome) for d in deliveries(mock)] == [(HOOK, "delivered")]


def test_the_url_set_by_update_replaces_the_one_given_at_create(okdokument) -> None:
    mock, session, in_process = okdokument
    key = create(session, sendInfoURL="https://old.example/hook")["result"]
    session.patch(REQUESTS, json={"signatureRequestId": key, "sendInfoURL": HOOK})
    in_process.responses.add(responses.POST, HOOK, status=200)
    mock.control.sign(key)
    assert [d.path for d in deliveries(mock)] == [HOOK]


@pytest.mark.parametrize("update", [None, ""], ids=["never-registered", "cleared-with-empty-string"])
def test_without_a_send_info_url_signing_calls_nobody(okdokument, update) -> None:
    mock, session, in_process = okdokument
    key = create(session, **({"sendInfoURL": HOOK} if update is not None else {}))["result"]
    if update is not None:
        session.patch(REQUESTS, json={"signatureRequestId": key, "sendInfoURL": update})
    mock.control.sign(key)
    assert deliveries(mock) == [] and mock.model.requests[key].signed


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], Any]] = []
    arrived = threading.Event()

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).received.append((dict(self.headers), body))
        self.send_response(200)
        self.end_headers()
        type(self).arrived.set()

    def log_message(self, *args: Any) -> None:
        pass


def test_a_served_mock_posts_send_info_over_http() -> None:
    from esign_contracts.contracts.serve import Running

    handler = type("Receiver", (_Receiver,), {"received": [], "arrived": threading.Event()})
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/sendInfo"
    mock = Mock("okdokument", seed=7)
    try:
        with Running([mock]) as served:
            headers = {"x-api-key": mock.credentials["apiKey"]}
            answer = requests.post(f"{served.base_url(mock)}/JSON/signatureRequest", json={}, headers=headers)
            created = answer.json()
            patch = {"signatureRequestId": created["result"], "sendInfoURL": hook}
            assert requests.patch(f"{served.base_url(mock)}/JSON/signatureRequest", json=patch, headers=headers).ok
            mock.control.sign(created["result"])
            assert handler.arrived.wait(10), "the served mock did not call the sendInfo URL"
            deadline = time.monotonic() + 10  # served, the journal entry is written once the receiver has answered
            while not deliveries(mock) and time.monotonic() < deadline:
                time.sleep(0.01)
    finally:
        receiver.shutdown()
        receiver.server_close()
    ((sent_headers, body),) = handler.received
    assert body == {"state": "signed", "id": created["documentId"], "signatureRequestId": created["result"]}
    assert "x-api-key" not in {k.lower() for k in sent_headers}
    assert [(d.path, d.status, d.outcome) for d in deliveries(mock)] == [(hook, 200, "delivered")]


# -- control actions -----------------------------------------------------------------------------------------------


def test_sign_refuses_an_unknown_id_and_signing_twice(okdokument) -> None:
    mock, session, _ = okdokument
    key = create(session)["result"]
    with pytest.raises(ControlError, match="no signature request 'nope'"):
        mock.control.sign("nope")
    mock.control.sign(key)
    with pytest.raises(ControlError, match="signed already"):
        mock.control.sign(key)
    assert [e.operation for e in mock.journal].count("control.sign") == 1
    with pytest.raises(AttributeError, match="available: add_signature_request, reset, sign"):
        _ = mock.control.reject


def test_reset_forgets_the_requests(okdokument) -> None:
    mock, session, _ = okdokument
    key = create(session)["result"]
    mock.reset()
    refused_as_not_existing(mock, session.delete(f"{REQUESTS}/{key}"), key)


# -- what the client got wrong -------------------------------------------------------------------------------------


def test_a_missing_api_key_is_a_violation_a_wrong_one_only_refused(okdokument) -> None:
    mock, _, _ = okdokument
    missing = requests.patch(REQUESTS, json={"signatureRequestId": "x"})
    wrong = requests.patch(REQUESTS, json={"signatureRequestId": "x"}, headers={"x-api-key": "not-the-key"})
    assert (missing.status_code, wrong.status_code) == (401, 401)  # assumption bad_credentials
    assert missing.json() == {"message": "Unauthorized"}
    assert [v.rule for v in mock.violations] == ["credentials"]
    assert [e.outcome for e in mock.journal] == ["unauthenticated", "unauthenticated"]


@pytest.mark.parametrize(
    ("method", "body", "pointer"),
    [
        ("PATCH", {"sendInfoURL": HOOK}, "/components/schemas/UpdateSignatureRequest/required"),
        ("PATCH", {"signatureRequestId": 42}, "/components/schemas/UpdateSignatureRequest/properties"),
        ("PATCH", {"signatureRequestId": "x", "sendInfoURL": 1}, "/components/schemas/SendInfoUrl/type"),
        ("POST", ["not", "an", "object"], "/components/schemas/CreateSignatureRequest/type"),
    ],
)
def test_a_body_that_breaks_the_schema_is_a_violation_answered_400(okdokument, method, body, pointer) -> None:
    mock, session, _ = okdokument
    answer = session.request(method, REQUESTS, json=body)
    assert answer.status_code == 400 and answer.json()["message"].startswith("Bad request: body")
    assert "value" not in answer.json()
    (violation,) = mock.violations
    assert violation.rule == "request schema" and violation.spec_pointer.startswith(pointer)
    assert CONTRACT.resolve(violation.spec_pointer) is not None
    assert mock.model.requests == {}


def test_a_create_without_a_body_is_a_violation(okdokument) -> None:
    mock, session, _ = okdokument
    answer = session.post(REQUESTS)
    assert answer.status_code == 400
    assert [(v.operation, v.rule) for v in mock.violations] == [("createSignatureRequest", "request body")]


def test_an_undocumented_method_gets_405_with_the_documented_ones(okdokument) -> None:
    mock, session, _ = okdokument
    answer = session.get(REQUESTS)
    assert (answer.status_code, answer.headers["Allow"]) == (405, "PATCH, POST")
    assert mock.violations[0].rule == "documented operation"


def test_seeded_mocks_hand_out_the_same_ids() -> None:
    answers = []
    for _ in range(2):
        mock = Mock("okdokument", seed=3)
        with InProcess([mock]):
            answers.append(requests.post(REQUESTS, json={}, headers={"x-api-key": "okdokument-api-key"}).json())
    assert answers[0] == answers[1]


def test_the_not_exist_answer_is_the_documented_error_body(okdokument) -> None:
    _, session, _ = okdokument
    answer = session.delete(f"{REQUESTS}/unknown-id")
    assert CONTRACT.validator("/components/schemas/Error").is_valid(answer.json())
