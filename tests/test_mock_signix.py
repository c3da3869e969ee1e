"""The SIGNiX mock behaves as the docs say, seen through real `requests` calls to the `signix_mock` fixture.

SubmitAjax: POST /sdd/b2b/sdddc_ns.jsp with the form `method=SubmitAjax&request=<SubmitAjaxRq>`; the answer is a
SubmitAjaxRs in text/xml whose StatusCode tells the outcome (docs > Sessionless API Request Format; specs/signix).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
import requests
from lxml import etree

from esign_contracts.mocks import ControlError, Mock
from esign_contracts.mocks.signix import CANCELLED, COMPLETE, EXPIRED, IN_PROGRESS, SUSPENDED, Signix
from esign_contracts.mocks.signix_xml import Answer, read_answer
from esign_contracts.specs import load_contract
from esign_contracts.specs.ajax import NAMESPACE
from esign_contracts.specs.contract import at

URL = "https://webtest.signix.biz/sdd/b2b/sdddc_ns.jsp"
CUST_INFO: dict[str, str] = Signix.default_credentials["CustInfo"]
NS = f"{{{NAMESPACE}}}"
DOCUMENT = load_contract("signix").document
ALLOW = pytest.mark.esign_allow_violations  # contracts/plugin.py ALLOW_MARKER

SUSPEND = json.dumps({"objectType": "Transaction_Suspend"})
RESUME = json.dumps({"objectType": "Transaction_Resume"})
CANCEL = json.dumps({"objectType": "Transaction_Cancel"})

# docs > AJAX Status Codes > WARNINGS (x-errata warning_text_punctuation: the words between the quotes)
ALREADY_SUSPENDED = "This transaction has already been suspended and cannot be suspended again."
COMPLETE_NOT_SUSPENDED = "This transaction has already been completed and cannot be suspended."
COMPLETE_NOT_RESUMED = "This transaction has already been completed and cannot be resumed."
EXPIRED_NOT_CANCELLED = "This transaction has expired and cannot be cancelled."
CANCELLED_NOT_CANCELLED = "This transaction has cancelled and cannot be cancelled."
COMPLETE_NOT_CANCELLED = "This transaction has already been completed and cannot be cancelled."


# -- helpers -------------------------------------------------------------------------------------------------------


def change_email(ref_id: str, address: str) -> str:
    """docs > Change Signer Email, with the party's RefID and the new address."""
    table = {ref_id: {"address": address, "objectType": "EmailAddress", "type": "Home"}}
    party = {"objectType": "PersonData", "emailAddressTable": table}
    role = {"id": ref_id, "objectType": "TransactionRole", "party": party}
    return json.dumps(
        {"objectType": "Transaction_SaveDeltas", "deltas": [{"objectType": "Transaction_UpdateRole", "role": role}]}
    )


def change_phone(ref_id: str, number: str) -> str:
    """docs > Change Signer Mobile Phone Number."""
    table = {"Mobile1": {"objectType": "PhoneNumber", "id": "Mobile", "type": "", "number": number}}
    role = {"id": ref_id, "objectType": "TransactionRole", "party": {"objectType": "PersonData", "phoneTable": table}}
    return json.dumps(
        {"objectType": "Transaction_SaveDeltas", "deltas": [{"objectType": "Transaction_UpdateRole", "role": role}]}
    )


def send_pickup_email(ref_id: str) -> str:
    """docs > Re-send Signer Pickup Email."""
    to = [{"objectType": "TxRoleAddressee", "Id": ref_id, "name": "", "emailAddress": ""}]
    return json.dumps(
        {
            "objectType": "Transaction_SendPartyEmail",
            "includeLink": True,
            "subject": "",
            "message": "",
            "transactionId": "",
            "to": to,
        }
    )


