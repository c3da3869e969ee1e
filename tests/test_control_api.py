"""The control API (`/__control`) and fault injection: one implementation, from Python and over HTTP."""

from __future__ import annotations

import base64

import pytest
import requests
from werkzeug.test import Client

from esign_contracts.contracts.serve import Running
from esign_contracts.mocks import InProcess, Mock, WSGIApp
from esign_contracts.mocks.faults import FaultError

from .conftest import STIPLY, add_signer, create_sign_request

STIPLY_AUTH = {"Authorization": "Basic " + base64.b64encode(b"stiply-user:stiply-password").decode()}
OKDOKUMENT_AUTH = {"x-api-key": "okdokument-api-key"}


@pytest.fixture
def mocks() -> dict[str, Mock]:
    return {name: Mock(name, seed=3) for name in ("stiply", "okdokument")}


@pytest.fixture
def client(mocks: dict[str, Mock]) -> Client:
    return Client(WSGIApp(mocks.values()))


def _sent_sign_request(client: Client) -> str:
    created = client.post(
        "/v1/sign_requests",
        data={"term": "2w", "file": (__import__("io").BytesIO(b"%PDF-1.4\n%%EOF\n"), "c.pdf", "application/pdf")},
        headers=STIPLY_AUTH,
    )
    key = created.json["data"]["sign_request"]["key"]
    body = {"signer_email": "a@example.com", "signer_signature_fields": [{"name": "signature1"}]}
    assert client.post(f"/v1/sign_requests/{key}/signers", json=body, headers=STIPLY_AUTH).status_code == 200
    assert client.post(f"/v1/sign_requests/{key}/actions/send", headers=STIPLY_AUTH).status_code == 200
    return key


def test_the_index_lists_each_provider_and_its_actions_with_their_parameters(client: Client) -> None:
    index = client.get("/__control").json["providers"]
    assert set(index) == {"stiply", "okdokument"}
    sign = index["stiply"]["actions"]["sign"]
    assert sign["parameters"][0] == {"name": "sign_request_key", "required": True}
    assert "sign" in index["okdokument"]["actions"] and index["stiply"]["base_path"] == "/v1"


def test_an_action_over_http_changes_the_model_and_is_journaled_like_one_from_python(client, mocks) -> None:
    key = _sent_sign_request(client)
    answer = client.post("/__control/stiply/actions/sign_all", json={"sign_request_key": key})
    assert answer.status_code == 200
    assert mocks["stiply"].model.requests[key].all_signed
    assert [e.operation for e in mocks["stiply"].journal.entries(outcome="control")] == ["control.sign_all"]
    refused = client.post("/__control/stiply/actions/sign_all", json={"sign_request_key": key})
    assert refused.status_code == 409 and "signed by all signers already" in refused.json["message"]


@pytest.mark.parametrize(
    ("path", "body", "status", "words"),
    [
        ("/__control/docusign/reset", None, 404, "served: okdokument, stiply"),
        ("/__control/stiply/actions/fly", {}, 404, "available: "),
        ("/__control/stiply/actions/sign", {"key": "x"}, 400, "sign takes"),
        ("/__control/stiply/actions/sign", [1], 400, "JSON object"),
        ("/__control/stiply/nothing", {}, 404, "no control route"),
    ],
)
def test_control_mistakes_get_a_4xx_that_names_what_was_wrong(client, path, body, status, words) -> None:
    answer = client.post(path, json=body)
    assert answer.status_code == status and words in answer.json["message"]


def test_reset_one_or_all_forgets_state_journal_and_faults(client, mocks) -> None:
    _sent_sign_request(client)
    mocks["okdokument"].faults.add("createSignatureRequest", status=401)
    assert client.post("/__control/stiply/reset").status_code == 200
    assert mocks["stiply"].model.requests == {} and len(mocks["stiply"].journal) == 0
    assert mocks["okdokument"].faults.list()
    assert client.post("/__control/reset").json == {"reset": ["okdokument", "stiply"]}
    assert not mocks["okdokument"].faults.list()


def test_journal_and_violations_filter_by_provider_operation_outcome_and_position(client) -> None:
    client.post("/JSON/signatureRequest", json={}, headers=OKDOKUMENT_AUTH)
    client.post("/JSON/signatureRequest", json={})  # no key: a violation
    client.post("/v1/actions/ping", json={"ping_value": "p"}, headers=STIPLY_AUTH)
    everything = client.get("/__control/journal").json["entries"]
    assert [e["operation"] for e in everything] == ["createSignatureRequest"] * 2 + ["ping"]
    only = client.get("/__control/journal?provider=okdokument&outcome=unauthenticated").json["entries"]
    assert len(only) == 1 and only[0]["status"] == 401
    later = client.get(f"/__control/journal?provider=okdokument&after={everything[0]['seq']}").json["entries"]
    assert len(later) == 1
    violations = client.get("/__control/violations?provider=okdokument&operation=createSignatureRequest").json
    assert [v["rule"] for v in violations["violations"]] == ["credentials"]
    assert client.get("/__control/violations?provider=stiply").json == {"violations": []}


