"""The Stiply mock behaves as the docs say: documented effects, refusals with documented statuses, violations."""

from __future__ import annotations

import pytest
import requests

from esign_contracts.contracts.conformance import response_problems
from esign_contracts.mocks import ControlError, Mock, Request
from esign_contracts.specs import load_contract

from .conftest import PDF, STIPLY, add_signer, create_sign_request

CONTRACT = load_contract("stiply")


def conforms(answer: requests.Response, operation_id: str) -> dict:
    """The answer's body, after checking it against the documented response for its status."""
    from esign_contracts.mocks import Response

    response = Response(answer.status_code, answer.content, dict(answer.headers))
    problems, body = response_problems(CONTRACT, CONTRACT.operation(operation_id), response)
    assert problems == []
    return body


def test_the_documented_flow_create_add_signer_send(stiply) -> None:
    mock, session = stiply
    key = create_sign_request(session, external_key="order-1", doc_name="Licence")
    signer = add_signer(session, key)
    sent = conforms(session.post(f"{STIPLY}/sign_requests/{key}/actions/send"), "sendSignRequest")
    request = sent["data"]["sign_request"]
    assert request["sent"] == 1 and request["sent_at"] != "0000-00-00 00:00:00"
    assert request["terms"][0]["term_code"] == "2w" and request["terms"][0]["term_expires"] != "0000-00-00 00:00:00"
    assert [p["action"] for p in request["signers"][0]["signer_progresses"]] == ["mail_signrequest_sent"]
    assert request["signers"][0]["key"] == signer
    got = conforms(session.get(f"{STIPLY}/sign_requests/{key}"), "getSignRequest")
    assert got["data"]["sign_request"] == request
    assert mock.violations == []


def test_a_new_sign_request_has_the_documented_not_yet_shapes(stiply) -> None:
    _, session = stiply
    answer = session.post(
        f"{STIPLY}/sign_requests", files={"file": ("a.pdf", PDF, "application/pdf")}, data={"term": "1d"}
    )
    request = conforms(answer, "createSignRequest")["data"]["sign_request"]
    assert (request["sent"], request["sent_at"], request["all_signed_at"]) == (
        0,
        "0000-00-00 00:00:00",
        "0000-00-00 00:00:00",
    )
    assert request["signers"] == [] and request["terms"][0]["term_expired"] == 0
    assert conforms(answer, "createSignRequest")["data"]["document"]["file_size"] == str(len(PDF))


def test_signer_fields_phone_and_language_are_kept_as_documented(stiply) -> None:
    _, session = stiply
    key = create_sign_request(session)
    body = {
        "signer_email": "signer@stiply.nl",
        "signer_signature_fields": [{"name": "signature_0", "width": "300"}, {"page": 1, "x": 100, "y": 200}],
        "signer_text_fields": [{"name": "text_0"}],
        "auth_method": "sms",
        "cell_phone_number": "31612345678",
        "language": "de",
    }
    signer = conforms(session.post(f"{STIPLY}/sign_requests/{key}/signers", json=body), "createSigner")["data"]
    assert signer["phone"] == 31612345678 and signer["language"] == "de" and signer["name"] is None
    assert [f["type"] for f in signer["fields"]] == ["signature", "signature", "text"]
    assert signer["fields"][0]["width"] == 300 and signer["fields"][1]["x"] == 100


def test_phone_is_not_saved_without_sms(stiply) -> None:
    _, session = stiply
    key = create_sign_request(session)
    body = {"signer_email": "a@example.com", "signer_signature_fields": [], "cell_phone_number": "31612345678"}
    assert session.post(f"{STIPLY}/sign_requests/{key}/signers", json=body).json()["data"]["phone"] is None