def envelope(
    *json_requests: str,
    transaction_id: str | None = None,
    document_set_id: str | None = None,
    batch: bool = False,
    cust_info: dict[str, str] | None = None,
) -> str:
    """A SubmitAjaxRq: the single format for one request, <Requests> when `batch` (docs > ... Request Format)."""
    root = etree.Element(f"{NS}SubmitAjaxRq", nsmap={None: NAMESPACE})
    info = etree.SubElement(root, f"{NS}CustInfo")
    for name, value in (cust_info or CUST_INFO).items():
        etree.SubElement(info, f"{NS}{name}").text = value
    data = etree.SubElement(root, f"{NS}Data")
    if document_set_id is not None:
        etree.SubElement(data, f"{NS}DocumentSetID").text = document_set_id
    else:
        etree.SubElement(data, f"{NS}TransactionID").text = transaction_id
    holder = etree.SubElement(data, f"{NS}Requests") if batch else data
    for text in json_requests:
        etree.SubElement(holder, f"{NS}Request").text = text
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode()


def submit(xml: str) -> requests.Response:
    return requests.post(URL, data={"method": "SubmitAjax", "request": xml})


def answer_of(response: requests.Response) -> Answer:
    """The SubmitAjaxRs, after checking the transport: 200 text/xml, valid against the XSD."""
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/xml"), response.headers
    answer = read_answer(response.content)
    assert answer.problems == (), answer.problems
    return answer


def run(xml: str) -> Answer:
    return answer_of(submit(xml))


def refused_before_json(answer: Answer) -> None:
    """docs: ">=100: The XML request failed before any JSON was processed. The Data element will not be present."."""
    assert answer.status_code >= 100, answer
    assert not answer.has_data and answer.items == (), answer


def status(mock: Mock, transaction_id: str) -> str:
    return mock.model.transactions[transaction_id].status  # type: ignore[attr-defined]


def party(mock: Mock, transaction_id: str, ref_id: str) -> Any:
    return mock.model.transactions[transaction_id].parties[ref_id]  # type: ignore[attr-defined]


@pytest.fixture
def transaction(signix_mock: Mock) -> str:
    """A transaction in progress with parties P01 and P02 (SubmitDocument is outside these docs: control API)."""
    return signix_mock.control.add_transaction()["transaction_id"]


def to_state(mock: Mock, transaction_id: str, state: str) -> None:
    """Bring a transaction in progress to `state`: the signers sign, time passes, or the client cancels."""
    if state == COMPLETE:
        mock.control.complete(transaction_id)
    elif state == EXPIRED:
        mock.control.expire(transaction_id)
    elif state == CANCELLED:
        assert run(envelope(CANCEL, transaction_id=transaction_id)).status_code == 0
    elif state == SUSPENDED:
        assert run(envelope(SUSPEND, transaction_id=transaction_id)).status_code == 0
    assert status(mock, transaction_id) == state


# -- the single format ---------------------------------------------------------------------------------------------


def test_suspend_succeeds_with_a_single_response_without_attributes(signix_mock: Mock, transaction: str) -> None:
    response = submit(envelope(SUSPEND, transaction_id=transaction))

    answer = answer_of(response)
    assert (answer.status_code, answer.status_desc) == (0, "success")
    root = etree.fromstring(response.content)
    (element,) = root.findall(f"{NS}Data/{NS}Response")
    assert root.find(f"{NS}Data/{NS}Responses") is None
    assert dict(element.attrib) == {}  # x-assumptions single_response_attributes
    assert json.loads(element.text)["objectType"] == "Transaction_Suspend"  # XML-encoded JSON
    assert status(signix_mock, transaction) == SUSPENDED
    assert signix_mock.violations == []


def test_suspend_then_resume_puts_the_transaction_back_in_progress(signix_mock: Mock, transaction: str) -> None:
    to_state(signix_mock, transaction, SUSPENDED)
    assert run(envelope(RESUME, transaction_id=transaction)).status_code == 0
    assert status(signix_mock, transaction) == IN_PROGRESS
    assert signix_mock.violations == []


def test_suspending_twice_warns_with_the_documented_text(signix_mock: Mock, transaction: str) -> None:
    to_state(signix_mock, transaction, SUSPENDED)

    answer = run(envelope(SUSPEND, transaction_id=transaction))

    assert (answer.status_code, answer.status_desc) == (1, ALREADY_SUSPENDED)  # SC_SUCCESS_WITH_WARNING
    (item,) = answer.items
    assert json.loads(item.content)["message"] == ALREADY_SUSPENDED
    assert status(signix_mock, transaction) == SUSPENDED
    assert signix_mock.violations == []