def test_a_status_fault_answers_the_documented_status_for_the_next_n_calls_only(client, mocks) -> None:
    added = client.post("/__control/stiply/faults", json={"operation": "ping", "status": 401, "times": 2})
    assert added.status_code == 201 and added.json["times"] == 2
    statuses = [
        client.post("/v1/actions/ping", json={"ping_value": "p"}, headers=STIPLY_AUTH).status_code for _ in range(3)
    ]
    assert statuses == [401, 401, 200]
    assert [e.outcome for e in mocks["stiply"].journal] == ["injected", "injected", "ok"]
    assert client.get("/__control/stiply/faults").json == {"faults": []}


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ({"operation": "ping", "status": 404}, "not a documented error status of ping; documented: 400, 401 ("),
        ({"operation": "fly", "status": 400}, "no operation 'fly'"),
        ({"operation": "ping"}, "needs status, latency_ms or drop"),
        ({"operation": "ping", "status": 400, "share": 2}, "share must be"),
        ({"operation": "ping", "drop": True, "status": 400}, "not both"),
        ({"operation": "ping", "status": 400, "color": "red"}, "unknown: color"),
    ],
)
def test_a_fault_the_contract_does_not_allow_is_refused_naming_why(client, fault, words) -> None:
    answer = client.post("/__control/stiply/faults", json=fault)
    assert answer.status_code == 400 and words in answer.json["message"]


def test_a_share_of_calls_is_drawn_from_a_seeded_generator_so_a_run_repeats() -> None:
    def pattern() -> list[bool]:
        mock = Mock("stiply")
        mock.faults.add("ping", status=400, share=0.5)
        return [mock.faults.take("ping") is not None for _ in range(40)]

    first = pattern()
    assert first == pattern() and 5 < sum(first) < 35


def test_faults_from_python_are_the_same_objects_the_http_api_lists(client, mocks) -> None:
    fault = mocks["stiply"].faults.add("getSignRequest", latency_ms=5)
    listed = client.get("/__control/stiply/faults").json["faults"]
    assert listed == [fault.describe()]
    assert client.delete(f"/__control/stiply/faults/{fault.id}").status_code == 200
    assert client.delete(f"/__control/stiply/faults/{fault.id}").status_code == 404
    with pytest.raises(FaultError):
        mocks["stiply"].faults.add("getSignRequest", status=500)  # 500 is not documented for it


def test_a_dropped_connection_over_http() -> None:
    mock = Mock("stiply")
    mock.faults.add("ping", drop=True, times=1)
    with Running([mock]) as served:
        url = f"{served.base_url()}/actions/ping"
        # the client reads a promised body that never comes: requests reports the connection as broken
        with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError), match="roken"):
            requests.post(url, json={"ping_value": "p"}, auth=("stiply-user", "stiply-password"), timeout=10)
        after = requests.post(url, json={"ping_value": "p"}, auth=("stiply-user", "stiply-password"), timeout=10)
        assert after.status_code == 200  # the server is fine; only that one answer was cut off


def test_a_dropped_connection_in_process(stiply) -> None:
    in_process, session = stiply
    in_process.faults.add("createSigner", drop=True, times=1)
    key = create_sign_request(session)
    with pytest.raises(requests.ConnectionError, match="connection closed without an answer"):
        session.post(f"{STIPLY}/sign_requests/{key}/signers", json={"signer_email": "a@example.com"})
    add_signer(session, key)


def test_the_control_api_is_served_beside_the_providers() -> None:
    with Running([Mock("okdokument")]) as served:
        root = f"http://127.0.0.1:{served.port}"
        assert requests.get(f"{root}/__control", timeout=10).json()["providers"]["okdokument"]
        assert requests.post(f"{root}/__control/reset", timeout=10).status_code == 200


def test_in_process_the_fixture_offers_the_same_faults() -> None:
    mock = Mock("okdokument")
    mock.faults.add("createSignatureRequest", status=401, times=1)
    with InProcess([mock]):
        url = "https://apidev.okdokument.com/JSON/signatureRequest"
        assert requests.post(url, json={}, headers=OKDOKUMENT_AUTH).status_code == 401
        assert requests.post(url, json={}, headers=OKDOKUMENT_AUTH).status_code == 200
