"""The Ignisign mock behaves as the docs and notes say: the SDK life cycle, refusals with their codes, violations."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from esign_contracts.contracts.conformance import response_problems
from esign_contracts.mocks import ControlError, InProcess, Mock, Response
from esign_contracts.specs import load_contract

IGNISIGN = "https://api.ignisign.io"
APP = f"{IGNISIGN}/v3/applications/ignisign-app/envs/DEVELOPMENT"
CONTRACT = load_contract("ignisign")
RULE = "X-Esign-Contracts-Rule"


def conforms(answer: requests.Response, operation_id: str) -> Any:
    """The answer's body, after checking its status is documented and its body matches that response."""
    operation = CONTRACT.operation(operation_id)
    assert answer.status_code in operation.statuses, answer.text
    problems, body = response_problems(CONTRACT, operation, Response(answer.status_code, answer.content, {
        "Content-Type": answer.headers.get("Content-Type", "")}))  # fmt: skip
    assert problems == []
    return body


def refused(answer: requests.Response, operation_id: str, status: int, rule: str, code: str | None) -> None:
    body = conforms(answer, operation_id)
    assert (answer.status_code, answer.headers[RULE]) == (status, rule)
    assert (body["status"], body["code"], body["context"]) == (status, code, {})
    assert body["message"] and body["timestamp"].endswith("Z")


def login(mock: Mock) -> requests.Session:
    answer = requests.post(f"{IGNISIGN}/v3/auth/app-api", json=mock.credentials["bearerAuth"])
    token = conforms(answer, "authenticateApp")["jwtToken"]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2024, 3, 12, 10, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ignisign(clock: Clock) -> Iterator[tuple[Mock, requests.Session]]:
    """A fresh Ignisign mock behind `responses`, and a session holding a token of its application."""
    mock = Mock("ignisign", seed=7, clock=clock)
    with InProcess([mock]):
        yield mock, login(mock)


def init(session: requests.Session, profile: str = "profile-1") -> str:
    answer = session.post(f"{APP}/signature-requests", json={"signatureProfileId": profile})
    return conforms(answer, "initSignatureRequest")["signatureRequestId"]


def update(session: requests.Session, request_id: str, **fields: Any) -> dict[str, Any]:
    answer = session.put(f"{IGNISIGN}/v3/signature-requests/{request_id}", json=fields)
    assert answer.status_code == 200, answer.text
    return conforms(answer, "updateSignatureRequest")


def context(session: requests.Session, request_id: str) -> dict[str, Any]:
    return conforms(session.get(f"{IGNISIGN}/v3/signature-requests/{request_id}/context"), "getSignatureRequestContext")


def published(session: requests.Session, signers: tuple[str, ...] = ("signer-1",), **fields: Any) -> str:
    request_id = init(session)
    update(session, request_id, documentIds=["doc-1"], signerIds=list(signers), **fields)
    answer = session.post(f"{IGNISIGN}/v3/signature-requests/{request_id}/publish", json={})
    assert conforms(answer, "publishSignatureRequest") == {"signatureRequestId": request_id}
    return request_id


# -- the SDK life cycle -----------------------------------------------------------------------------------------------