@pytest.mark.parametrize(
    ("request_text", "warning"),
    [(SUSPEND, COMPLETE_NOT_SUSPENDED), (RESUME, COMPLETE_NOT_RESUMED), (CANCEL, COMPLETE_NOT_CANCELLED)],
    ids=["suspend", "resume", "cancel"],
)
def test_a_complete_transaction_warns_with_the_documented_text(
    signix_mock: Mock, transaction: str, request_text: str, warning: str
) -> None:
    to_state(signix_mock, transaction, COMPLETE)

    answer = run(envelope(request_text, transaction_id=transaction))

    assert (answer.status_code, answer.status_desc) == (1, warning)
    assert status(signix_mock, transaction) == COMPLETE
    assert signix_mock.violations == []


@pytest.mark.parametrize(
    ("state", "warning"),
    [(EXPIRED, EXPIRED_NOT_CANCELLED), (CANCELLED, CANCELLED_NOT_CANCELLED), (COMPLETE, COMPLETE_NOT_CANCELLED)],
)
def test_cancel_of_an_ended_transaction_warns_with_the_documented_text(
    signix_mock: Mock, transaction: str, state: str, warning: str
) -> None:
    to_state(signix_mock, transaction, state)

    answer = run(envelope(CANCEL, transaction_id=transaction))

    assert (answer.status_code, answer.status_desc) == (1, warning)
    assert answer.has_data and len(answer.items) == 1
    assert status(signix_mock, transaction) == state
    assert signix_mock.violations == []


def test_a_cancelled_transaction_cannot_be_resumed(signix_mock: Mock, transaction: str) -> None:
    to_state(signix_mock, transaction, CANCELLED)

    answer = run(envelope(RESUME, transaction_id=transaction))

    assert answer.status_code == 2  # x-assumptions resume_not_suspended, single_request_failure
    (item,) = answer.items
    assert json.loads(item.content)["status"] == "error"
    assert status(signix_mock, transaction) == CANCELLED
    # a documented refusal on state is the API working, not a client mistake
    assert signix_mock.violations == []
    assert signix_mock.journal.entries(outcome="refused")[-1].rule == "resume_suspended"


def test_the_transaction_can_be_named_by_its_document_set_id(signix_mock: Mock) -> None:
    made = signix_mock.control.add_transaction(document_set_id="-147fb68b:1043a5db9ca:-7f5fid11or")

    answer = run(envelope(SUSPEND, document_set_id="-147fb68b:1043a5db9ca:-7f5fid11or"))

    assert answer.status_code == 0
    assert status(signix_mock, made["transaction_id"]) == SUSPENDED
    assert signix_mock.violations == []


# -- the multiple request format -----------------------------------------------------------------------------------


def test_a_batch_that_fails_stops_there_and_rolls_back(signix_mock: Mock, transaction: str) -> None:
    before = party(signix_mock, transaction, "P01").email
    response = submit(
        envelope(
            change_email("P01", "new.first@example.com"),
            change_email("P99", "nobody@example.com"),
            transaction_id=transaction,
            batch=True,
        )
    )

    answer = answer_of(response)
    assert answer.status_code == 2
    assert [item.code for item in answer.items] == [0, 2]
    responses = etree.fromstring(response.content).find(f"{NS}Data/{NS}Responses")
    assert [child.tag for child in responses] == [f"{NS}Response", f"{NS}Response"]  # nothing after the failed one
    assert party(signix_mock, transaction, "P01").email == before  # "any successful updates were rolled back"
    assert signix_mock.violations == []


def test_requests_after_the_failed_one_are_not_run(signix_mock: Mock, transaction: str) -> None:
    before = (party(signix_mock, transaction, "P01").email, party(signix_mock, transaction, "P02").phone)

    answer = run(
        envelope(
            change_email("P01", "new.first@example.com"),
            change_email("P99", "nobody@example.com"),
            change_phone("P02", "9998887777"),
            transaction_id=transaction,
            batch=True,
        )
    )

    assert answer.status_code == 2
    assert [(item.code, json.loads(item.content)["status"]) for item in answer.items] == [(0, "success"), (2, "error")]
    after = (party(signix_mock, transaction, "P01").email, party(signix_mock, transaction, "P02").phone)
    assert after == before
    assert signix_mock.violations == []


