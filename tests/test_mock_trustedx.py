"""The TrustedX mock behaves as the docs and notes say: tokens and scopes, the result of a process, refusals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import requests

from esign_contracts.contracts.conformance import response_problems
from esign_contracts.mocks import ControlError, InProcess, Mock, Response
from esign_contracts.specs import load_contract

CONTRACT = load_contract("trustedx")
HOST = "https://trustedx.example"
TOKEN_URL = f"{HOST}/trustedx-authserver/oauth/main-as/token"
PROCESSES = f"{HOST}/trustedx-resources/esignsp/v2/signer_processes"
SCOPE = "urn:safelayer:eidas:sign:process:document"
RULE = "X-Esign-Contracts-Rule"


class Clock:
    """A clock the test moves by hand (token expiry)."""

    def __init__(self) -> None:
        self.moment = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.moment


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def trustedx(clock: Clock) -> Iterator[tuple[Mock, requests.Session]]:
    """A fresh TrustedX mock, and a session holding a token from its token endpoint."""
    mock = Mock("trustedx", seed=7, clock=clock)
    session = requests.Session()
    with InProcess([mock]):
        session.headers["Authorization"] = f"Bearer {fetch_token(mock)}"
        yield mock, session


def fetch_token(mock: Mock, scope: str | None = SCOPE) -> str:
    form = {"grant_type": "client_credentials", **({"scope": scope} if scope is not None else {})}
    answer = requests.post(TOKEN_URL, auth=mock.credentials["clientBasic"], data=form)
    return conforms(answer, "requestToken")["access_token"]


def conforms(answer: requests.Response, operation_id: str) -> dict:
    """The answer's body, after checking it against the documented response for its status."""
    operation = CONTRACT.operation(operation_id)
    assert answer.status_code in operation.statuses, answer.status_code
    response = Response(answer.status_code, answer.content, dict(answer.headers))
    problems, body = response_problems(CONTRACT, operation, response)
    assert problems == []
    documented = operation.raw["responses"][str(answer.status_code)]
    if "$ref" in documented:  # the error responses are shared components (response_problems does not follow $ref)
        pointer = documented["$ref"][1:]
        assert answer.headers["Content-Type"] == "application/json"
        body = answer.json()
        assert CONTRACT.validator(f"{pointer}/content/application~1json/schema").is_valid(body), body
        for header in CONTRACT.resolve(pointer).get("headers", {}):
            assert header in answer.headers, header
    return body


def create_process(session: requests.Session) -> str:
    answer = session.post(PROCESSES, json={})
    assert answer.status_code == 201, answer.text
    return conforms(answer, "createSignerProcess")["id"]


# -- the documented flow ---------------------------------------------------------------------------------------------


def test_a_token_holds_the_requested_scope_for_the_documented_lifetime(trustedx) -> None:
    mock, _ = trustedx
    answer = requests.post(
        TOKEN_URL, auth=mock.credentials["clientBasic"], data={"grant_type": "client_credentials", "scope": SCOPE}
    )
    body = conforms(answer, "requestToken")
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 600, SCOPE)
    assert body["access_token"] in mock.model.tokens
    assert mock.model.tokens[body["access_token"]].scopes == {SCOPE}


def test_the_flow_create_establish_the_result_read_it_delete(trustedx) -> None:
    mock, session = trustedx
    process = create_process(session)
    assert conforms(session.get(f"{PROCESSES}/{process}"), "getSignerProcess") == {"id": process}
    result = {"status": "failed_documents", "details": {"message": "2 of 3 documents signed"}}
    assert conforms(session.put(f"{PROCESSES}/{process}/result", json=result), "setSignerProcessResult") == result
    assert conforms(session.get(f"{PROCESSES}/{process}/result"), "getSignerProcessResult") == result
    deleted = session.delete(f"{PROCESSES}/{process}")
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert mock.model.live_identifiers("signature_process_id") == []
    assert mock.violations == []


def test_the_put_echoes_the_request_object_and_the_result_keeps_the_documented_fields(trustedx) -> None:
    _, session = trustedx
    process = create_process(session)
    sent = {"status": "canceled", "details": {"message": "by the signer", "code": 7}, "reference": "x-1"}
    assert session.put(f"{PROCESSES}/{process}/result", json=sent).json() == sent  # docs: the object of the request
    kept = session.get(f"{PROCESSES}/{process}/result").json()
    assert kept == {"status": "canceled", "details": {"message": "by the signer"}}  # assumption result_representation