def test_the_sdk_life_cycle_init_update_publish_context_close(ignisign) -> None:
    mock, session = ignisign
    assert conforms(session.get(f"{APP}/webhooks"), "listWebhooks") == []
    request_id = init(session, "profile-42")
    draft = update(session, request_id, title="Licence", documentIds=["doc-1"], signerIds=["signer-1"])
    assert (draft["_id"], draft["status"], draft["title"], draft["signatureProfileId"]) == (
        request_id,
        "DRAFT",
        "Licence",
        "profile-42",
    )
    assert draft["signers"] == [{"signerId": "signer-1", "status": "CREATED"}]
    publish = session.post(f"{IGNISIGN}/v3/signature-requests/{request_id}/publish", json={})
    assert conforms(publish, "publishSignatureRequest") == {"signatureRequestId": request_id}
    sent = context(session, request_id)
    assert sent["status"] == "IN_PROGRESS" and sent["signers"] == [{"signerId": "signer-1", "status": "PENDING"}]
    assert {k: v for k, v in sent.items() if k not in ("status", "signers")} == {
        k: v for k, v in draft.items() if k not in ("status", "signers")
    }
    close = session.post(f"{IGNISIGN}/v3/signature-requests/{request_id}/close", json={})
    assert conforms(close, "closeSignatureRequest") == {"signatureRequestId": request_id}
    assert context(session, request_id)["status"] == "CANCELLED"
    assert mock.violations == []
    assert [e.operation for e in mock.journal][-3:] == [
        "getSignatureRequestContext",
        "closeSignatureRequest",
        "getSignatureRequestContext",
    ]


def test_a_new_request_is_a_draft_with_the_documented_default_and_nothing_unset(ignisign) -> None:
    _, session = ignisign
    request_id = init(session)
    fresh = context(session, request_id)
    assert (fresh["status"], fresh["diffusionMode"], fresh["appId"], fresh["appEnv"]) == (
        "DRAFT",
        "WHEN_READY",
        "ignisign-app",
        "DEVELOPMENT",
    )
    assert (fresh["signers"], fresh["documents"], fresh["signedBy"]) == ([], [], [])
    for unset in ("title", "description", "language", "documentIds", "signerIds", "statements", "externalId"):
        assert unset not in fresh
    profile = fresh["signatureProfile"]
    assert (profile["_id"], profile["appId"], profile["status"]) == ("profile-1", "ignisign-app", "PUBLISHED")
    assert set(profile["applicationMetadata"]["colors"]) == {"primary", "secondary"}


def test_the_update_is_partial_and_ignores_unknown_fields(ignisign) -> None:
    mock, session = ignisign
    request_id = init(session)
    update(session, request_id, title="First", language="FR", documentIds=["doc-1"], recipients=["cc@example.com"])
    second = update(session, request_id, description="More", diffusionMode="SCHEDULED", unknownField=1)
    assert (second["title"], second["language"], second["description"], second["diffusionMode"]) == (
        "First",
        "FR",
        "More",
        "SCHEDULED",
    )
    assert second["documentIds"] == ["doc-1"] and second["recipients"] == ["cc@example.com"]
    assert "unknownField" not in second
    assert update(session, request_id, title="Second")["title"] == "Second"
    assert mock.violations == []


def test_documents_and_statements_are_rendered_for_the_ids_given(ignisign) -> None:
    _, session = ignisign
    request_id = init(session)
    statement = {
        "appId": "ignisign-app",
        "appEnv": "DEVELOPMENT",
        "signatureRequestId": request_id,
        "target": "DOCUMENT",
        "documentId": "doc-2",
        "labelMd": "I have **read** it",
    }
    general = {**statement, "target": "SIGNATURE_REQUEST", "documentId": "doc-1"}
    answer = update(session, request_id, documentIds=["doc-1", "doc-2"], statements=[statement, general])
    assert answer["statements"] == [statement, general]
    first, second = answer["documents"]
    assert (first["_id"], second["_id"]) == ("doc-1", "doc-2")
    assert first["statements"] == [] and second["statements"] == [statement]
    assert first["documentHash"] != second["documentHash"] and first["signatureRequestId"] == request_id
    assert (first["documentNature"], first["status"], first["signatureSummaries"]) == ("PDF", "PROVIDED", [])


# -- preconditions: refused with their status and code, and no violation ---------------------------------------------


