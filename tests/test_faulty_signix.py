"""Faulty SIGNiX servers are caught by `check`; faulty SIGNiX clients are listed by the `signix_mock` fixture.

Servers: each model in tests/faulty_signix.py breaks one documented rule; `check` runs in-process against it
(`mock=`: the in-process target has the control actions that seed transactions and make them complete or
expired, which a remote SIGNiX test host does not offer) and must report a finding that names the broken rule.

Clients: small `requests` functions that each break one rule of specs/signix/signix.yaml; the mock answers as
SIGNiX would and lists a violation with the rule and where the spec states it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from lxml import etree

from esign_contracts.contracts.check import Budget, check
from esign_contracts.contracts.report import Report
from esign_contracts.mocks import Mock
from esign_contracts.mocks.signix import CANCELLED, Signix
from esign_contracts.mocks.signix_xml import read_answer
from esign_contracts.specs import load_contract
from esign_contracts.specs.ajax import NAMESPACE
from esign_contracts.specs.contract import at

from .faulty_signix import FAULTS, Fault, SuspendsCompleteForReal, WarnsWithOtherWords, caught, mock_of

DOCUMENT = load_contract("signix").document
AJAX = DOCUMENT["x-ajax"]

# Budget: 1 Schemathesis example, 10 sequences of up to 40 steps (about 240 requests, 2-3 s per run; the file
# takes about 45 s on a 2-core machine). Measured at seed 0 over the grid examples=1, sequences 5-30, steps 10-50,
# by recording which rules a clean run leaves unmet (a fault is caught exactly when the clean run reaches its
# rule), then confirmed fault by fault: the envelope, batch and answer faults are mostly caught from (1, 5, 10)
# on; the six documented warnings need a transaction brought to a state (complete, expired, cancelled,
# suspended) and then the one request that warns on it.
# - (1, 8, 30) is the smallest budget that reaches all of them on the current contracts/, but not with both
#   fixes proposed for contracts/stateful.py and contracts/envelopes.py (the latter adds a draw), and its
#   neighbours (1, 8, 25), (1, 8, 40) and (1, 10, 30) miss one.
# - (1, 10, 40) catches every fault on the current contracts/, with the stateful.py fix, and with both fixes;
#   (1, 12, 40) and (1, 15, 40) reach all warnings too.
# Coverage is not monotonic in the budget, and at other seeds (1, 10, 40) reaches all six warnings at only 6 of
# seeds 0-9: a change to the generators needs this budget measured again.
BUDGET = Budget(examples=1, sequences=10, steps=40)


def run_check(model: Signix) -> Report:
    return check("signix", mock=mock_of(model), seed=0, budget=BUDGET)


# == faulty servers =============================================================================================


def test_the_correct_model_is_conformant_and_reaches_every_documented_warning():
    report = run_check(Signix())

    assert report.ok, report.render()
    # the documented warnings were asked for (else the warning faults below could not be caught)
    for object_type in ("Transaction_Suspend", "Transaction_Resume", "Transaction_Cancel"):
        assert report.exercised[(object_type, 1)] > 0, sorted(report.exercised)


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.id)
def test_check_catches_the_faulty_server(fault: Fault):
    report = run_check(fault.model())

    assert not report.ok
    found = caught(fault, report)
    assert found, f"no finding matching {fault.finding!r} / {fault.detail!r}:\n{report.render()}"
    assert found.source and found.reproduce == "esign-contracts check signix --seed 0"


def spec_rules() -> dict[str, dict[str, Any]]:
    """Every rule of x-ajax by id: envelope, request, client rules and each request's own."""
    found = {r["id"]: r for section in ("envelope-rules", "request-rules", "client-rules") for r in AJAX[section]}
    for spec in AJAX["requests"].values():
        found.update({r["id"]: r for r in spec.get("rules", [])})
    return found


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.id)
def test_each_fault_names_the_rule_it_breaks_and_where_it_is_documented(fault: Fault):
    doc = " ".join((fault.model.__doc__ or "").split())
    assert "x-source: " in doc, f"{fault.model.__name__} does not say where its rule is documented"
    if fault.rule_id is not None:
        rule = spec_rules()[fault.rule_id]
        assert rule["rule"] in doc, f"{fault.model.__name__} does not quote {fault.rule_id}: {rule['rule']!r}"
        if "warning" in rule:
            assert rule["warning"] in doc
        if Signix.preconditions[fault.rule_id] in ("_well_formed", "_valid"):
            assert "run" in vars(fault.model)  # decided while parsing, not by the precondition method
        else:
            assert Signix.preconditions[fault.rule_id] in vars(fault.model)  # the model overrides the rule