def test_a_result_can_be_established_again_and_replaces_the_first(trustedx) -> None:
    mock, session = trustedx
    process = create_process(session)
    session.put(f"{PROCESSES}/{process}/result", json={"status": "failed"})
    again = session.put(f"{PROCESSES}/{process}/result", json={"status": "finished"})
    assert again.status_code == 200  # assumption result_set_twice
    assert session.get(f"{PROCESSES}/{process}/result").json() == {"status": "finished"}
    assert mock.violations == []


def test_create_takes_no_body_and_keeps_nothing_of_one(trustedx) -> None:
    mock, session = trustedx
    bare = session.post(PROCESSES)
    full = session.post(PROCESSES, json={"documents": [{"name": "a.pdf"}], "status": "finished"})
    assert (bare.status_code, full.status_code) == (201, 201)
    assert full.json() == {"id": full.json()["id"]} and bare.json()["id"] != full.json()["id"]
    assert sorted(mock.model.live_identifiers("signature_process_id")) == sorted([bare.json()["id"], full.json()["id"]])
    assert session.get(f"{PROCESSES}/{full.json()['id']}/result").status_code == 404  # no result from the body


# -- documented refusals (not client mistakes) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setup", "method", "path", "status", "rule"),
    [
        ("deleted", "GET", "", 404, "process_exists"),
        ("deleted", "DELETE", "", 404, "process_exists"),
        ("deleted", "PUT", "/result", 410, "process_exists"),
        ("deleted", "GET", "/result", 410, "process_exists"),
        ("new", "GET", "/result", 404, "result_established"),
    ],
)
def test_an_unmet_precondition_gets_its_status_and_is_no_violation(
    trustedx, setup: str, method: str, path: str, status: int, rule: str
) -> None:
    mock, session = trustedx
    process = create_process(session)
    if setup == "deleted":
        assert session.delete(f"{PROCESSES}/{process}").status_code == 204
    body = {"status": "finished"} if method == "PUT" else None
    answer = session.request(method, f"{PROCESSES}/{process}{path}", json=body)
    assert (answer.status_code, answer.headers[RULE]) == (status, rule)
    (expected,) = [p.rule for op in CONTRACT.operations for p in op.preconditions if p.id == rule][:1]
    # assumption error_body: no code for these rules; what failed, in the docs' words for the status, then the rule
    (description,) = answer.json().values()
    assert list(answer.json()) == ["error_description"] and description.endswith(f" (the rule: {expected})")
    assert not description.startswith("(")
    assert mock.violations == []
    assert mock.journal.entries(outcome="refused")[-1].rule == rule


def test_another_grant_type_gets_the_rfc_6749_error_and_is_no_violation(trustedx) -> None:
    mock, _ = trustedx
    answer = requests.post(TOKEN_URL, auth=mock.credentials["clientBasic"], data={"grant_type": "password"})
    assert (answer.status_code, answer.headers[RULE]) == (400, "grant_type_supported")
    assert conforms(answer, "requestToken")["error"] == "unsupported_grant_type"
    assert mock.violations == []


# -- tokens and scopes (RFC 6750) ------------------------------------------------------------------------------------