def test_bad_application_credentials_get_401_without_a_code(ignisign) -> None:
    mock, _ = ignisign
    wrong = {**mock.credentials["bearerAuth"], "secret": "not-it"}
    answer = requests.post(f"{IGNISIGN}/v3/auth/app-api", json=wrong)
    refused(answer, "authenticateApp", 401, "app_credentials_valid", None)
    other_env = {**mock.credentials["bearerAuth"], "appEnv": "PRODUCTION"}
    refused(requests.post(f"{IGNISIGN}/v3/auth/app-api", json=other_env), "authenticateApp", 401,
            "app_credentials_valid", None)  # fmt: skip
    assert mock.violations == []


@pytest.mark.parametrize(
    "path", ["/v3/applications/other-app/envs/DEVELOPMENT", "/v3/applications/ignisign-app/envs/STAGING"]
)
@pytest.mark.parametrize(("method", "suffix", "operation_id"), [
    ("GET", "/webhooks", "listWebhooks"), ("POST", "/signature-requests", "initSignatureRequest")])  # fmt: skip
def test_another_applications_path_is_forbidden_for_the_token(ignisign, path, method, suffix, operation_id) -> None:
    mock, session = ignisign
    answer = session.request(method, f"{IGNISIGN}{path}{suffix}", json={"signatureProfileId": "p"})
    refused(answer, operation_id, 403, "application_matches_token", None)
    assert mock.violations == [] and mock.model.requests == {}


@pytest.mark.parametrize(
    ("method", "suffix", "operation_id"),
    [
        ("PUT", "", "updateSignatureRequest"),
        ("POST", "/publish", "publishSignatureRequest"),
        ("POST", "/close", "closeSignatureRequest"),
        ("GET", "/context", "getSignatureRequestContext"),
    ],
)
def test_an_unknown_request_is_not_found(ignisign, method: str, suffix: str, operation_id: str) -> None:
    mock, session = ignisign
    answer = session.request(method, f"{IGNISIGN}/v3/signature-requests/nope{suffix}", json={})
    refused(answer, operation_id, 404, "signature_request_exists", "SIGNATURE_REQUEST_NOT_FOUND")
    assert mock.violations == [] and mock.journal.entries(outcome="refused")[-1].rule == "signature_request_exists"


def test_another_applications_request_is_not_found(ignisign) -> None:
    mock, session = ignisign
    request_id = init(session)
    mock.credentials["bearerAuth"] = {"appId": "other-app", "appEnv": "DEVELOPMENT", "secret": "other-secret"}
    stranger = login(mock)
    refused(stranger.get(f"{IGNISIGN}/v3/signature-requests/{request_id}/context"), "getSignatureRequestContext",
            404, "signature_request_exists", "SIGNATURE_REQUEST_NOT_FOUND")  # fmt: skip
    assert context(session, request_id)["_id"] == request_id  # the first token's application still sees it
    assert mock.model.live_identifiers("appId") == ["other-app"]


def test_only_a_draft_can_be_updated_or_published(ignisign) -> None:
    _, session = ignisign
    request_id = published(session)
    url = f"{IGNISIGN}/v3/signature-requests/{request_id}"
    code = "SIGNATURE_REQUEST_BAD_STATUS"
    refused(session.put(url, json={"title": "late"}), "updateSignatureRequest", 400, "is_draft", code)
    refused(session.post(f"{url}/publish", json={}), "publishSignatureRequest", 400, "is_draft", code)
    assert "title" not in context(session, request_id)


@pytest.mark.parametrize(
    ("given", "rule", "code"),
    [
        ({}, "has_documents", None),  # both missing: documents come first in the docs
        ({"signerIds": ["s"]}, "has_documents", None),
        ({"documentIds": ["d"]}, "has_signers", "CANNOT_PUBLISH_SIGNATURE_REQUEST__NO_SIGNERS"),
        ({"documentIds": ["d"], "signerIds": []}, "has_signers", "CANNOT_PUBLISH_SIGNATURE_REQUEST__NO_SIGNERS"),
        ({"documentIds": [], "signerIds": ["s"]}, "has_documents", None),
    ],
)
def test_publish_needs_document_and_signer_ids_given_before(ignisign, given, rule, code) -> None:
    mock, session = ignisign
    request_id = init(session)
    update(session, request_id, **given)
    answer = session.post(f"{IGNISIGN}/v3/signature-requests/{request_id}/publish", json={})
    refused(answer, "publishSignatureRequest", 400, rule, code)
    assert context(session, request_id)["status"] == "DRAFT" and mock.violations == []