def test_a_batch_that_succeeds_answers_each_request_and_saves(signix_mock: Mock, transaction: str) -> None:
    answer = run(
        envelope(
            change_email("P01", "new.first@example.com"),
            change_phone("P02", "9998887777"),
            send_pickup_email("P01"),
            transaction_id=transaction,
            batch=True,
        )
    )

    assert (answer.status_code, answer.status_desc) == (0, "success")
    assert answer.multi
    assert [(item.code, item.desc) for item in answer.items] == [(0, "success")] * 3
    assert [json.loads(item.content)["objectType"] for item in answer.items] == [
        "Transaction_SaveDeltas",
        "Transaction_SaveDeltas",
        "Transaction_SendPartyEmail",
    ]
    assert party(signix_mock, transaction, "P01").email == "new.first@example.com"
    assert party(signix_mock, transaction, "P02").phone == "9998887777"
    assert party(signix_mock, transaction, "P01").emails_sent == 1
    assert signix_mock.violations == []


# -- failures before any JSON runs (>= 100, no Data) ---------------------------------------------------------------


def out_of_order(xml: str) -> str:
    return xml.replace(
        "<Sponsor>oem</Sponsor><Client>oemclient</Client>", "<Client>oemclient</Client><Sponsor>oem</Sponsor>"
    )


def lower_case_pswd(xml: str) -> str:
    return xml.replace("<Pswd>", "<pswd>").replace("</Pswd>", "</pswd>")


def short_transaction_id(xml: str) -> str:
    start = xml.index("<TransactionID>") + len("<TransactionID>")
    return xml[:start] + xml[start + 1 :]  # 35 characters


def half(xml: str) -> str:
    return xml[: len(xml) // 2]


def cut_after_the_password(xml: str) -> str:
    return xml[: xml.index("</Pswd>")]


@ALLOW
@pytest.mark.parametrize(
    ("breaks", "code"),
    [(half, 100), (out_of_order, 101), (lower_case_pswd, 101), (short_transaction_id, 101)],
    ids=["not well-formed", "CustInfo out of order", "pswd lower case", "TransactionID of 35 characters"],
)
def test_an_envelope_the_xsd_refuses_fails_before_any_json(signix_mock: Mock, transaction: str, breaks, code) -> None:
    xml = breaks(envelope(SUSPEND, transaction_id=transaction))

    answer = run(xml)

    refused_before_json(answer)
    assert answer.status_code == code  # 101: provider-notes (XSD failure); 100: x-assumptions hostile_xml
    assert status(signix_mock, transaction) == IN_PROGRESS
    assert len(signix_mock.violations) == 1


def test_a_wrong_password_fails_before_any_json_and_is_no_violation(signix_mock: Mock, transaction: str) -> None:
    answer = run(envelope(SUSPEND, transaction_id=transaction, cust_info={**CUST_INFO, "Pswd": "not-the-password"}))

    refused_before_json(answer)
    assert status(signix_mock, transaction) == IN_PROGRESS
    assert signix_mock.violations == []  # the envelope is right; the account's password is not


def test_the_password_is_case_sensitive(signix_mock: Mock, transaction: str) -> None:
    refused_before_json(
        run(envelope(SUSPEND, transaction_id=transaction, cust_info={**CUST_INFO, "Pswd": CUST_INFO["Pswd"].upper()}))
    )
    assert status(signix_mock, transaction) == IN_PROGRESS


@pytest.mark.parametrize("named_by", ["TransactionID", "DocumentSetID"])
def test_an_unknown_transaction_fails_before_any_json(signix_mock: Mock, transaction: str, named_by: str) -> None:
    if named_by == "TransactionID":
        xml = envelope(SUSPEND, transaction_id="aefd45aa-6a36-4ab5-8cc8-4dc6e895fa21")
    else:
        xml = envelope(SUSPEND, document_set_id="-147fb68b:1043a5db9ca:-7f5fid11or")

    refused_before_json(run(xml))
    assert status(signix_mock, transaction) == IN_PROGRESS
    assert signix_mock.violations == []


@ALLOW
def test_a_form_without_request_is_answered_in_xml(signix_mock: Mock) -> None:
    response = requests.post(URL, data={"method": "SubmitAjax"})

    refused_before_json(answer_of(response))  # x-assumptions http_status_always_200
    (violation,) = signix_mock.violations
    assert "'request' is a required property" in violation.detail


# -- hostile XML ---------------------------------------------------------------------------------------------------


@ALLOW
def test_an_external_entity_is_never_read(signix_mock: Mock, transaction: str) -> None:
    xml = (
        envelope(SUSPEND, transaction_id=transaction)
        .replace("?>", '?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', 1)
        .replace("<Sponsor>oem</Sponsor>", "<Sponsor>&e;</Sponsor>")
    )
    assert "<!DOCTYPE x" in xml and "<Sponsor>&e;</Sponsor>" in xml

    response = submit(xml)

    refused_before_json(answer_of(response))
    assert "root:" not in response.text
    assert status(signix_mock, transaction) == IN_PROGRESS
    (violation,) = signix_mock.violations
    assert violation.spec_pointer == "/x-ajax/envelope-rules/0"  # xml_well_formed


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
    + "]>"
)


