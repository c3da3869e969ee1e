"""Testing your own Stiply client against the esign-contracts mock.

With esign-contracts installed, the `stiply_mock` fixture is there without any import or conftest.
While a test uses it, every `requests` call to the Stiply API is answered in-process by a stateful
model of Stiply API v1: no network, no sandbox account. The fixture exposes:

- `base_url` and `credentials` to point your client at,
- `control` for what only a signer or time can do (sign, sign_all, expire_term, reset),
- `journal` (every request and what the mock did with it) and `violations`.

A test whose client sent a request the Stiply docs do not allow fails at teardown, listing each
violation and where the docs say so. A refusal the docs foresee (e.g. 403 for adding a signer to a
sent sign request) is not a violation: testing how your client handles it is fine.
"""

import base64

import pytest
import requests

from esign_contracts.mocks import Mock

# -- the client under test: in real life this lives in your application --------------------------


def create_sign_request(base_url: str, auth: tuple[str, str], pdf: bytes, term: str) -> str:
    """Upload a document to be signed; returns the sign request's key."""
    answer = requests.post(
        f"{base_url}/sign_requests",
        auth=auth,
        files={"file": ("contract.pdf", pdf, "application/pdf")},
        data={"term": term},
        timeout=10,
    )
    answer.raise_for_status()
    return answer.json()["data"]["sign_request"]["key"]


def add_signer(base_url: str, auth: tuple[str, str], key: str, email: str) -> str:
    """Add a signer with one signature field (placed by the tag `signature_0` in the document)."""
    answer = requests.post(
        f"{base_url}/sign_requests/{key}/signers",
        auth=auth,
        json={"signer_email": email, "signer_signature_fields": [{"name": "signature_0"}]},
        timeout=10,
    )
    answer.raise_for_status()
    return answer.json()["data"]["key"]


def send(base_url: str, auth: tuple[str, str], key: str) -> None:
    """Invite the first signer."""
    requests.post(f"{base_url}/sign_requests/{key}/actions/send", auth=auth, timeout=10).raise_for_status()


def signed_document(base_url: str, auth: tuple[str, str], key: str) -> bytes:
    """The signed PDF, once every signer has signed."""
    url = f"{base_url}/sign_requests/{key}/documents/actions/get_signed_document"
    answer = requests.get(url, auth=auth, timeout=10)
    answer.raise_for_status()
    return base64.b64decode(answer.json()["data"])


# -- the tests --------------------------------------------------------------------------------------

PDF = b"%PDF-1.4\n% a contract\n%%EOF\n"


def test_sign_request_lifecycle(stiply_mock: Mock) -> None:
    url, auth = stiply_mock.base_url, stiply_mock.credentials["basicAuth"]

    key = create_sign_request(url, auth, PDF, term="2w")
    add_signer(url, auth, key, "alice@example.com")
    send(url, auth, key)

    # Stiply refuses signers once a sign request is sent (403); the client sees an HTTPError.
    with pytest.raises(requests.HTTPError) as refused:
        add_signer(url, auth, key, "bob@example.com")
    assert refused.value.response.status_code == 403

    # Signing happens in a browser, outside the API: the control API stands in for the signers.
    stiply_mock.control.sign_all(key)
    assert signed_document(url, auth, key).startswith(b"%PDF")

    # The journal records every request (and control action) with what the mock did.
    assert [(entry.operation, entry.status) for entry in stiply_mock.journal] == [
        ("createSignRequest", 200),
        ("createSigner", 200),
        ("sendSignRequest", 200),
        ("createSigner", 403),
        ("control.sign_all", 0),
        ("getSignedDocument", 200),
    ]
    refusal = stiply_mock.journal.entries(outcome="refused")[0]
    assert (refusal.operation, refusal.rule) == ("createSigner", "not_sent")

    # A 403 the docs foresee is not the client's mistake: nothing broke the contract.
    assert stiply_mock.violations == []


@pytest.mark.esign_allow_violations
def test_client_reports_a_rejected_term(stiply_mock: Mock) -> None:
    # "2 weeks" is not a Stiply term code ("2w" is): Stiply answers 400. This test is about how the
    # client handles that answer, so the marker keeps the violation from failing it.
    url, auth = stiply_mock.base_url, stiply_mock.credentials["basicAuth"]
    with pytest.raises(requests.HTTPError) as rejected:
        create_sign_request(url, auth, PDF, term="2 weeks")
    assert rejected.value.response.status_code == 400
    [violation] = stiply_mock.violations
    assert (violation.operation, violation.rule) == ("createSignRequest", "request schema")