def test_ids_given_once_stay_given_across_later_updates(ignisign) -> None:
    _, session = ignisign
    request_id = init(session)
    update(session, request_id, documentIds=["d"])
    update(session, request_id, signerIds=["s"])
    update(session, request_id, title="no ids this time")
    answer = session.post(f"{IGNISIGN}/v3/signature-requests/{request_id}/publish")  # no body at all is accepted
    assert answer.status_code == 200 and context(session, request_id)["status"] == "IN_PROGRESS"


def test_close_ends_any_request_that_has_not_ended_and_only_once(ignisign) -> None:
    mock, session = ignisign
    draft = init(session)
    url = f"{IGNISIGN}/v3/signature-requests/{draft}/close"
    assert conforms(session.post(url, json={}), "closeSignatureRequest") == {"signatureRequestId": draft}
    code = "SIGNATURE_REQUEST_BAD_STATUS"
    refused(session.post(url, json={}), "closeSignatureRequest", 400, "not_ended", code)
    done = published(session)
    mock.control.sign(done)
    refused(session.post(f"{IGNISIGN}/v3/signature-requests/{done}/close", json={}), "closeSignatureRequest", 400,
            "not_ended", code)  # fmt: skip
    assert mock.violations == []


# -- time and control actions ----------------------------------------------------------------------------------------


def test_a_scheduled_request_is_ready_until_its_diffusion_date(ignisign, clock: Clock) -> None:
    mock, session = ignisign
    request_id = published(session, diffusionMode="SCHEDULED", diffusionDate="2024-03-13T09:00:00Z")
    assert context(session, request_id)["status"] == "READY"
    with pytest.raises(ControlError, match="is READY; a signer can sign only while it is IN_PROGRESS"):
        mock.control.sign(request_id)
    clock.now += dt.timedelta(days=1)
    assert context(session, request_id)["status"] == "IN_PROGRESS"
    mock.control.sign(request_id)
    assert context(session, request_id)["status"] == "COMPLETED"


def test_a_scheduled_request_without_a_date_stays_ready(ignisign, clock: Clock) -> None:
    mock, session = ignisign
    request_id = published(session, diffusionMode="SCHEDULED")
    clock.now += dt.timedelta(days=365)
    assert context(session, request_id)["status"] == "READY"
    mock.control.set_status(request_id, "IN_PROGRESS")
    assert context(session, request_id)["status"] == "IN_PROGRESS"


def test_signers_sign_in_turn_and_the_last_completes_the_request(ignisign, clock: Clock) -> None:
    mock, session = ignisign
    request_id = published(session, signers=("signer-1", "signer-2"))
    mock.control.sign(request_id, signer_id="signer-2")
    clock.now += dt.timedelta(minutes=5)
    half = context(session, request_id)
    assert (half["status"], half["signedBy"]) == ("IN_PROGRESS", ["signer-2"])
    (summary,) = half["documents"][0]["signatureSummaries"]
    assert (summary["signerId"], summary["date"]) == ("signer-2", "2024-03-12T10:00:00.000Z")
    mock.control.sign(request_id)
    done = context(session, request_id)
    assert (done["status"], done["signedBy"]) == ("COMPLETED", ["signer-2", "signer-1"])
    summaries = done["documents"][0]["signatureSummaries"]
    assert [s["date"] for s in summaries] == ["2024-03-12T10:00:00.000Z", "2024-03-12T10:05:00.000Z"]
    assert len({s["signatureId"] for s in summaries}) == 2
    with pytest.raises(ControlError, match="is COMPLETED; a signer can sign only"):
        mock.control.sign(request_id)