@ALLOW
def test_billion_laughs_is_refused_without_expanding(signix_mock: Mock, transaction: str) -> None:
    xml = envelope(SUSPEND, transaction_id=transaction)
    xml = BILLION_LAUGHS + xml[xml.index("?>") + 2 :].replace("<Sponsor>oem</Sponsor>", "<Sponsor>&lol9;</Sponsor>")
    assert "<Sponsor>&lol9;</Sponsor>" in xml

    response = submit(xml)  # returns at all: nothing was expanded (timing is not asserted)

    refused_before_json(answer_of(response))
    assert "lollol" not in response.text
    assert status(signix_mock, transaction) == IN_PROGRESS


@ALLOW
def test_deeply_nested_elements_are_refused(signix_mock: Mock, transaction: str) -> None:
    xml = envelope(SUSPEND, transaction_id=transaction)
    xml = xml.replace(f"<Request>{SUSPEND}</Request>", "<Request>" + "<x>" * 10_000 + "</x>" * 10_000 + "</Request>")
    assert xml.count("<x>") == 10_000

    refused_before_json(run(xml))
    assert status(signix_mock, transaction) == IN_PROGRESS


@ALLOW
def test_a_50_mb_request_field_is_refused(signix_mock: Mock, transaction: str) -> None:
    head, tail = envelope("{}", transaction_id=transaction).split("{}")
    # Built once, already form-encoded ("A" needs no escaping): about 50 MB in memory, not several copies.
    body = b"method=SubmitAjax&request=" + quote(head).encode() + b"A" * (50 * 1024 * 1024) + quote(tail).encode()

    response = requests.post(URL, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    del body

    refused_before_json(answer_of(response))
    assert len(response.content) < 10_000
    assert status(signix_mock, transaction) == IN_PROGRESS


# -- violations: the client's mistakes, listed with where the spec states the rule ---------------------------------


def invalid_xml(transaction_id: str) -> str:
    return envelope(SUSPEND, transaction_id=transaction_id).removesuffix("</SubmitAjaxRq>")  # no end tag


def elements_out_of_order(transaction_id: str) -> str:
    return out_of_order(envelope(SUSPEND, transaction_id=transaction_id))


def email_and_phone_in_one_save_deltas(transaction_id: str) -> str:
    both = json.loads(change_email("P01", "new.first@example.com"))
    both["deltas"][0]["role"]["party"]["phoneTable"] = json.loads(change_phone("P01", "9998887777"))["deltas"][0][
        "role"
    ]["party"]["phoneTable"]
    return envelope(json.dumps(both), transaction_id=transaction_id)


def single_quoted_json(transaction_id: str) -> str:
    return envelope("{'objectType':'Transaction_Suspend'}", transaction_id=transaction_id)


def suspend_inside_requests(transaction_id: str) -> str:
    return envelope(change_email("P01", "new.first@example.com"), SUSPEND, transaction_id=transaction_id, batch=True)


VIOLATIONS = [
    (invalid_xml, 100, "/x-ajax/envelope-rules/0"),
    (elements_out_of_order, 101, "/x-ajax/envelope-rules/1"),
    (email_and_phone_in_one_save_deltas, 2, "/x-ajax/requests/Transaction_SaveDeltas/schema"),
    (single_quoted_json, 0, "/x-ajax/client-rules/1"),  # accepted (lenient_single_quotes), but strict_json
    (suspend_inside_requests, 0, "/x-ajax/client-rules/0"),  # single_format_for_state_changes
]


@ALLOW
@pytest.mark.parametrize(("client", "code", "pointer"), VIOLATIONS, ids=lambda v: getattr(v, "__name__", None))
def test_a_client_mistake_is_listed_with_its_rule_and_spec_pointer(
    signix_mock: Mock, transaction: str, client, code: int, pointer: str
) -> None:
    answer = run(client(transaction))

    assert answer.status_code == code
    (violation,) = signix_mock.violations
    assert (violation.provider, violation.operation) == ("signix", "submitAjax")
    assert violation.rule and violation.source and violation.detail
    assert violation.spec_pointer == pointer
    assert at(DOCUMENT, violation.spec_pointer) is not None  # a real place in specs/signix/signix.yaml
    assert "[redacted]" in violation.received and CUST_INFO["Pswd"] not in violation.received


@ALLOW
@pytest.mark.parametrize("breaks", [lower_case_pswd, cut_after_the_password], ids=["pswd lower case", "cut in Pswd"])
def test_the_password_never_shows_in_a_violation(signix_mock: Mock, transaction: str, breaks) -> None:
    xml = breaks(envelope(SUSPEND, transaction_id=transaction))
    assert "signix-mock-password" in xml

    refused_before_json(run(xml))

    (violation,) = signix_mock.violations
    assert "signix-mock" not in violation.received and "signix-mock" not in str(violation)


@ALLOW
def test_single_quoted_json_is_run_as_the_docs_print_it(signix_mock: Mock, transaction: str) -> None:
    # x-assumptions lenient_single_quotes: accepted (a strict_json violation), but the docs' unterminated
    # {'objectType':'Transaction_Suspend' is not JSON at all (request_is_json)
    assert run(single_quoted_json(transaction)).status_code == 0
    assert status(signix_mock, transaction) == SUSPENDED

    unterminated = run(envelope("{'objectType':'Transaction_Resume'", transaction_id=transaction))

    assert unterminated.status_code == 2
    assert status(signix_mock, transaction) == SUSPENDED
    assert [v.spec_pointer for v in signix_mock.violations] == ["/x-ajax/client-rules/1", "/x-ajax/request-rules/0"]


# -- control actions -----------------------------------------------------------------------------------------------


def test_add_transaction_returns_its_ids_and_parties(signix_mock: Mock) -> None:
    made = signix_mock.control.add_transaction(
        transaction_id="aefd45aa-6a36-4ab5-8cc8-4dc6e895fa21",
        parties=[{"ref_id": "REF112233", "email": "AAAAAAAAAAAAA@test.com", "phone": "2221231234"}],
    )

    assert made["transaction_id"] == "aefd45aa-6a36-4ab5-8cc8-4dc6e895fa21"
    assert made["document_set_id"] and made["status"] == IN_PROGRESS
    assert made["parties"] == [{"ref_id": "REF112233", "email": "AAAAAAAAAAAAA@test.com", "phone": "2221231234"}]
    default = signix_mock.control.add_transaction()
    assert len(default["transaction_id"]) == 36 and default["transaction_id"] != made["transaction_id"]
    assert [p["ref_id"] for p in default["parties"]] == ["P01", "P02"]


def test_control_actions_refuse_what_the_model_does_not_have(signix_mock: Mock, transaction: str) -> None:
    with pytest.raises(ControlError, match="no transaction"):
        signix_mock.control.complete("aefd45aa-6a36-4ab5-8cc8-4dc6e895fa21")
    with pytest.raises(ControlError, match="no transaction"):
        signix_mock.control.expire("aefd45aa-6a36-4ab5-8cc8-4dc6e895fa21")
    with pytest.raises(ControlError, match="36 characters"):
        signix_mock.control.add_transaction(transaction_id="too-short")
    with pytest.raises(ControlError, match="exists already"):
        signix_mock.control.add_transaction(transaction_id=transaction)
    signix_mock.control.complete(transaction)
    with pytest.raises(ControlError, match="only an open one"):
        signix_mock.control.expire(transaction)
