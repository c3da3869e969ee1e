"""Seed control actions: a resource put in a state in one call, from Python and over HTTP (one implementation).

A seeded resource must then behave exactly like one made through the public API: the public GET renders it,
the documented refusals apply to it, a reset forgets it. A bad argument is refused naming what was wrong.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses

from esign_contracts.contracts.conformance import response_problems
from esign_contracts.contracts.serve import Running
from esign_contracts.mocks import ControlError, InProcess, Mock, Response
from esign_contracts.mocks.ignisign import STATUSES as IGNISIGN_STATUSES
from esign_contracts.mocks.trustedx import STATUSES as TRUSTEDX_STATUSES
from esign_contracts.specs import load_contract

from .conftest import PDF, STIPLY

RULE = "X-Esign-Contracts-Rule"
NEVER = "0000-00-00 00:00:00"
IGNISIGN = "https://api.ignisign.io"
OKDOKUMENT = "https://apidev.okdokument.com/JSON/signatureRequest"
TRUSTEDX = "https://trustedx.example/trustedx-resources/esignsp/v2/signer_processes"
HOOK = "https://client.example/sendInfo"
SMS_SIGNER = {
    "signer_email": "b@example.com",
    "signer_signature_fields": [{"page": 1, "x": 100, "y": 200}],
    "auth_method": "sms",
    "cell_phone_number": "31612345678",
}
SEEDS = {
    "stiply": "add_sign_request",
    "ignisign": "add_signature_request",
    "okdokument": "add_signature_request",
    "trustedx": "add_signature_process",
}


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2024, 3, 12, 10, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


def conforms(provider: str, operation_id: str, answer: requests.Response) -> Any:
    """The answer's body, after checking its status is documented and its body matches the spec."""
    contract = load_contract(provider)
    operation = contract.operation(operation_id)
    assert answer.status_code in operation.statuses, answer.text
    headers = {"Content-Type": answer.headers.get("Content-Type", "")}
    problems, body = response_problems(contract, operation, Response(answer.status_code, answer.content, headers))
    assert problems == []
    return body


def refused(answer: requests.Response, status: int, rule: str) -> None:
    assert (answer.status_code, answer.headers[RULE]) == (status, rule), answer.text


@pytest.fixture
def mocks() -> Iterator[dict[str, Mock]]:
    """A fresh mock of each REST provider behind `responses`, on one fixed clock."""
    clock = Clock()
    made = {name: Mock(name, seed=5, clock=clock) for name in SEEDS}
    with InProcess(made.values()) as in_process:
        made["okdokument"].responses = in_process.responses  # type: ignore[attr-defined]
        yield made


def stiply_session(mock: Mock) -> requests.Session:
    session = requests.Session()
    session.auth = mock.credentials["basicAuth"]
    return session


def ignisign_session(mock: Mock, base: str = IGNISIGN) -> requests.Session:
    answer = requests.post(f"{base}/v3/auth/app-api", json=mock.credentials["bearerAuth"], timeout=10)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {answer.json()['jwtToken']}"
    return session


# -- Stiply ----------------------------------------------------------------------------------------------------------


def test_a_seeded_sent_sign_request_is_what_get_returns_and_has_invited_its_first_signer(mocks) -> None:
    mock = mocks["stiply"]
    made = mock.control.add_sign_request(
        signers=["a@example.com", SMS_SIGNER], external_key="crm-7", term="1w", sent=True
    )
    key = made["sign_request_key"]
    session = stiply_session(mock)
    got = conforms("stiply", "getSignRequest", session.get(f"{STIPLY}/sign_requests/{key}"))
    assert got["data"] == made["data"]
    request = got["data"]["sign_request"]
    assert (request["key"], request["sent"], request["external_key"]) == (key, 1, "crm-7")
    assert request["terms"][0]["term_code"] == "1w" and request["terms"][0]["term_expires"] != NEVER
    first, second = request["signers"]
    assert [p["action"] for p in first["signer_progresses"]] == ["mail_signrequest_sent"]
    assert (second["signer_progresses"], second["phone"], second["auth_method"]) == ([], 31612345678, "sms")
    assert [s["key"] for s in made["signers"]] == [first["key"], second["key"]]
    answer = session.get(f"{STIPLY}/sign_requests/{key}/signers/{second['key']}")
    signer = conforms("stiply", "getSigner", answer)["data"][0]
    assert [f["type"] for f in signer["fields"]] == ["signature"]
    found = session.post(f"{STIPLY}/sign_requests/crm-7/actions/get_sign_request_key")
    assert conforms("stiply", "getSignRequestKey", found)["key"] == key


