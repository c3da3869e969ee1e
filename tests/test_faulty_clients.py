"""The `stiply_mock` fixture reports faulty clients: each breaks one documented rule, as user code would.

Each client is a small function using `requests` against https://api.stiply.nl/v1. The mock must list
the request as a violation (operation, rule, where the spec says so) and fail the test at teardown,
unless the test is marked `esign_allow_violations`. A request refused for an unmet precondition is the
API working as documented: journaled as "refused", never a violation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import requests

from esign_contracts.mocks import Mock
from esign_contracts.specs import load_contract

from .faulty_support import assert_listed

BASE = "https://api.stiply.nl/v1"
AUTH = ("stiply-user", "stiply-password")
PDF = b"%PDF-1.4\n%faulty client\n%%EOF\n"
CONTRACT = load_contract("stiply")


# -- what a client does right --------------------------------------------------------------------------------


def create_sign_request() -> str:
    answer = requests.post(
        f"{BASE}/sign_requests",
        files={"file": ("contract.pdf", PDF, "application/pdf")},
        data={"term": "2w"},
        auth=AUTH,
    )
    answer.raise_for_status()
    return answer.json()["data"]["sign_request"]["key"]


def add_signer(key: str) -> requests.Response:
    body = {"signer_email": "signer@example.com", "signer_signature_fields": [{"name": "signature1"}]}
    return requests.post(f"{BASE}/sign_requests/{key}/signers", json=body, auth=AUTH)


# -- faulty clients: each breaks one rule ----------------------------------------------------------------------


def ping_without_credentials() -> requests.Response:
    return requests.post(f"{BASE}/actions/ping", json={"ping_value": "pong"})


def ping_with_hand_written_json() -> requests.Response:
    # unquoted keys: not JSON, though the header says so
    headers = {"Content-Type": "application/json"}
    return requests.post(f"{BASE}/actions/ping", data="{ping_value: pong}", headers=headers, auth=AUTH)


def add_signer_without_email() -> requests.Response:
    key = create_sign_request()
    body = {"signer_signature_fields": [{"name": "signature1"}]}
    return requests.post(f"{BASE}/sign_requests/{key}/signers", json=body, auth=AUTH)


def upload_a_text_file() -> requests.Response:
    files = {"file": ("contract.txt", b"not a document", "text/plain")}
    return requests.post(f"{BASE}/sign_requests", files=files, data={"term": "2w"}, auth=AUTH)


def upload_to_a_misspelt_path() -> requests.Response:
    files = {"file": ("contract.pdf", PDF, "application/pdf")}
    return requests.post(f"{BASE}/signrequests", files=files, data={"term": "2w"}, auth=AUTH)


def remind_with_get() -> requests.Response:
    # what public PHP wrappers do (x-assumptions get_wrappers); the docs say POST
    return requests.get(f"{BASE}/sign_requests/{create_sign_request()}/actions/send_reminder", auth=AUTH)


def signature_field_off_the_page() -> requests.Response:
    key = create_sign_request()
    field = {"page": 1, "x": 600, "y": 100}  # X-max is 516
    body = {"signer_email": "signer@example.com", "signer_signature_fields": [field]}
    return requests.post(f"{BASE}/sign_requests/{key}/signers", json=body, auth=AUTH)


@dataclass(frozen=True)
class FaultyClient:
    client: Callable[[], requests.Response]
    status: int
    operation: str
    rule: str
    detail: str  # words the violation's detail must contain
    where: str  # where the spec says so: the violation's JSON pointer into the spec, or its docs source


FAULTY_CLIENTS = [
    FaultyClient(
        ping_without_credentials, 401, "ping", "credentials", "no 'Authorization: Basic", "/components/securitySchemes"
    ),
    FaultyClient(
        ping_with_hand_written_json,
        400,
        "ping",
        "JSON",
        "is not valid JSON",
        "/paths/~1actions~1ping/post/requestBody/content/application~1json/schema",
    ),
    FaultyClient(
        add_signer_without_email,
        400,
        "createSigner",
        "request schema",
        "'signer_email' is a required property",
        "/components/schemas/CreateSignerRequest/required",
    ),
    FaultyClient(
        upload_a_text_file,
        415,
        "createSignRequest",
        "file type",
        "'contract.txt' of type text/plain is not one of pdf, doc, docx",
        "/paths/~1sign_requests/post/requestBody/content/multipart~1form-data/encoding/file",
    ),
    FaultyClient(
        upload_to_a_misspelt_path,
        404,
        "(no documented operation)",
        "documented operation",
        "POST /v1/signrequests matches no documented operation; nearest: POST /sign_requests (createSignRequest); ",
        "Stiply API v1 > Reference",
    ),
    FaultyClient(
        remind_with_get,
        405,
        "(no documented operation)",
        "documented operation",
        "GET is not documented for /v1/sign_requests/",
        "Stiply API v1 > Reference",
    ),
    FaultyClient(
        signature_field_off_the_page,
        400,
        "createSigner",
        "request schema",
        "600 is greater than the maximum of 516",
        "/components/schemas/SignatureFieldInput/properties/x/maximum",
    ),
]


@pytest.mark.esign_allow_violations
@pytest.mark.parametrize("faulty", FAULTY_CLIENTS, ids=lambda f: f.client.__name__)
def test_the_mock_lists_the_violation(faulty: FaultyClient, stiply_mock: Mock):
    assert_listed(faulty, stiply_mock)


@pytest.mark.esign_allow_violations
@pytest.mark.parametrize(
    "faulty",
    [pytest.param(f, id=f.client.__name__) for f in FAULTY_CLIENTS],
)
def test_the_violation_says_where_the_spec_states_the_rule(faulty: FaultyClient, stiply_mock: Mock):
    faulty.client()

    (violation,) = stiply_mock.violations
    if faulty.where.startswith("/"):
        assert violation.spec_pointer == faulty.where
        CONTRACT.resolve(violation.spec_pointer)  # a real place in specs/stiply.yaml
    else:
        assert (violation.spec_pointer, violation.source) == ("", faulty.where)


def test_a_refused_precondition_is_journaled_not_a_violation(stiply_mock: Mock):
    key = create_sign_request()
    assert add_signer(key).status_code == 200
    assert requests.post(f"{BASE}/sign_requests/{key}/actions/send", auth=AUTH).status_code == 200

    late = add_signer(key)  # "Sign request has not been sent" (Create signer > Preconditions)

    assert late.status_code == 403
    assert stiply_mock.violations == []
    refused = stiply_mock.journal.entries(operation="createSigner", outcome="refused")
    assert [(e.status, e.rule) for e in refused] == [(403, "not_sent")]


INNER_TEST = """
import pytest
import requests
{client}

