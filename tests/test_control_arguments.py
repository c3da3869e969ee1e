"""Arguments of the wrong kind given to the control API (JSON gives any kind) are refused naming what was wrong."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from werkzeug.test import Client

from esign_contracts.mocks import ControlError, Mock, WSGIApp
from esign_contracts.mocks.faults import FaultError

PROVIDERS = ("stiply", "ignisign", "okdokument", "trustedx", "signix")
STIPLY_AUTH = {"Authorization": "Basic " + base64.b64encode(b"stiply-user:stiply-password").decode()}

# Every control action that takes the id of an existing resource, with the rest of its arguments right.
ID_ACTIONS = [
    ("stiply", "sign", "sign_request_key", {}),
    ("stiply", "sign_all", "sign_request_key", {}),
    ("stiply", "expire_term", "sign_request_key", {}),
    ("ignisign", "sign", "signature_request_id", {}),
    ("ignisign", "set_status", "signature_request_id", {"status": "DRAFT"}),
    ("okdokument", "sign", "signature_request_id", {}),
    ("signix", "complete", "transaction_id", {}),
    ("signix", "expire", "transaction_id", {}),
    ("trustedx", "finish", "signature_process_id", {}),
]


@pytest.fixture
def mocks() -> dict[str, Mock]:
    return {name: Mock(name, seed=3) for name in PROVIDERS}


@pytest.fixture
def client(mocks: dict[str, Mock]) -> Client:
    return Client(WSGIApp(mocks.values()))


@pytest.mark.parametrize("given", [["x"], {"id": "x"}, 7, None], ids=["list", "object", "number", "null"])
@pytest.mark.parametrize(("provider", "action", "argument", "others"), ID_ACTIONS)
def test_an_id_of_the_wrong_kind_gets_409_naming_the_action_argument_and_kind(
    client, mocks, provider: str, action: str, argument: str, others: dict[str, Any], given: Any
) -> None:
    answer = client.post(f"/__control/{provider}/actions/{action}", json={argument: given, **others})
    assert answer.status_code == 409
    assert answer.json["message"].startswith(f"{action}: {argument} must be a string, got {given!r} (")
    assert len(mocks[provider].journal) == 0  # refused before it ran: nothing happened, nothing journaled


@pytest.mark.parametrize(("provider", "action", "argument", "others"), ID_ACTIONS)
def test_from_python_the_same_argument_raises_control_error(
    mocks, provider: str, action: str, argument: str, others: dict[str, Any]
) -> None:
    with pytest.raises(ControlError, match=rf"^{action}: {argument} must be a string, got \['x'\] \(a list\)$"):
        getattr(mocks[provider].control, action)(["x"], **others)


@pytest.mark.parametrize(("given", "kind"), [(5, "an integer"), ([1], "a list")])
def test_a_signix_seed_refuses_a_document_set_id_that_is_not_a_string(client, mocks, given: Any, kind: str) -> None:
    answer = client.post("/__control/signix/actions/add_transaction", json={"document_set_id": given})
    assert answer.status_code == 409
    assert answer.json["message"] == f"add_transaction: document_set_id must be a string, got {given!r} ({kind})"
    assert mocks["signix"].model.transactions == {}


def test_a_valid_argument_still_reaches_the_model(client) -> None:
    answer = client.post("/__control/stiply/actions/sign", json={"sign_request_key": "nope"})
    assert answer.status_code == 409 and "no sign request 'nope'" in answer.json["message"]


def test_a_missing_argument_lists_the_parameters_as_a_person_reads_them(client) -> None:
    answer = client.post("/__control/stiply/actions/sign", json={"key": "x"})
    assert answer.status_code == 400
    assert answer.json["message"].startswith("sign takes sign_request_key (required), signer_key (default None); ")
    assert "{" not in answer.json["message"]


# -- faults --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "given", "words"),
    [
        ("times", "x", "times must be an integer or null, got 'x' (a string)"),
        ("times", 1.5, "times must be an integer or null, got 1.5 (a number)"),
        ("times", True, "times must be an integer or null, got True (a boolean)"),
        ("share", "x", "share must be a number or null, got 'x' (a string)"),
        ("latency_ms", "x", "latency_ms must be an integer, got 'x' (a string)"),
        ("status", "401", "status must be an integer or null, got '401' (a string)"),
        ("drop", "no", "drop must be true or false, got 'no' (a string)"),
        ("operation", ["ping"], "operation must be a string, got ['ping'] (a list)"),
        ("retry_after", "5", "retry_after must be an integer or null, got '5' (a string)"),
    ],
)
def test_a_fault_field_of_the_wrong_kind_gets_400_naming_field_kind_and_value(
    client, mocks, field: str, given: Any, words: str
) -> None:
    fault = {"operation": "ping", "status": 401, field: given}
    answer = client.post("/__control/stiply/faults", json=fault)
    assert answer.status_code == 400 and answer.json["message"] == words
    assert mocks["stiply"].faults.list() == []
    with pytest.raises(FaultError, match=f"^{words[: words.index(',')]}"):
        mocks["stiply"].faults.add(**fault)


def test_a_share_may_be_a_whole_number() -> None:
    assert Mock("stiply").faults.add("ping", status=401, share=1).share == 1


def test_a_refused_status_lists_only_the_documented_error_statuses(client) -> None:
    answer = client.post("/__control/stiply/faults", json={"operation": "ping", "status": 200})
    assert answer.status_code == 400
    assert "not a documented error status of ping; documented: 400, 401 (" in answer.json["message"]


# -- journal and violation filters -----------------------------------------------------------------------------------


def _traffic(client: Client, mocks: dict[str, Mock]) -> None:
    """Requests that leave entries of several outcomes in the stiply journal."""
    ping = {"ping_value": "p"}
    client.post("/v1/actions/ping", json=ping, headers=STIPLY_AUTH)  # ok
    client.post("/v1/actions/ping", json={}, headers=STIPLY_AUTH)  # violation
    client.post("/v1/actions/ping", json=ping)  # unauthenticated
    client.get("/v1/nowhere", headers=STIPLY_AUTH)  # unrouted
    mocks["stiply"].faults.add("ping", status=401, times=1)
    client.post("/v1/actions/ping", json=ping, headers=STIPLY_AUTH)  # injected
    key = mocks["stiply"].control.add_sign_request(signers=[])["sign_request_key"]  # control
    client.post(f"/v1/sign_requests/{key}/actions/send", headers=STIPLY_AUTH)  # refused: no signer


def test_every_outcome_the_journal_holds_can_be_asked_for(client, mocks) -> None:
    _traffic(client, mocks)
    seen = {entry.outcome for entry in mocks["stiply"].journal}
    assert seen == {"ok", "violation", "unauthenticated", "unrouted", "injected", "control", "refused"}
    for outcome in seen:
        answer = client.get(f"/__control/journal?provider=stiply&outcome={outcome}")
        assert answer.status_code == 200 and {e["outcome"] for e in answer.json["entries"]} == {outcome}


def test_an_unknown_outcome_gets_400_naming_the_known_ones(client) -> None:
    answer = client.get("/__control/journal?outcome=nope")
    assert answer.status_code == 400
    assert answer.json["message"].startswith("outcome 'nope' is not a journal outcome; known: ok, refused, ")


@pytest.mark.parametrize("route", ["journal", "violations"])
def test_an_unknown_operation_gets_400_naming_the_known_ones(client, route: str) -> None:
    answer = client.get(f"/__control/{route}?provider=stiply&operation=pnig")
    assert answer.status_code == 400
    message = answer.json["message"]
    assert message.startswith("operation 'pnig' is not journaled here; known: ")
    assert all(name in message for name in ("ping", "control.sign_all", "callback.callBack"))
    assert "sendInfo" not in message  # only the operations of the providers asked for


def test_operations_of_control_actions_and_callbacks_are_filters_too(client, mocks) -> None:
    _traffic(client, mocks)
    controls = client.get("/__control/journal?provider=stiply&operation=control.add_sign_request").json["entries"]
    assert [e["operation"] for e in controls] == ["control.add_sign_request"]
    assert client.get("/__control/journal?operation=callback.sendInfo").json["entries"] == []
    (unrouted,) = mocks["stiply"].journal.entries(outcome="unrouted")  # its operation is the engine's to name
    answer = client.get("/__control/journal", query_string={"provider": "stiply", "operation": unrouted.operation})
    assert [e["outcome"] for e in answer.json["entries"]] == ["unrouted"]


def test_an_unknown_provider_filter_gets_404_naming_the_served_ones(client) -> None:
    answer = client.get("/__control/journal?provider=stiplyy&outcome=ok")
    assert (
        answer.status_code == 404 and "served: ignisign, okdokument, signix, stiply, trustedx" in answer.json["message"]
    )


def test_a_wrong_argument_name_from_python_names_it_and_what_the_action_takes(mocks) -> None:
    with pytest.raises(TypeError) as raised:
        mocks["stiply"].control.sign(key="x")
    takes = "sign takes sign_request_key (required), signer_key (default None)"
    assert str(raised.value) == f"sign: no argument 'key'; {takes}"
    with pytest.raises(TypeError, match=r"^sign: missing a required argument: 'sign_request_key'; sign takes "):
        mocks["stiply"].control.sign()


def test_a_misspelt_outcome_filter_from_python_is_refused(mocks) -> None:
    with pytest.raises(ValueError, match=r"^outcome 'refusd' is not a journal outcome; known: ok, refused, "):
        mocks["stiply"].journal.entries(outcome="refusd")
    assert mocks["stiply"].journal.entries(outcome="refused") == []