def test_the_documented_refusals_apply_to_a_seeded_sent_sign_request(mocks) -> None:
    mock = mocks["stiply"]
    key = mock.control.add_sign_request(signers=["a@example.com"], external_key="crm-8", sent=True)["sign_request_key"]
    session = stiply_session(mock)
    signer = {"signer_email": "late@example.com", "signer_signature_fields": [{"name": "signature1"}]}
    refused(session.post(f"{STIPLY}/sign_requests/{key}/signers", json=signer), 403, "not_sent")
    refused(session.post(f"{STIPLY}/sign_requests/{key}/actions/send"), 403, "not_sent")
    refused(session.get(f"{STIPLY}/sign_requests/{key}/documents/actions/get_signed_document"), 403, "all_signed")
    taken = session.post(
        f"{STIPLY}/sign_requests",
        files={"file": ("contract.pdf", PDF, "application/pdf")},
        data={"term": "2w", "external_key": "crm-8"},
    )
    refused(taken, 400, "external_key_unique")
    mock.control.sign_all(key)
    assert session.get(f"{STIPLY}/sign_requests/{key}/documents/actions/get_signed_document").status_code == 200


def test_a_seeded_unsent_sign_request_goes_on_through_the_public_api(mocks) -> None:
    mock = mocks["stiply"]
    key = mock.control.add_sign_request(signers=[])["sign_request_key"]
    session = stiply_session(mock)
    refused(session.post(f"{STIPLY}/sign_requests/{key}/actions/send"), 403, "has_signer_with_signature_field")
    signer = {"signer_email": "a@example.com", "signer_signature_fields": [{"name": "signature1"}]}
    assert session.post(f"{STIPLY}/sign_requests/{key}/signers", json=signer).status_code == 200
    assert conforms("stiply", "sendSignRequest", session.post(f"{STIPLY}/sign_requests/{key}/actions/send"))
    with pytest.raises(ControlError, match="has not been sent"):
        mock.control.sign(mock.control.add_sign_request(signers=["b@example.com"])["sign_request_key"])


def test_a_seeded_sent_sign_request_is_the_one_the_public_flow_makes(mocks) -> None:
    """Create, add the same signers, send through the API: the same answer but for keys and the document."""
    mock = mocks["stiply"]
    session = stiply_session(mock)
    custom = {"signer_email": "c@example.com", "signer_signature_fields": [], "invitation_method": "custom"}
    copy_only = {"signer_email": "d@example.com", "signer_signature_fields": [], "role": "cc"}
    signers = [custom, SMS_SIGNER, copy_only]
    created = session.post(
        f"{STIPLY}/sign_requests", files={"file": ("contract.pdf", PDF, "application/pdf")}, data={"term": "3m"}
    )
    key = created.json()["data"]["sign_request"]["key"]
    for body in signers:
        assert session.post(f"{STIPLY}/sign_requests/{key}/signers", json=body).status_code == 200
    public = session.post(f"{STIPLY}/sign_requests/{key}/actions/send").json()["data"]
    seeded = mock.control.add_sign_request(signers=signers, term="3m", sent=True)["data"]

    def without_keys(data: dict[str, Any]) -> dict[str, Any]:
        text = json.dumps(data["sign_request"])
        for item in [data["sign_request"]["key"], *(s["key"] for s in data["sign_request"]["signers"])]:
            text = text.replace(item, "KEY")
        return json.loads(text)

    assert without_keys(seeded) == without_keys(public)
    assert seeded["sign_request"]["signers"][0]["sign_url"]  # custom invitation: a sign link instead of a mail