def test_sign_refuses_drafts_unknown_requests_and_unknown_or_signed_signers(ignisign) -> None:
    mock, session = ignisign
    draft = init(session)
    with pytest.raises(ControlError, match="is DRAFT; a signer can sign only while it is IN_PROGRESS"):
        mock.control.sign(draft)
    with pytest.raises(ControlError, match="no signature request 'nope'"):
        mock.control.sign("nope")
    request_id = published(session)
    with pytest.raises(ControlError, match="no unsigned signer 'stranger'; unsigned: signer-1"):
        mock.control.sign(request_id, signer_id="stranger")
    assert context(session, request_id)["signedBy"] == []


def test_set_status_takes_documented_statuses_only_and_refuses_a_no_op(ignisign) -> None:
    mock, session = ignisign
    request_id = init(session)
    with pytest.raises(ControlError, match="'CHILDREN_GERENATED' is not a documented"):
        mock.control.set_status(request_id, "CHILDREN_GERENATED")
    with pytest.raises(ControlError, match="is DRAFT already"):
        mock.control.set_status(request_id, "DRAFT")
    mock.control.set_status(request_id, "EXPIRED")
    assert context(session, request_id)["status"] == "EXPIRED"
    refused(session.post(f"{IGNISIGN}/v3/signature-requests/{request_id}/close", json={}), "closeSignatureRequest",
            400, "not_ended", "SIGNATURE_REQUEST_BAD_STATUS")  # fmt: skip
    assert [e.operation for e in mock.journal.entries(outcome="control")] == ["control.set_status"]


def test_live_requests_are_those_that_have_not_ended_and_the_application_is_live(ignisign) -> None:
    mock, session = ignisign
    kept, closed = init(session), init(session)
    session.post(f"{IGNISIGN}/v3/signature-requests/{closed}/close", json={})
    assert mock.model.live_identifiers("signatureRequestId") == [kept]
    assert (mock.model.live_identifiers("appId"), mock.model.live_identifiers("appEnv")) == (
        ["ignisign-app"],
        ["DEVELOPMENT"],
    )
    assert mock.model.live_identifiers("signerId") == []


def test_the_control_actions_are_sign_set_status_and_reset() -> None:
    mock = Mock("ignisign")
    assert mock.model.controls == ("add_signature_request", "reset", "set_status", "sign")
    with pytest.raises(AttributeError, match="available: add_signature_request, reset, set_status, sign"):
        _ = mock.control.expire


def test_reset_forgets_requests_but_not_the_token(ignisign) -> None:
    mock, session = ignisign
    request_id = init(session)
    assert mock.model.live_identifiers("signatureRequestId") == [request_id]
    mock.reset()
    assert session.get(f"{IGNISIGN}/v3/signature-requests/{request_id}/context").status_code == 404
    assert mock.model.live_identifiers("signature_request_id") == [] and init(session)


# -- client mistakes are violations; documented refusals are not ------------------------------------------------------