@pytest.mark.parametrize(
    ("setup", "method", "path", "status", "rule"),
    [
        ("sent", "POST", "/signers", 403, "not_sent"),
        ("new", "POST", "/actions/send", 403, "has_signer_with_signature_field"),
        ("sent", "POST", "/actions/send", 403, "not_sent"),
        ("new", "POST", "/actions/send_reminder", 403, "is_sent"),
        ("new", "POST", "/actions/extend_term", 403, "is_sent"),
        ("sent", "POST", "/actions/extend_term", 403, "term_expired"),
        ("sent", "GET", "/documents/actions/get_signed_document", 403, "all_signed"),
        ("sent", "GET", "/documents/actions/get_proof_document", 403, "all_signed"),
        ("deleted", "GET", "", 404, "sign_request_exists"),
        ("deleted", "POST", "/signers", 404, "sign_request_exists"),
        ("deleted", "POST", "/actions/send_reminder", 404, "sign_request_exists"),
    ],
)
def test_an_unmet_precondition_gets_its_documented_status_and_is_no_violation(
    stiply, setup: str, method: str, path: str, status: int, rule: str
) -> None:
    mock, session = stiply
    key = create_sign_request(session)
    if setup != "new":
        add_signer(session, key)
        session.post(f"{STIPLY}/sign_requests/{key}/actions/send")
    if setup == "deleted":
        assert session.delete(f"{STIPLY}/sign_requests/{key}").status_code == 200
    body = {"signer_email": "b@example.com", "signer_signature_fields": []} if path == "/signers" else {"term": "1w"}
    answer = session.request(method, f"{STIPLY}/sign_requests/{key}{path}", json=body if method == "POST" else None)
    assert (answer.status_code, answer.headers["X-Esign-Contracts-Rule"]) == (status, rule)
    assert mock.violations == []
    assert mock.journal.entries(outcome="refused")[-1].rule == rule


def test_extend_term_succeeds_once_the_term_has_expired(stiply) -> None:
    mock, session = stiply
    key = create_sign_request(session)
    add_signer(session, key)
    session.post(f"{STIPLY}/sign_requests/{key}/actions/send")
    mock.control.expire_term(key)
    answer = session.post(f"{STIPLY}/sign_requests/{key}/actions/extend_term", json={"term": "2d"})
    terms = conforms(answer, "extendTerm")["data"]["sign_request"]["terms"]
    assert [(t["term_code"], t["term_expired"]) for t in terms] == [("2w", 1), ("2d", 0)]
    progress = answer.json()["data"]["sign_request"]["signers"][0]["signer_progresses"]
    assert progress[-1]["action"] == "mail_term_extended_sent"


def test_reminders_add_progress_and_update_signer_changes_the_email(stiply) -> None:
    _, session = stiply
    key = create_sign_request(session)
    signer = add_signer(session, key)
    session.post(f"{STIPLY}/sign_requests/{key}/actions/send")
    reminded = conforms(session.post(f"{STIPLY}/sign_requests/{key}/actions/send_reminder", json={}), "sendReminder")
    actions = [p["action"] for p in reminded["data"]["sign_request"]["signers"][0]["signer_progresses"]]
    assert actions == ["mail_signrequest_sent", "mail_reminder_sent"]
    url = f"{STIPLY}/sign_requests/{key}/signers/{signer}"
    updated = conforms(session.put(url, json={"new_email": "new@example.com"}), "updateSigner")
    assert updated["data"][0]["email"] == "new@example.com"
    assert conforms(session.get(url), "getSigner")["data"][0]["email"] == "new@example.com"


def test_documents_exist_once_all_have_signed_and_signed_signers_cannot_be_updated(stiply) -> None:
    mock, session = stiply
    key = create_sign_request(session)
    first, second = add_signer(session, key), add_signer(session, key, "two@example.com")
    session.post(f"{STIPLY}/sign_requests/{key}/actions/send")
    mock.control.sign(key)
    assert session.get(f"{STIPLY}/sign_requests/{key}/documents/actions/get_signed_document").status_code == 403
    progress = session.get(f"{STIPLY}/sign_requests/{key}/signers/{second}").json()["data"][0]["signer_progresses"]
    assert [p["action"] for p in progress] == ["mail_signrequest_sent"]  # the next signer is invited
    mock.control.sign_all(key)
    for name in ("get_signed_document", "get_proof_document"):
        answer = session.get(f"{STIPLY}/sign_requests/{key}/documents/actions/{name}")
        assert conforms(answer, "getSignedDocument")["mimeType"] == "application/pdf"
    request = session.get(f"{STIPLY}/sign_requests/{key}").json()["data"]["sign_request"]
    assert request["all_signed"] == 1 and request["signed_hash"]
    update = session.put(f"{STIPLY}/sign_requests/{key}/signers/{first}", json={"new_email": "x@example.com"})
    assert (update.status_code, update.headers["X-Esign-Contracts-Rule"]) == (403, "signer_not_signed")