def test_seeded_signers_keep_the_keys_given_and_every_refusal_changes_nothing(mocks) -> None:
    mock = mocks["stiply"]
    made = mock.control.add_sign_request(signers=[{"key": "signer-1", **SMS_SIGNER}], sign_request_key="sr-1")
    assert (made["sign_request_key"], made["signers"][0]["key"]) == ("sr-1", "signer-1")
    answer = stiply_session(mock).get(f"{STIPLY}/sign_requests/sr-1/signers/signer-1")
    assert conforms("stiply", "getSigner", answer)["data"][0]["email"] == "b@example.com"


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ({"signers": ["a@example.com"], "term": "2x"}, "term: '2x' does not match"),
        ({"signers": "a@example.com"}, "signers must be a list"),
        ({"signers": [7]}, "signers[0] must be a Create signer body or an e-mail address"),
        ({"signers": [{"signer_signature_fields": []}]}, "signers[0]: 'signer_email' is a required property"),
        ({"signers": ["not-an-address"]}, "signers[0]['signer_email']: 'not-an-address' is not a 'email'"),
        ({"signers": [{**SMS_SIGNER, "cell_phone_number": None}]}, "signers[0]['cell_phone_number']: None"),
        ({"signers": [{**SMS_SIGNER, "role": "boss"}]}, "signers[0]['role']: 'boss' is not one of ['cc']"),
        ({"signers": [{"key": "k", **SMS_SIGNER}, {"key": "k", **SMS_SIGNER}]}, "signers[1]['key'] 'k' exists"),
        ({"signers": [], "sent": True}, "sent=true needs what Send sign request needs: Sign request has at least"),
        ({"signers": ["a@example.com"], "sent": "yes"}, "sent must be true or false"),
        ({"signers": [], "external_key": "crm-1"}, "external_key 'crm-1' is taken by sign request 'sr-1'"),
        ({"signers": [], "sign_request_key": "sr-1"}, "sign_request_key 'sr-1' exists already"),
        ({"signers": [], "sign_request_key": "a/b"}, "sign_request_key must be a non-empty string without '/'"),
    ],
)
def test_a_bad_stiply_seed_is_refused_naming_the_argument(mocks, arguments: dict[str, Any], words: str) -> None:
    mock = mocks["stiply"]
    mock.control.add_sign_request(signers=[], sign_request_key="sr-1", external_key="crm-1")
    with pytest.raises(ControlError, match=re.escape(words)):
        mock.control.add_sign_request(**arguments)
    assert list(mock.model.requests) == ["sr-1"]  # a refused seed changes nothing


# -- Ignisign --------------------------------------------------------------------------------------------------------


def test_a_seeded_signature_request_in_progress_is_what_the_context_returns(mocks) -> None:
    mock = mocks["ignisign"]
    made = mock.control.add_signature_request(
        status="IN_PROGRESS", signers=["signer-1", "signer-2"], documents=["doc-1"], title="Lease"
    )
    request_id = made["signature_request_id"]
    session = ignisign_session(mock)
    url = f"{IGNISIGN}/v3/signature-requests/{request_id}"
    got = conforms("ignisign", "getSignatureRequestContext", session.get(f"{url}/context"))
    assert got == made["context"]
    assert (got["_id"], got["status"], got["title"]) == (request_id, "IN_PROGRESS", "Lease")
    assert (got["appId"], got["appEnv"]) == ("ignisign-app", "DEVELOPMENT")  # the application of the credentials
    assert [s["signerId"] for s in got["signers"]] == ["signer-1", "signer-2"]
    refused(session.put(url, json={"title": "Other"}), 400, "is_draft")
    refused(session.post(f"{url}/publish", json={}), 400, "is_draft")
    mock.control.sign(request_id)
    mock.control.sign(request_id)
    assert session.get(f"{url}/context").json()["status"] == "COMPLETED"