def test_a_token_without_the_scope_gets_403_insufficient_scope_and_is_no_violation(trustedx) -> None:
    mock, _ = trustedx
    bare = fetch_token(mock, scope=None)
    other = fetch_token(mock, scope="urn:example:other")
    for token in (bare, other):
        answer = requests.post(PROCESSES, json={}, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 403
        assert answer.headers["WWW-Authenticate"] == f'Bearer error="insufficient_scope", scope="{SCOPE}"'
        assert conforms(answer, "createSignerProcess")["error"] == "insufficient_scope"
    unscoped = requests.post(TOKEN_URL, auth=mock.credentials["clientBasic"], data={"grant_type": "client_credentials"})
    assert "scope" not in unscoped.json()  # assumption token_grants_requested_scope
    assert mock.violations == []
    assert mock.model.live_identifiers("signature_process_id") == []


def test_a_token_with_several_scopes_including_the_documented_one_is_accepted(trustedx) -> None:
    mock, _ = trustedx
    token = fetch_token(mock, scope=f"openid {SCOPE}")
    answer = requests.post(PROCESSES, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 201


def test_no_token_is_a_client_mistake_a_wrong_or_expired_token_only_a_refusal(trustedx, clock: Clock) -> None:
    mock, session = trustedx
    url = f"{PROCESSES}/unknown/result"
    missing = requests.get(url)
    assert (missing.status_code, missing.headers["WWW-Authenticate"]) == (401, "Bearer")
    assert conforms(missing, "getSignerProcessResult") == {"error_description": "Unauthorized"}  # RFC 6750 3.1
    wrong = requests.get(url, headers={"Authorization": "Bearer not-a-token"})
    assert (wrong.status_code, wrong.headers["WWW-Authenticate"]) == (401, 'Bearer error="invalid_token"')
    assert wrong.json()["error"] == "invalid_token"
    assert session.get(url).status_code == 410  # the session's token works
    clock.moment += dt.timedelta(seconds=599)
    assert session.get(url).status_code == 410
    clock.moment += dt.timedelta(seconds=1)
    expired = session.get(url)
    assert (expired.status_code, expired.headers["WWW-Authenticate"]) == (401, 'Bearer error="invalid_token"')
    assert [v.rule for v in mock.violations] == ["credentials"]
    assert [e.outcome for e in mock.journal.entries(operation="getSignerProcessResult")] == [
        "unauthenticated",
        "unauthenticated",
        "refused",
        "refused",
        "unauthenticated",
    ]


def test_the_configured_token_is_accepted_with_every_scope(trustedx) -> None:
    mock, _ = trustedx
    assert mock.credentials["bearerToken"] == "trustedx-token"
    answer = requests.post(PROCESSES, headers={"Authorization": "Bearer trustedx-token"})
    assert answer.status_code == 201 and mock.violations == []


def test_the_token_endpoint_needs_the_client_by_basic(trustedx) -> None:
    mock, _ = trustedx
    form = {"grant_type": "client_credentials", "scope": SCOPE}
    in_body = requests.post(
        TOKEN_URL, data={**form, "client_id": "trustedx-client", "client_secret": "trustedx-secret"}
    )
    wrong = requests.post(TOKEN_URL, auth=("trustedx-client", "nope"), data=form)
    for answer in (in_body, wrong):
        assert (answer.status_code, answer.headers["WWW-Authenticate"]) == (401, 'Basic realm="api"')
        assert conforms(answer, "requestToken")["error"] == "invalid_client"
    assert [(v.operation, v.rule) for v in mock.violations] == [("requestToken", "credentials")]


def test_credentials_given_to_the_mock_replace_the_defaults() -> None:
    mock = Mock("trustedx", credentials={"clientBasic": ("me", "secret"), "bearerToken": "mine"})
    with InProcess([mock]):
        form = {"grant_type": "client_credentials", "scope": SCOPE}
        assert requests.post(TOKEN_URL, auth=("trustedx-client", "trustedx-secret"), data=form).status_code == 401
        assert requests.post(TOKEN_URL, auth=("me", "secret"), data=form).status_code == 200
        assert requests.post(PROCESSES, headers={"Authorization": "Bearer trustedx-token"}).status_code == 401
        assert requests.post(PROCESSES, headers={"Authorization": "Bearer mine"}).status_code == 201


# -- client mistakes: reported as violations ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_kwargs", "rule", "pointer"),
    [
        ({"json": {"status": "done"}}, "request schema", "/components/schemas/SignerProcessResult/properties/status"),
        ({"json": {"details": {"message": "x"}}}, "request schema", "/components/schemas/SignerProcessResult"),
        ({"json": {"status": "failed", "details": "x"}}, "request schema", "details"),
        ({"json": ["finished"]}, "request schema", "/components/schemas/SignerProcessResult"),
        ({"data": b"{not json", "headers": {"Content-Type": "application/json"}}, "JSON", "requestBody"),
        ({"data": {"status": "finished"}}, "content type", "requestBody"),
        ({}, "request body", "requestBody"),
    ],
)
def test_a_result_that_breaks_the_spec_gets_400_and_is_reported(trustedx, request_kwargs, rule, pointer) -> None:
    mock, session = trustedx
    process = create_process(session)
    answer = session.put(f"{PROCESSES}/{process}/result", **request_kwargs)
    assert (answer.status_code, answer.headers[RULE]) == (400, rule)
    assert answer.json()["error_description"].startswith("Bad request") and "error" not in answer.json()
    (violation,) = mock.violations
    assert (violation.operation, violation.rule) == ("setSignerProcessResult", rule)
    assert pointer in violation.spec_pointer
    assert CONTRACT.resolve(violation.spec_pointer) is not None
    assert violation.source == "TrustedX eSignSP v2 > SignerProcessResultUpdate"
    assert session.get(f"{PROCESSES}/{process}/result").status_code == 404  # nothing was established


def test_a_token_request_without_grant_type_is_an_rfc_6749_invalid_request(trustedx) -> None:
    mock, _ = trustedx
    answer = requests.post(TOKEN_URL, auth=mock.credentials["clientBasic"], data={"scope": SCOPE})
    assert answer.status_code == 400 and conforms(answer, "requestToken")["error"] == "invalid_request"
    assert [(v.operation, v.rule) for v in mock.violations] == [("requestToken", "request schema")]


def test_a_create_body_that_is_not_an_object_is_reported(trustedx) -> None:
    mock, session = trustedx
    assert session.post(PROCESSES, json=["a.pdf"]).status_code == 400
    assert [(v.operation, v.rule) for v in mock.violations] == [("createSignerProcess", "request schema")]


def test_a_method_the_docs_do_not_give_gets_405(trustedx) -> None:
    mock, session = trustedx
    answer = session.post(f"{PROCESSES}/p1/result", json={"status": "finished"})
    assert (answer.status_code, answer.headers["Allow"]) == (405, "GET, PUT")
    assert mock.violations[0].rule == "documented operation"


# -- control actions -------------------------------------------------------------------------------------------------


def test_finish_establishes_the_result_as_the_platform_would(trustedx) -> None:
    mock, session = trustedx
    first, second = create_process(session), create_process(session)
    mock.control.finish(first)
    mock.control.finish(signature_process_id=second, status="canceled")
    assert conforms(session.get(f"{PROCESSES}/{first}/result"), "getSignerProcessResult") == {"status": "finished"}
    assert session.get(f"{PROCESSES}/{second}/result").json() == {"status": "canceled"}
    assert [e.operation for e in mock.journal.entries(outcome="control")] == ["control.finish", "control.finish"]


def test_finish_refuses_what_cannot_happen(trustedx) -> None:
    mock, session = trustedx
    process = create_process(session)
    with pytest.raises(ControlError, match="'done' is not a documented result status"):
        mock.control.finish(process, status="done")
    with pytest.raises(ControlError, match="no signature process 'nope'"):
        mock.control.finish("nope")
    session.put(f"{PROCESSES}/{process}/result", json={"status": "failed"})
    with pytest.raises(ControlError, match="has a result already"):
        mock.control.finish(process)
    assert session.get(f"{PROCESSES}/{process}/result").json() == {"status": "failed"}
    with pytest.raises(AttributeError, match="available: add_signature_process, finish, reset"):
        _ = mock.control.sign


def test_reset_forgets_processes_but_not_issued_tokens(trustedx) -> None:
    mock, session = trustedx
    process = create_process(session)
    mock.reset()
    answer = session.get(f"{PROCESSES}/{process}")  # the session's token still works
    assert (answer.status_code, answer.headers[RULE]) == (404, "process_exists")
    assert mock.model.live_identifiers("signature_process_id") == []


def test_seeded_mocks_hand_out_the_same_tokens_and_process_ids() -> None:
    seen = []
    for _ in range(2):
        mock = Mock("trustedx", seed=3)
        with InProcess([mock]):
            token = fetch_token(mock)
            created = requests.post(PROCESSES, headers={"Authorization": f"Bearer {token}"})
            seen.append((token, created.json()["id"]))
    assert seen[0] == seen[1] and seen[0][0] != seen[0][1]