def test_external_keys_are_unique_and_resolve_until_deleted(stiply) -> None:
    _, session = stiply
    key = create_sign_request(session, external_key="crm-42")
    again = session.post(
        f"{STIPLY}/sign_requests", files={"file": ("b.pdf", PDF, "application/pdf")},
        data={"term": "2w", "external_key": "crm-42"},
    )  # fmt: skip
    assert (again.status_code, again.headers["X-Esign-Contracts-Rule"]) == (400, "external_key_unique")
    found = conforms(session.post(f"{STIPLY}/sign_requests/crm-42/actions/get_sign_request_key"), "getSignRequestKey")
    assert found == {"key": key, "status_code": "200"}
    session.delete(f"{STIPLY}/sign_requests/{key}")
    assert session.post(f"{STIPLY}/sign_requests/crm-42/actions/get_sign_request_key").status_code == 404


def test_signers_can_be_deleted_only_before_send(stiply) -> None:
    _, session = stiply
    key = create_sign_request(session)
    doomed, kept = add_signer(session, key), add_signer(session, key, "kept@example.com")
    assert session.delete(f"{STIPLY}/sign_requests/{key}/signers/{doomed}").json()["status_code"] == "200"
    assert session.get(f"{STIPLY}/sign_requests/{key}/signers/{doomed}").status_code == 404
    session.post(f"{STIPLY}/sign_requests/{key}/actions/send")
    assert session.delete(f"{STIPLY}/sign_requests/{key}/signers/{kept}").status_code == 422