def test_a_seeded_draft_is_updated_and_published_through_the_public_api(mocks) -> None:
    mock = mocks["ignisign"]
    session = ignisign_session(mock)
    bare = mock.control.add_signature_request()["signature_request_id"]
    refused(session.post(f"{IGNISIGN}/v3/signature-requests/{bare}/publish", json={}), 400, "has_documents")
    request_id = mock.control.add_signature_request(signers=["signer-1"], documents=["doc-1"])["signature_request_id"]
    url = f"{IGNISIGN}/v3/signature-requests/{request_id}"
    assert conforms("ignisign", "updateSignatureRequest", session.put(url, json={"title": "Later"}))["title"] == "Later"
    assert session.post(f"{url}/publish", json={}).status_code == 200
    assert session.get(f"{url}/context").json()["status"] == "IN_PROGRESS"


@pytest.mark.parametrize("status", IGNISIGN_STATUSES)
def test_a_signature_request_can_be_seeded_in_every_documented_status(mocks, status: str) -> None:
    mock = mocks["ignisign"]
    request_id = mock.control.add_signature_request(status=status)["signature_request_id"]
    session = ignisign_session(mock)
    url = f"{IGNISIGN}/v3/signature-requests/{request_id}"
    assert conforms("ignisign", "getSignatureRequestContext", session.get(f"{url}/context"))["status"] == status
    if status in ("COMPLETED", "EXPIRED", "FAILED", "CANCELLED"):
        refused(session.post(f"{url}/close", json={}), 400, "not_ended")


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ({"status": "DONE"}, "status 'DONE' is not a documented signature request status; one of DRAFT, "),
        # (the kind of each argument is checked before the model runs: mocks/provider.py check_control_arguments)
        ({"signers": "signer-1"}, "add_signature_request: signers must be a list or null, got 'signer-1' (a string)"),
        ({"documents": [1]}, "documents[0]: 1 is not of type 'string'"),
        ({"title": "x" * 1025}, "title: "),
        ({"signature_request_id": "sr-1"}, "signature_request_id 'sr-1' exists already"),
        ({"signature_profile_id": ""}, "signature_profile_id must be a non-empty string"),
    ],
)
def test_a_bad_ignisign_seed_is_refused_naming_the_argument(mocks, arguments: dict[str, Any], words: str) -> None:
    mock = mocks["ignisign"]
    mock.control.add_signature_request(signature_request_id="sr-1")
    with pytest.raises(ControlError, match=re.escape(words)):
        mock.control.add_signature_request(**arguments)
    assert list(mock.model.requests) == ["sr-1"]


# -- OKdokument and TrustedX -----------------------------------------------------------------------------------------


def test_a_seeded_okdokument_request_is_updated_and_deleted_through_the_public_api(mocks) -> None:
    mock = mocks["okdokument"]
    made = mock.control.add_signature_request(result_url="https://client.example/done")
    request_id = made["signature_request_id"]
    assert (made["result"], made["message"], made["documentId"]) == (
        request_id,
        "msg.signature.request.id.created",
        made["document_id"],
    )
    session = requests.Session()
    session.headers["x-api-key"] = mock.credentials["apiKey"]
    patch = {"signatureRequestId": request_id, "sendInfoURL": HOOK}
    updated = conforms("okdokument", "updateSignatureRequest", session.patch(OKDOKUMENT, json=patch))
    assert updated["result"] == request_id
    assert mock.model.requests[request_id].send_info_url == HOOK
    assert session.delete(f"{OKDOKUMENT}/{request_id}").status_code == 200
    refused(session.delete(f"{OKDOKUMENT}/{request_id}"), 400, "signature_request_exists")