def test_every_documented_warning_is_ignored_by_a_fault():
    warnings = {rule_id for rule_id, rule in spec_rules().items() if rule.get("warning")}
    ignored = {f.rule_id for f in FAULTS if f.rule_id and Signix.preconditions[f.rule_id] in vars(f.model)}
    assert warnings <= ignored, warnings - ignored


def test_a_server_whose_state_leaves_the_model_is_reported_not_crashed():
    report = run_check(SuspendsCompleteForReal())

    assert not report.ok
    assert caught(next(f for f in FAULTS if f.id == "suspends-complete"), report), report.render()


def test_a_warning_with_other_words_is_caught():
    report = run_check(WarnsWithOtherWords())

    assert not report.ok, "a warning that says 'warning' instead of the documented text passed"


# Faults a black-box check cannot see are listed at the end of tests/faulty_signix.py.


# == faulty clients =============================================================================================

URL = "https://webtest.signix.biz/sdd/b2b/sdddc_ns.jsp"
CUST_INFO = Signix.default_credentials["CustInfo"]
NS = f"{{{NAMESPACE}}}"


def envelope(transaction_id: str, *json_requests: str, batch: bool = False) -> str:
    """A SubmitAjaxRq as the docs print it: CustInfo, then Data with the TransactionID and the request(s)."""
    root = etree.Element(f"{NS}SubmitAjaxRq", nsmap={None: NAMESPACE})
    info = etree.SubElement(root, f"{NS}CustInfo")
    for name, value in CUST_INFO.items():
        etree.SubElement(info, f"{NS}{name}").text = value
    data = etree.SubElement(root, f"{NS}Data")
    etree.SubElement(data, f"{NS}TransactionID").text = transaction_id
    holder = etree.SubElement(data, f"{NS}Requests") if batch else data
    for text in json_requests:
        etree.SubElement(holder, f"{NS}Request").text = text
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode()


def submit_ajax(xml: str) -> requests.Response:
    return requests.post(URL, data={"method": "SubmitAjax", "request": xml})


def email_delta(ref_id: str, address: str) -> dict[str, Any]:
    party = {
        "objectType": "PersonData",
        "emailAddressTable": {ref_id: {"address": address, "objectType": "EmailAddress"}},
    }
    return {
        "objectType": "Transaction_UpdateRole",
        "role": {"id": ref_id, "objectType": "TransactionRole", "party": party},
    }


def change_email(ref_id: str, address: str) -> str:
    return json.dumps({"objectType": "Transaction_SaveDeltas", "deltas": [email_delta(ref_id, address)]})


SUSPEND = json.dumps({"objectType": "Transaction_Suspend"})


# -- what a client does right --------------------------------------------------------------------------------


def suspend(transaction_id: str) -> requests.Response:
    return submit_ajax(envelope(transaction_id, SUSPEND))


def cancel(transaction_id: str) -> requests.Response:
    return submit_ajax(envelope(transaction_id, json.dumps({"objectType": "Transaction_Cancel"})))


def resume(transaction_id: str) -> requests.Response:
    return submit_ajax(envelope(transaction_id, json.dumps({"objectType": "Transaction_Resume"})))


# -- faulty clients: each breaks one rule ----------------------------------------------------------------------


def suspend_with_cust_info_out_of_order(transaction_id: str) -> requests.Response:
    # Client before Sponsor: "element order is enforced" (provider-notes > SIGNiX)
    xml = envelope(transaction_id, SUSPEND).replace(
        "<Sponsor>oem</Sponsor><Client>oemclient</Client>", "<Client>oemclient</Client><Sponsor>oem</Sponsor>"
    )
    return submit_ajax(xml)


def suspend_with_a_lower_case_element(transaction_id: str) -> requests.Response:
    # <userId>: "names are case-sensitive" (provider-notes > SIGNiX)
    return submit_ajax(envelope(transaction_id, SUSPEND).replace("UserId>", "userId>"))


def suspend_with_a_35_character_transaction_id(transaction_id: str) -> requests.Response:
    # a TransactionID copied without its last character: "Length must be exactly 36 characters"
    return submit_ajax(envelope(transaction_id[:35], SUSPEND))


def change_email_and_phone_at_once(transaction_id: str) -> requests.Response:
    # docs > Change Signer Email: "do NOT attempt to change both email and phone number in the same
    # Transaction_SaveDeltas statement"
    delta = email_delta("P01", "new.first@example.com")
    delta["role"]["party"]["phoneTable"] = {"Mobile1": {"objectType": "PhoneNumber", "number": "9998887777"}}
    return submit_ajax(
        envelope(transaction_id, json.dumps({"objectType": "Transaction_SaveDeltas", "deltas": [delta]}))
    )


