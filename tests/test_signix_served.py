"""SIGNiX served over HTTP (`esign-contracts serve signix`): hostile documents get a SubmitAjaxRs with a code of
100 or more and no Data, never a 5xx or a hang; the control API seeds, completes and expires transactions.

The in-process behaviour is in test_mock_signix.py; this is the same model behind cheroot, as clients in any
language meet it.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
import requests

from esign_contracts.contracts.serve import Running
from esign_contracts.mocks import Mock
from esign_contracts.mocks.signix_xml import read_answer
from esign_contracts.mocks.wsgi import MAX_BODY_BYTES

PATH = "/sdd/b2b/sdddc_ns.jsp"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
HANG_GUARD_SECONDS = 60  # a request timeout, so that a hang fails the test instead of stalling CI


def envelope(transaction_id: str, request: str = '{"objectType":"Transaction_Suspend"}', head: str = "") -> str:
    return (
        f'<?xml version="1.0" ?>{head}<SubmitAjaxRq xmlns="urn:com:signix:schema:sdddc-1-1"><CustInfo>'
        "<Sponsor>oem</Sponsor><Client>oemclient</Client><UserId>oemclient</UserId>"
        "<Pswd>signix-mock-password</Pswd></CustInfo>"
        f"<Data><TransactionID>{transaction_id}</TransactionID><Request>{request}</Request></Data></SubmitAjaxRq>"
    )


@pytest.fixture(scope="module")
def served():  # type: ignore[no-untyped-def]
    mock = Mock("signix")
    with Running([mock]) as running:
        yield mock, f"http://127.0.0.1:{running.port}"


def post(url: str, body: bytes | str, headers: dict[str, str] = FORM) -> requests.Response:
    return requests.post(url + PATH, data=body, headers=headers, timeout=HANG_GUARD_SECONDS)


def refused_before_json(answer: requests.Response) -> int:
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/xml"), answer.text[:300]
    parsed = read_answer(answer.content)
    assert not parsed.problems, parsed.problems
    assert parsed.status_code >= 100 and not parsed.has_data, answer.text[:300]
    return parsed.status_code


XXE = '<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
    + "]>"
)


@pytest.mark.parametrize(
    ("name", "document"),
    [
        ("xxe", lambda t: envelope(t, "&e;", XXE)),
        ("billion laughs", lambda t: envelope(t, "&lol9;", LAUGHS)),
        ("10,000 nested elements", lambda t: envelope(t, "<a>" * 10_000 + "</a>" * 10_000)),
        ("not XML", lambda t: "{'objectType':'Transaction_Cancel'"),
        (
            "a DTD in UTF-16",
            lambda t: envelope(t, "x", XXE).replace('version="1.0" ?>', 'version="1.0" encoding="UTF-16"?>'),
        ),
    ],
)
def test_a_hostile_document_gets_a_code_of_100_or_more_and_no_data(served, name: str, document) -> None:  # type: ignore[no-untyped-def]
    mock, url = served
    transaction = mock.control.add_transaction()["transaction_id"]
    answer = post(url, urlencode({"method": "SubmitAjax", "request": document(transaction)}))
    refused_before_json(answer)
    assert "root:" not in answer.text
    assert mock.model.transactions[transaction].status == "in progress"
    assert post(url, urlencode({"method": "SubmitAjax", "request": envelope(transaction)})).status_code == 200


def test_a_body_over_the_server_limit_is_answered_as_a_submitajaxrs(served) -> None:  # type: ignore[no-untyped-def]
    _, url = served
    huge = b"method=SubmitAjax&request=" + b"A" * (MAX_BODY_BYTES + 1)
    assert refused_before_json(post(url, huge)) >= 100


@pytest.mark.parametrize(
    "body",
    [b"", b"method=SubmitAjax", b"request=%3Cx", b"\xff\xfe\x00garbage", b"method=SubmitAjax&request=%ZZ"],
    ids=["empty", "no request", "no method", "not UTF-8", "bad escape"],
)
def test_a_broken_form_gets_a_submitajaxrs_not_a_5xx(served, body: bytes) -> None:  # type: ignore[no-untyped-def]
    _, url = served
    answer = post(url, body)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/xml")
    assert read_answer(answer.content).status_code >= 0


def test_the_control_api_seeds_completes_and_expires_transactions(served) -> None:  # type: ignore[no-untyped-def]
    mock, url = served
    actions = f"{url}/__control/signix/actions"
    parties = [{"ref_id": "REF112233", "email": "a@example.com", "phone": "2221231234"}]
    made = requests.post(f"{actions}/add_transaction", json={"parties": parties}, timeout=10)
    assert made.status_code == 200, made.text
    seeded = made.json()
    transaction = seeded["result"]["transaction_id"]
    assert mock.model.transactions[transaction].parties["REF112233"].email == "a@example.com"
    assert requests.post(f"{actions}/complete", json={"transaction_id": transaction}, timeout=10).status_code == 200
    assert mock.model.transactions[transaction].status == "complete"
    # a complete transaction warns on suspend, with the documented words
    answer = read_answer(post(url, urlencode({"method": "SubmitAjax", "request": envelope(transaction)})).content)
    assert answer.status_code == 1 and "already been completed and cannot be suspended" in answer.status_desc
    other = mock.control.add_transaction()["transaction_id"]
    assert requests.post(f"{actions}/expire", json={"transaction_id": other}, timeout=10).status_code == 200
    again = requests.post(f"{actions}/expire", json={"transaction_id": other}, timeout=10)
    assert again.status_code == 409 and "only an open one expires" in again.text


CUST_INFO = {"SIGNIX_SPONSOR": "oem", "SIGNIX_CLIENT": "oemclient", "SIGNIX_USER_ID": "oemclient"}
NO_SUCCESS = "successful requests: none of the run's requests succeeded"


def test_a_run_in_which_nothing_succeeds_says_it_shows_nothing_of_the_credentials(served) -> None:  # type: ignore[no-untyped-def]
    """SIGNiX documents no answer for wrong credentials: with no transaction to work on, every request is refused
    whatever the password, so a wrong one passed unnoticed; the report now says that nothing succeeded."""
    from esign_contracts.contracts.check import Budget, check

    _, url = served
    env = {**CUST_INFO, "SIGNIX_PASSWORD": "not-the-password"}
    report = check("signix", url, budget=Budget(examples=1, sequences=1), env=env)
    assert report.ok  # every refusal is one the docs allow: the run itself finds nothing wrong
    assert any(reason.startswith(NO_SUCCESS) for reason in report.skipped), report.render()
    assert NO_SUCCESS in report.render()


def test_a_run_with_a_transaction_and_the_right_password_succeeds(served) -> None:  # type: ignore[no-untyped-def]
    from esign_contracts.contracts.check import Budget, check

    mock, url = served
    seeded = mock.control.add_transaction()
    given = f"{seeded['transaction_id']}={','.join(p['ref_id'] for p in seeded['parties'])}"
    env = {**CUST_INFO, "SIGNIX_PASSWORD": "signix-mock-password", "SIGNIX_TRANSACTIONS": given}
    report = check("signix", url, budget=Budget(examples=1, sequences=2), env=env)
    assert report.ok, report.render()
    assert not any(reason.startswith(NO_SUCCESS) for reason in report.skipped), report.render()