def test_a_request_seeded_signed_has_posted_send_info_and_cannot_be_signed_again(mocks) -> None:
    mock = mocks["okdokument"]
    mock.responses.add(responses.POST, HOOK, status=200)
    made = mock.control.add_signature_request(signed=True, send_info_url=HOOK, document_id="doc-9")
    (call,) = [c for c in mock.responses.calls if c.request.url == HOOK]
    assert json.loads(call.request.body) == {
        "state": "signed",
        "id": "doc-9",
        "signatureRequestId": made["signature_request_id"],
    }
    with pytest.raises(ControlError, match="is signed already"):
        mock.control.sign(made["signature_request_id"])


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ({"signed": "yes"}, "signed must be true or false"),
        ({"send_info_url": 5}, "send_info_url must be a string, got 5 (an integer)"),
        ({"result_url": 5}, "result_url must be a string or null, got 5 (an integer)"),
        ({"signature_request_id": "sr-1"}, "signature_request_id 'sr-1' exists already"),
        ({"document_id": "a/b"}, "document_id must be a non-empty string without '/'"),
    ],
)
def test_a_bad_okdokument_seed_is_refused_naming_the_argument(mocks, arguments: dict[str, Any], words: str) -> None:
    mock = mocks["okdokument"]
    mock.control.add_signature_request(signature_request_id="sr-1")
    with pytest.raises(ControlError, match=re.escape(words)):
        mock.control.add_signature_request(**arguments)
    assert list(mock.model.requests) == ["sr-1"]


def test_a_seeded_signature_process_has_its_result_or_none_yet(mocks) -> None:
    mock = mocks["trustedx"]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {mock.credentials['bearerToken']}"
    waiting = mock.control.add_signature_process()
    assert (waiting["id"], waiting["result"]) == (waiting["signature_process_id"], None)
    assert conforms("trustedx", "getSignerProcess", session.get(f"{TRUSTEDX}/{waiting['id']}")) == {"id": waiting["id"]}
    refused(session.get(f"{TRUSTEDX}/{waiting['id']}/result"), 404, "result_established")
    failed = mock.control.add_signature_process(status="failed")
    got = session.get(f"{TRUSTEDX}/{failed['id']}/result")
    assert conforms("trustedx", "getSignerProcessResult", got) == failed["result"] == {"status": "failed"}
    with pytest.raises(ControlError, match="has a result already"):
        mock.control.finish(failed["id"])
    assert session.delete(f"{TRUSTEDX}/{failed['id']}").status_code == 204


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ({"status": "done"}, f"status 'done' is not a documented result status; one of {', '.join(TRUSTEDX_STATUSES)}"),
        ({"signature_process_id": "sp-1"}, "signature_process_id 'sp-1' exists already"),
        (
            {"signature_process_id": 7},
            "add_signature_process: signature_process_id must be a string, got 7 (an integer)",
        ),
    ],
)
def test_a_bad_trustedx_seed_is_refused_naming_the_argument(mocks, arguments: dict[str, Any], words: str) -> None:
    mock = mocks["trustedx"]
    mock.control.add_signature_process(signature_process_id="sp-1")
    with pytest.raises(ControlError, match=re.escape(words)):
        mock.control.add_signature_process(**arguments)
    assert list(mock.model.processes) == ["sp-1"]


# -- every seed -----------------------------------------------------------------------------------------------------

REPLAYED = [
    ("stiply", {"signers": ["a@example.com", SMS_SIGNER], "external_key": "crm-1", "sent": True}),
    ("ignisign", {"status": "IN_PROGRESS", "signers": ["signer-1"], "documents": ["doc-1"], "title": "T"}),
    ("okdokument", {"signed": True, "result_url": "https://client.example/done"}),
    ("trustedx", {"status": "canceled"}),
]


@pytest.mark.parametrize(("provider", "arguments"), REPLAYED, ids=[p for p, _ in REPLAYED])
def test_the_fields_a_seed_returns_make_the_same_resource_again(provider: str, arguments: dict[str, Any]) -> None:
    """`@creates`: the oracle's shadow model takes the target's answer, so the fields must rebuild the resource."""
    clock = Clock()
    target, shadow = Mock(provider, clock=clock), Mock(provider, clock=clock)
    action = SEEDS[provider]
    method = getattr(target.model, action)
    identifier = method._esign_creates
    made = getattr(target.control, action)(**arguments)
    parameters = inspect.signature(method).parameters
    assert identifier in made and identifier in parameters
    again = getattr(shadow.control, action)(**{k: v for k, v in made.items() if k in parameters})
    assert again == made