@pytest.mark.parametrize(
    ("request_kwargs", "status", "rule", "pointer"),
    [
        ({"json": {"signer_signature_fields": []}}, 400, "request schema", "/required"),
        ({"json": {"signer_email": "a@b.nl", "signer_signature_fields": [{"page": 1, "x": 517, "y": 0}]}}, 400,
         "request schema", "maximum"),
        ({"json": {"signer_email": "a@b.nl", "signer_signature_fields": [], "auth_method": "sms"}}, 400,
         "request schema", "cell_phone_number"),
        ({"data": b"{not json", "headers": {"Content-Type": "application/json"}}, 400, "JSON", "requestBody"),
        ({"data": b"signer_email=a@b.nl", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, 400,
         "content type", "requestBody/content"),
    ],
)  # fmt: skip
def test_a_request_that_breaks_the_spec_is_refused_and_reported(stiply, request_kwargs, status, rule, pointer) -> None:
    mock, session = stiply
    key = create_sign_request(session)
    answer = session.post(f"{STIPLY}/sign_requests/{key}/signers", **request_kwargs)
    assert answer.status_code == status and answer.json()["message"].startswith("Wrong parameter")
    (violation,) = mock.violations
    assert (violation.operation, violation.rule) == ("createSigner", rule)
    assert pointer in violation.spec_pointer + violation.detail
    assert CONTRACT.resolve(violation.spec_pointer) is not None  # the pointer names a place in the spec
    assert violation.source == "Stiply API v1 > Create signer"


def test_a_file_of_another_type_gets_415(stiply) -> None:
    mock, session = stiply
    answer = session.post(
        f"{STIPLY}/sign_requests", files={"file": ("notes.txt", b"hi", "text/plain")}, data={"term": "2w"}
    )
    assert answer.status_code == 415 and answer.json()["message"].startswith("Wrong media file type")
    assert mock.violations[0].rule == "file type"


def test_a_docx_sent_as_octet_stream_is_accepted_by_its_name(stiply) -> None:
    _, session = stiply
    files = {"file": ("contract.docx", b"PK\x03\x04", "application/octet-stream")}
    assert session.post(f"{STIPLY}/sign_requests", files=files, data={"term": "3m"}).status_code == 200


def test_credentials_missing_is_a_violation_wrong_is_only_refused(stiply) -> None:
    mock, _ = stiply
    missing = requests.post(f"{STIPLY}/actions/ping", json={"ping_value": "pong"})
    wrong = requests.post(f"{STIPLY}/actions/ping", json={"ping_value": "pong"}, auth=("stiply-user", "nope"))
    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert missing.headers["WWW-Authenticate"].startswith("Basic")
    assert [v.rule for v in mock.violations] == ["credentials"]
    assert [e.outcome for e in mock.journal] == ["unauthenticated", "unauthenticated"]


def test_an_undocumented_path_gets_404_with_the_nearest_operations(stiply) -> None:
    mock, session = stiply
    answer = session.get(f"{STIPLY}/sign_requests/abc/signer")
    assert answer.status_code == 404
    assert "nearest: " in answer.json()["message"] and "(getSigner)" in mock.violations[0].detail


def test_a_documented_path_with_another_method_gets_405_and_allow(stiply) -> None:
    mock, session = stiply
    answer = session.get(f"{STIPLY}/sign_requests/abc/actions/send_reminder")  # as public GET wrappers do
    assert (answer.status_code, answer.headers["Allow"]) == (405, "POST")
    assert mock.violations[0].rule == "documented operation"


def test_ping_echoes_its_value(stiply) -> None:
    _, session = stiply
    answer = conforms(session.post(f"{STIPLY}/actions/ping", json={"ping_value": "pong"}), "ping")
    assert answer == {"ping_value": "pong", "status_code": "200"}


def test_control_actions_refuse_what_cannot_happen_and_name_what_exists() -> None:
    mock = Mock("stiply")
    with pytest.raises(ControlError, match="no sign request 'nope'"):
        mock.control.sign_all("nope")
    with pytest.raises(AttributeError, match="available: add_sign_request, expire_term, reset, sign, sign_all"):
        _ = mock.control.teleport
    answer = mock.handle(Request.from_url("POST", f"{STIPLY}/actions/ping", {"Authorization": "Basic eA=="}, b"{}"))
    assert answer.status == 401


def test_reset_forgets_state_and_journal(stiply) -> None:
    mock, session = stiply
    key = create_sign_request(session)
    mock.reset()
    assert session.get(f"{STIPLY}/sign_requests/{key}").status_code == 404
    assert len(mock.journal) == 1


def test_seeded_mocks_hand_out_the_same_keys() -> None:
    keys = []
    for _ in range(2):
        mock = Mock("stiply", seed=3)
        session = requests.Session()
        session.auth = mock.credentials["basicAuth"]
        from esign_contracts.mocks import InProcess

        with InProcess([mock]):
            keys.append(create_sign_request(session))
    assert keys[0] == keys[1] and len(keys[0]) == 50


def test_the_call_back_url_is_called_with_the_key_when_the_last_signer_has_signed(stiply) -> None:
    import responses as rsps

    mock, session = stiply
    key = create_sign_request(session, call_back_url="https://client.example/hook?src=stiply")
    add_signer(session, key)
    add_signer(session, key, "second@example.com")
    assert session.post(f"{STIPLY}/sign_requests/{key}/actions/send").status_code == 200
    seen = []
    mock.responses.add_callback(  # type: ignore[attr-defined]
        rsps.GET, "https://client.example/hook", callback=lambda r: seen.append(r.url) or (200, {}, b"")
    )
    mock.control.sign(key)
    assert seen == []  # one signer left: not yet
    mock.control.sign(key)
    assert seen == [f"https://client.example/hook?src=stiply&key={key}"]
    (entry,) = mock.journal.entries(operation="callback.callBack")
    assert (entry.method, entry.status, entry.outcome) == ("GET", 200, "delivered")