{marker}
def test_client(stiply_mock):
    client()
"""


def run_inner(pytester: pytest.Pytester, client: str, allow: bool) -> pytest.RunResult:
    marker = "@pytest.mark.esign_allow_violations" if allow else ""
    pytester.makepyfile(test_inner=INNER_TEST.format(client=client, marker=marker))
    return pytester.runpytest_inprocess("-p", "no:cacheprovider")


CLIENT_SOURCE = """
def client():
    headers = {"Content-Type": "application/json"}
    requests.post("https://api.stiply.nl/v1/actions/ping", data="{ping_value: pong}", headers=headers,
                  auth=("stiply-user", "stiply-password"))
    requests.post("https://api.stiply.nl/v1/actions/ping", json={"ping_value": "pong"})
"""


def test_the_fixture_fails_the_test_at_teardown_listing_each_violation(pytester: pytest.Pytester):
    result = run_inner(pytester, CLIENT_SOURCE, allow=False)

    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_client*",
            "*ContractViolated: the client sent 2 request(s) that break the stiply contract:",
            "*- [[]stiply[]] ping: JSON — body: is not valid JSON*; documented in Stiply API v1 > Ping "
            "(spec: /paths/~1actions~1ping/post/requestBody/content/application~1json/schema)*",
            "*- [[]stiply[]] ping: credentials — no 'Authorization: Basic …' header; documented in security scheme "
            "(spec: /components/securitySchemes)*",
            "*(mark the test with @pytest.mark.esign_allow_violations if that is what it tests)",
        ]
    )


def test_the_allow_marker_lets_the_test_pass(pytester: pytest.Pytester):
    result = run_inner(pytester, CLIENT_SOURCE, allow=True)

    result.assert_outcomes(passed=1)


def test_a_correct_client_passes_without_the_marker(pytester: pytest.Pytester):
    client = """
def client():
    answer = requests.post("https://api.stiply.nl/v1/actions/ping", json={"ping_value": "pong"},
                           auth=("stiply-user", "stiply-password"))
    assert answer.json() == {"ping_value": "pong", "status_code": "200"}
"""
    result = run_inner(pytester, client, allow=False)

    result.assert_outcomes(passed=1)