def test_no_bearer_header_is_a_violation_an_unknown_token_only_a_refusal(ignisign) -> None:
    mock, _ = ignisign
    missing = requests.get(f"{APP}/webhooks")
    refused(missing, "listWebhooks", 401, "credentials", "AUTH_HEADER_NOT_BEARER")
    basic = requests.get(f"{APP}/webhooks", auth=("ignisign-app", "ignisign-secret"))
    refused(basic, "listWebhooks", 401, "credentials", "AUTH_HEADER_NOT_BEARER")
    unknown = requests.get(f"{APP}/webhooks", headers={"Authorization": "Bearer not-issued"})
    refused(unknown, "listWebhooks", 401, "credentials", "INVALID_AUTH_JWT_TOKEN")
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert [v.rule for v in mock.violations] == ["credentials", "credentials"]


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"language": "ES"}, "language"),
        ({"diffusionMode": "LATER"}, "diffusionMode"),
        ({"expirationDate": "tomorrow"}, "expirationDate"),
        ({"title": "x" * 1025}, "title"),
        ({"statements": [{"appId": "a", "appEnv": "DEVELOPMENT", "signatureRequestId": "r"}]}, "statements"),
        ({"documentIds": "doc-1"}, "documentIds"),
    ],
)
def test_an_update_that_breaks_the_schema_is_refused_with_400_and_reported(ignisign, body, where) -> None:
    mock, session = ignisign
    request_id = init(session)
    answer = session.put(f"{IGNISIGN}/v3/signature-requests/{request_id}", json=body)
    refused(answer, "updateSignatureRequest", 400, "request schema", None)
    (violation,) = mock.violations
    assert (violation.operation, violation.rule) == ("updateSignatureRequest", "request schema")
    assert where in violation.detail and CONTRACT.resolve(violation.spec_pointer) is not None
    assert violation.source == "Ignisign API v3 > Update a Signature Request"
    after = context(session, request_id)
    assert all(after.get(key) != value for key, value in body.items())  # nothing was applied


@pytest.mark.parametrize(
    ("url", "body", "operation_id"),
    [
        (f"{IGNISIGN}/v3/auth/app-api", {"appId": "ignisign-app", "secret": "ignisign-secret"}, "authenticateApp"),
        (f"{IGNISIGN}/v3/auth/app-api", {"appId": "ignisign-app", "appEnv": "DEV", "secret": "s"}, "authenticateApp"),
        (f"{APP}/signature-requests", {}, "initSignatureRequest"),
    ],
)
def test_a_token_or_init_body_that_breaks_the_schema_is_a_violation(ignisign, url, body, operation_id) -> None:
    mock, session = ignisign
    refused(session.post(url, json=body), operation_id, 400, "request schema", None)
    assert [v.operation for v in mock.violations] == [operation_id]


def test_an_undocumented_app_env_in_the_path_is_a_violation(ignisign) -> None:
    mock, session = ignisign
    answer = session.get(f"{IGNISIGN}/v3/applications/ignisign-app/envs/TEST/webhooks")
    refused(answer, "listWebhooks", 400, "parameter", None)
    assert mock.violations[0].rule == "parameter"


def test_the_model_declares_its_preflight_and_its_compared_fields() -> None:
    model = Mock("ignisign").model
    assert model.preflight == "authenticateApp"
    assert "status" not in model.compared_fields and {"title", "signatureProfileId"} <= model.compared_fields
    assert {"documentIds", "signerIds"} <= model.compared_lists


def test_seeded_mocks_hand_out_the_same_identifiers() -> None:
    made = []
    for _ in range(2):
        mock = Mock("ignisign", seed=3)
        with InProcess([mock]):
            session = login(mock)
            made.append((session.headers["Authorization"], init(session)))
    assert made[0] == made[1]


def test_the_jwt_token_is_shaped_as_a_jwt_whose_payload_tells_when_it_expires() -> None:
    # The official SDK decodes the payload for `exp` to know when to renew (provider-notes > Ignisign > SDK).
    mock = Mock("ignisign", seed=1)
    with InProcess([mock]):
        body = {"appId": "ignisign-app", "appEnv": "DEVELOPMENT", "secret": "ignisign-secret"}
        token = requests.post("https://api.ignisign.io/v3/auth/app-api", json=body).json()["jwtToken"]
        header, payload, signature = token.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        assert json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["typ"] == "JWT"
        assert claims["exp"] > time.time() and signature
        hooks = requests.get(
            "https://api.ignisign.io/v3/applications/ignisign-app/envs/DEVELOPMENT/webhooks",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert hooks.status_code == 200 and hooks.json() == []