def test_a_seed_is_journaled_as_a_control_action_and_reset_forgets_what_it_made(mocks) -> None:
    made = {name: getattr(mock.control, SEEDS[name])(**({"signers": []} if name == "stiply" else {})) for name, mock in
            mocks.items()}  # fmt: skip
    for name, mock in mocks.items():
        assert [e.operation for e in mock.journal.entries(outcome="control")] == [f"control.{SEEDS[name]}"]
        mock.reset()
    assert not mocks["stiply"].model.requests and not mocks["ignisign"].model.requests
    assert not mocks["okdokument"].model.requests and not mocks["trustedx"].model.processes
    key = made["stiply"]["sign_request_key"]
    refused(stiply_session(mocks["stiply"]).get(f"{STIPLY}/sign_requests/{key}"), 404, "sign_request_exists")


# -- over HTTP -------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Running, dict[str, Mock]]]:
    made = {name: Mock(name, seed=9) for name in SEEDS}
    with Running(made.values()) as running:
        yield running, made


def control(running: Running, path: str, body: Any = None) -> requests.Response:
    return requests.post(f"http://{running.host}:{running.port}/__control/{path}", json=body, timeout=10)


def test_the_index_lists_each_seed_action_and_its_parameters(served) -> None:
    running, _ = served
    index = requests.get(f"http://{running.host}:{running.port}/__control", timeout=10).json()["providers"]
    stiply = index["stiply"]["actions"]["add_sign_request"]
    assert stiply["doc"].startswith("Seed a sign request")
    parameters = {p["name"]: p for p in stiply["parameters"]}
    assert parameters["signers"] == {"name": "signers", "required": True}
    assert parameters["sent"] == {"name": "sent", "required": False, "default": False}
    assert parameters["term"]["default"] == "2w" and "external_key" in parameters
    ignisign = {p["name"]: p for p in index["ignisign"]["actions"]["add_signature_request"]["parameters"]}
    assert ignisign["status"] == {"name": "status", "required": False, "default": "DRAFT"}
    assert {"signers", "documents", "title", "signature_request_id"} <= set(ignisign)
    okdokument = {p["name"] for p in index["okdokument"]["actions"]["add_signature_request"]["parameters"]}
    assert {"signed", "send_info_url", "result_url"} <= okdokument
    trustedx = {p["name"]: p for p in index["trustedx"]["actions"]["add_signature_process"]["parameters"]}
    assert trustedx["status"] == {"name": "status", "required": False, "default": None}


def test_a_seed_over_http_is_served_by_the_public_api_like_one_from_python(served) -> None:
    running, made = served
    answer = control(running, "stiply/actions/add_sign_request", {"signers": ["a@example.com"], "sent": True})
    assert answer.status_code == 200
    result = answer.json()["result"]
    key = result["sign_request_key"]
    session = stiply_session(made["stiply"])
    base = running.base_url(made["stiply"])
    got = session.get(f"{base}/sign_requests/{key}", timeout=10)
    assert got.json()["data"] == result["data"] and got.json()["data"]["sign_request"]["sent"] == 1
    signer = {"signer_email": "late@example.com", "signer_signature_fields": [{"name": "signature1"}]}
    refused(session.post(f"{base}/sign_requests/{key}/signers", json=signer, timeout=10), 403, "not_sent")
    assert made["stiply"].journal.entries(operation="control.add_sign_request")

    seeded = control(running, "ignisign/actions/add_signature_request", {"status": "IN_PROGRESS", "signers": ["s-1"]})
    request_id = seeded.json()["result"]["signature_request_id"]
    origin = f"http://{running.host}:{running.port}"
    context = ignisign_session(made["ignisign"], origin).get(
        f"{origin}/v3/signature-requests/{request_id}/context", timeout=10
    )
    assert context.json()["status"] == "IN_PROGRESS"

    ok = control(running, "okdokument/actions/add_signature_request", {}).json()["result"]
    gone = requests.delete(
        f"{origin}/JSON/signatureRequest/{ok['signature_request_id']}",
        headers={"x-api-key": made["okdokument"].credentials["apiKey"]},
        timeout=10,
    )
    assert gone.status_code == 200

    process = control(running, "trustedx/actions/add_signature_process", {"status": "finished"}).json()["result"]
    result_url = f"{origin}/trustedx-resources/esignsp/v2/signer_processes/{process['id']}/result"
    got = requests.get(result_url, headers={"Authorization": "Bearer trustedx-token"}, timeout=10)
    assert got.json() == {"status": "finished"}