def cancel_as_the_docs_print_it(transaction_id: str) -> requests.Response:
    # copied from docs > Cancel Transaction: unterminated, single-quoted (x-errata unterminated_single_quoted_json)
    return submit_ajax(envelope(transaction_id, "{'objectType':'Transaction_Cancel'"))


def suspend_with_single_quotes(transaction_id: str) -> requests.Response:
    # the docs' shorthand, terminated: read leniently, but not JSON
    return submit_ajax(envelope(transaction_id, "{'objectType':'Transaction_Suspend'}"))


def change_email_and_suspend_in_one_batch(transaction_id: str) -> requests.Response:
    # docs > Multiple Request Format: "use the single request format for items like Suspend, Resume and Cancel"
    return submit_ajax(envelope(transaction_id, change_email("P01", "new.first@example.com"), SUSPEND, batch=True))


@dataclass(frozen=True)
class FaultyClient:
    client: Callable[[str], requests.Response]
    status_code: int  # the SubmitAjaxRs StatusCode the mock answers
    pointer: str  # the violation's JSON pointer into specs/signix/signix.yaml
    rule_id: str  # the x-ajax rule whose text is the violation's rule


FAULTY_CLIENTS = [
    FaultyClient(suspend_with_cust_info_out_of_order, 101, "/x-ajax/envelope-rules/1", "xml_valid_against_xsd"),
    FaultyClient(suspend_with_a_lower_case_element, 101, "/x-ajax/envelope-rules/1", "xml_valid_against_xsd"),
    FaultyClient(suspend_with_a_35_character_transaction_id, 101, "/x-ajax/envelope-rules/1", "xml_valid_against_xsd"),
    FaultyClient(change_email_and_phone_at_once, 2, "/x-ajax/requests/Transaction_SaveDeltas/schema",
                 "request_matches_schema"),
    FaultyClient(cancel_as_the_docs_print_it, 2, "/x-ajax/request-rules/0", "request_is_json"),
    FaultyClient(suspend_with_single_quotes, 0, "/x-ajax/client-rules/1", "strict_json"),
    FaultyClient(change_email_and_suspend_in_one_batch, 0, "/x-ajax/client-rules/0", "single_format_for_state_changes"),
]  # fmt: skip


@pytest.mark.esign_allow_violations
@pytest.mark.parametrize("faulty", FAULTY_CLIENTS, ids=lambda f: f.client.__name__)
def test_the_mock_lists_the_violation(faulty: FaultyClient, signix_mock: Mock):
    transaction_id = signix_mock.control.add_transaction()["transaction_id"]

    answer = faulty.client(transaction_id)

    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/xml"), answer.text
    assert read_answer(answer.content).status_code == faulty.status_code, answer.text
    (violation,) = signix_mock.violations
    assert (violation.provider, violation.operation) == ("signix", "submitAjax")
    assert violation.rule == spec_rules()[faulty.rule_id]["rule"]
    assert violation.spec_pointer == faulty.pointer
    assert at(DOCUMENT, violation.spec_pointer) is not None  # a real place in specs/signix/signix.yaml
    assert violation.source


def test_an_unmarked_test_fails_at_teardown(pytester: pytest.Pytester):
    # The plugin's fixture turns a mistake found inside the XML into a failure, as any other violation, unless
    # the test is marked esign_allow_violations.
    pytester.makepyfile(
        """
        import tests.test_faulty_signix as clients

        def test_client(signix_mock):
            transaction_id = signix_mock.control.add_transaction()["transaction_id"]
            clients.change_email_and_suspend_in_one_batch(transaction_id)
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*ContractViolated*", "*(spec: /x-ajax/client-rules/0)*"])


# -- documented refusals: journaled, never violations ----------------------------------------------------------


def test_resuming_a_cancelled_transaction_is_refused_and_journaled_not_a_violation(signix_mock: Mock):
    transaction_id = signix_mock.control.add_transaction()["transaction_id"]
    assert read_answer(cancel(transaction_id).content).status_code == 0

    refused = read_answer(resume(transaction_id).content)

    assert refused.status_code == 2
    assert signix_mock.model.transactions[transaction_id].status == CANCELLED  # type: ignore[attr-defined]
    assert signix_mock.violations == []
    (entry,) = signix_mock.journal.entries(outcome="refused")
    assert (entry.operation, entry.rule) == ("submitAjax", "resume_suspended")


def test_the_documented_flow_sends_no_violation(signix_mock: Mock):
    transaction_id = signix_mock.control.add_transaction()["transaction_id"]
    for answer in (
        submit_ajax(envelope(transaction_id, change_email("P01", "new.first@example.com"), batch=True)),
        suspend(transaction_id),
        resume(transaction_id),
        cancel(transaction_id),
    ):
        assert read_answer(answer.content).status_code == 0, answer.text
    assert signix_mock.violations == []