@pytest.mark.parametrize(
    ("path", "body", "status", "words"),
    [
        ("stiply/actions/add_sign_request", {"signers": ["a@example.com"], "term": "2x"}, 409, "term: '2x'"),
        ("stiply/actions/add_sign_request", {"signers": [{"signer_email": "a@example.com"}]}, 409, "signers[0]: "),
        ("stiply/actions/add_sign_request", {"signers": [], "sent": True}, 409, "sent=true needs"),
        ("stiply/actions/add_sign_request", {}, 400, "add_sign_request takes"),
        ("stiply/actions/add_sign_request", {"signers": [], "colour": "red"}, 400, "colour"),
        ("ignisign/actions/add_signature_request", {"status": "DONE"}, 409, "one of DRAFT, WAITING_DOCUMENTS"),
        ("okdokument/actions/add_signature_request", {"signed": "yes"}, 409, "signed must be true or false"),
        ("trustedx/actions/add_signature_process", {"status": "done"}, 409, "one of finished, failed"),
    ],
)
def test_a_bad_seed_over_http_gets_a_4xx_naming_the_problem(served, path, body, status, words) -> None:
    running, _ = served
    answer = control(running, path, body)
    assert answer.status_code == status and words in answer.json()["message"]


def test_reset_over_http_forgets_seeded_resources(served) -> None:
    running, made = served
    key = control(running, "stiply/actions/add_sign_request", {"signers": []}).json()["result"]["sign_request_key"]
    process = control(running, "trustedx/actions/add_signature_process", {}).json()["result"]["id"]
    assert control(running, "stiply/reset").status_code == 200
    base = running.base_url(made["stiply"])
    refused(stiply_session(made["stiply"]).get(f"{base}/sign_requests/{key}", timeout=10), 404, "sign_request_exists")
    assert process in made["trustedx"].model.processes  # one provider's reset leaves the others
    assert control(running, "reset").status_code == 200
    assert not made["trustedx"].model.processes


# Seeded mocks make seeds with the same ids on every run; the API's own ids do not move because of them.


def _seeded_ids(seed: int | None) -> list[str]:
    stiply, signix = Mock("stiply", seed=seed), Mock("signix", seed=seed)
    made = [
        stiply.control.add_sign_request(signers=["a@example.com"])["sign_request_key"],
        stiply.control.add_sign_request(signers=["b@example.com"])["sign_request_key"],
    ]
    transaction = signix.control.add_transaction()
    return [*made, transaction["transaction_id"], transaction["document_set_id"]]


def test_a_seeded_mock_gives_its_seeds_the_same_ids_on_every_run() -> None:
    first, again, other = _seeded_ids(7), _seeded_ids(7), _seeded_ids(8)
    assert first == again
    assert all(a != b for a, b in zip(first, other, strict=True))
    assert len(set(first)) == len(first)
    assert _seeded_ids(None) != _seeded_ids(None)  # unseeded: fresh ids


def test_seeding_does_not_move_the_ids_the_api_itself_gives() -> None:
    def created_key(seed_first: bool) -> str:
        mock = Mock("stiply", seed=5)
        if seed_first:
            mock.control.add_sign_request(signers=["a@example.com"])
        with InProcess([mock]), requests.Session() as session:
            session.auth = ("stiply-user", "stiply-password")
            files = {"file": ("doc.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")}
            answer = session.post("https://api.stiply.nl/v1/sign_requests", files=files, data={"term": "2w"})
        return answer.json()["data"]["sign_request"]["key"]

    assert created_key(seed_first=True) == created_key(seed_first=False)
