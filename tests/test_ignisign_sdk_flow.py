"""The official Ignisign Node SDK's calls, replayed with `requests` against the served mock.

The SDK (`@ignisign/sdk`, GitHub ignisign/ignisign-node) cannot be installed here, so this test sends the
HTTP requests it sends, in its order, with its methods, paths, headers and bodies, and reads what it reads
from the answers. Every call is taken from these files (repository, path @ commit, lines):

- init (authentication, JWT renewal, headers): ignisign/ignisign-node src/ignisign-http.service.ts
  @ 258ade7baf831d8de6243672b0894f97d5742769 (also @ b7a51c79fa97f78070e5ec685e2ff09323ad45f7, SDK 0.0.24):
  base URL from IGNISIGN_SERVER_URL (l. 8), only its protocol and host kept (l. 56-70); `POST /v3/auth/app-api`
  (l. 10) with `{appId, appEnv, secret}` (l. 120-124) through an axios instance whose only own header is
  `Accept: application/json` (l. 37-38); it keeps `jwtToken` (l. 126-127). Before every later call it
  decodes the token's second dot-separated part as base64 JSON, asks for a new token when `exp` (seconds)
  has passed (l. 153-170), and sends `authorization: Bearer <jwtToken>` (l. 140). The answer's body is
  what the SDK returns (l. 55). Newer versions of this file (@ 52ba86674244e50d60f3813a74ac1dc296fc24a5 and
  @ 08fd82c2a891d4678dc75b5385a7f71a2e536e54) post the same body to `/v4/auth/app-api` (l. 10): not
  replayed here, the mock serves v3 only.
- the calls: ignisign/ignisign-node src/ignisign-sdk.service.ts @ c8138767c0aebbc24ec5cb156569ae65997b21ca
  (SDK 1.0.71): initSignatureRequest (l. 319-323, POST, body the DTO {signatureProfileId}),
  updateSignatureRequest (l. 325-328, PUT, body the update DTO), publishSignatureRequest (l. 330-333, POST,
  body {}), closeSignatureRequest (l. 335-338, POST, body {}), getSignatureRequestContext (l. 346-349, GET, no
  body), getWebhookEndpoints (l. 363-367, GET); their paths: src/ignisign-sdk.constant.ts
  @ a6a2d16929d4cac9563b7489c7b842ea49a1cf07 (l. 63, 66-69, 76), filled with encodeURIComponent.
- bodies: axios 0.21.4 (ignisign-node yarn.lock @ 065baca6e217795073af55695360e2baec6e2488) serializes an
  object body with JSON.stringify and `Content-Type: application/json`; axios 0.21.1, which the SDK's
  `^0.21.1` also allows, sent `application/json;charset=utf-8`. Both are replayed.
- errors: ignisign/ignisign-node src/ignisign-sdk-error.service.ts @ b7a51c79fa97f78070e5ec685e2ff09323ad45f7
  (l. 82-111): any non-2xx answer rejects; the SDK reads the body's `code` (and `message`, `stack`); a code
  it knows (IGNISIGN_ERROR_CODES, ignisign/ignisign-public-models src/_commons/ignisign-errors.public.ts
  @ 008d18400e44c40edfa12957f0a90a8cb60b6390) becomes "IGNISIGN SDK EXCEPTION: <code>", anything else is
  rethrown as the raw HTTP error.
- how an application drives it: ignisign/ignisign-examples ignisign-node/src/services/ignisign-sdk-manager.service.ts
  @ 1c33e906a5146891dbaf7fc932da474d1bf69048 (SDK 1.0.82): `await sdk.init()`, then checkWebhookEndpoint()
  lists the webhook endpoints (`.length`, warns when 0), initSignatureRequest({signatureProfileId}) and reads
  `signatureRequestId`; ignisign-node/src/services/contract.service.ts @ 085f848819789f01f67e47ac2c1d6a5485fff919
  updates with {documentIds, signerIds, externalId, title}, publishes, and reads the context's
  `documents[]._id` and `documentNature`.
- types the SDK declares for the answers: ignisign/ignisign-public-models src/signatures/signature-requests.public.ts
  @ 04147434b14437a2d36c5c790544a0992f1f9dc2 (IgnisignSignatureRequest_IdContainer, IgnisignSignatureRequest_Context),
  IgnisignJwtContainer {jwtToken: string}. The context's non-optional fields are checked, except
  `signatureRequestType`, which the model declares on the request but the docs (and the mock) put in
  `signatureProfile` only, and which no SDK code reads.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import requests

from esign_contracts.contracts.serve import Running
from esign_contracts.mocks import Mock

APP_ID, APP_ENV, SECRET = "ignisign-app", "DEVELOPMENT", "ignisign-secret"
PROFILE_ID, DOCUMENT_ID = "65f0c0ffee0000000000b001", "65f0c0ffee0000000000d001"
SIGNER_IDS = ["65f0c0ffee0000000000e001", "65f0c0ffee0000000000e002"]
AXIOS_CONTENT_TYPES = ["application/json", "application/json;charset=utf-8"]  # axios 0.21.4, 0.21.1
# ignisign-sdk.constant.ts @ a6a2d169
AUTH = "/v3/auth/app-api"
WEBHOOKS = "/v3/applications/:appId/envs/:appEnv/webhooks"
INIT = "/v3/applications/:appId/envs/:appEnv/signature-requests"
REQUEST = "/v3/signature-requests/:signatureRequestId"
PUBLISH, CLOSE, CONTEXT = f"{REQUEST}/publish", f"{REQUEST}/close", f"{REQUEST}/context"
# IGNISIGN_ERROR_CODES the mock answers (all present in ignisign-errors.public.ts @ 008d1840)
SDK_KNOWN_CODES = {
    "SIGNATURE_REQUEST_NOT_FOUND",
    "SIGNATURE_REQUEST_BAD_STATUS",
    "CANNOT_PUBLISH_SIGNATURE_REQUEST__NO_SIGNERS",
    "AUTH_HEADER_NOT_BEARER",
    "INVALID_AUTH_JWT_TOKEN",
}


def jwt_payload(token: str) -> dict[str, Any]:
    """What `Buffer.from(token.split('.')[1], 'base64')` then JSON.parse yields (Node accepts both alphabets)."""
    part = token.split(".")[1].replace("-", "+").replace("_", "/")
    return json.loads(base64.b64decode(part + "=" * (-len(part) % 4)))


class SdkReplay:
    """The SDK's HTTP behaviour, call for call; `calls` records (method, path) as sent."""

    def __init__(self, server_url: str, content_type: str) -> None:
        self.server_url, self.content_type = server_url, content_type
        self.session = requests.Session()
        self.session.headers.clear()  # axios sends its own few headers, not requests' defaults
        self.session.headers.update({"Accept": "application/json", "User-Agent": "axios/0.21.4"})
        self.jwt: str | None = None
        self.calls: list[tuple[str, str]] = []

    def request(self, method: str, template: str, params: dict[str, str], body: Any, auth: bool) -> requests.Response:
        path = template
        for name, value in params.items():  # formatUrlRequestInterceptor: encodeURIComponent into the path
            path = path.replace(f":{name}", quote(value, safe="!'()*-._~"))
        headers = {} if body is None else {"Content-Type": self.content_type}
        if auth:
            headers["authorization"] = f"Bearer {self.renewed_jwt()}"
        data = None if body is None else json.dumps(body, separators=(",", ":"))
        self.calls.append((method, path))
        return self.session.request(method, self.server_url + path, data=data, headers=headers, timeout=10)

    def send(self, method: str, template: str, params: dict[str, str], body: Any, auth: bool) -> Any:
        answer = self.request(method, template, params, body, auth)
        assert 200 <= answer.status_code < 300, f"{method} {template}: the SDK would throw: {answer.text}"
        return answer.json()  # responseStdInterceptor: resp.data, JSON-parsed by axios

    def renewed_jwt(self) -> str:
        """_renewJwtIfNeeded: a new token when there is none or its `exp` has passed."""
        if self.jwt is None or time.time() * 1000 >= jwt_payload(self.jwt)["exp"] * 1000:
            self.init()
        assert self.jwt is not None
        return self.jwt

    def init(self) -> None:
        container = self.send("POST", AUTH, {}, {"appId": APP_ID, "appEnv": APP_ENV, "secret": SECRET}, auth=False)
        assert isinstance(container, dict) and isinstance(container.get("jwtToken"), str), container
        self.jwt = container["jwtToken"]

    def connected(self, method: str, template: str, body: Any = None, **params: str) -> Any:
        return self.send(method, template, params, body, auth=True)


@pytest.fixture
def served() -> Iterator[tuple[str, Mock]]:
    mock = Mock("ignisign")
    with Running([mock]) as running:
        yield f"http://127.0.0.1:{running.port}", mock  # IGNISIGN_SERVER_URL


def check_context(context: Any, signature_request_id: str, status: str) -> None:
    """IgnisignSignatureRequest_Context's non-optional fields, and what the example reads from it."""
    assert isinstance(context, dict), context
    assert context.get("_id") in (None, signature_request_id)
    for name in ("appId", "appEnv", "signatureProfileId", "status"):
        assert isinstance(context.get(name), str), (name, context.get(name))
    assert (context["appId"], context["appEnv"], context["status"]) == (APP_ID, APP_ENV, status)
    assert isinstance(context.get("signers"), list) and isinstance(context.get("signatureProfile"), dict)
    assert isinstance(context.get("documents"), list)
    for document in context["documents"]:  # IgnisignDocument_Context's non-optional fields
        for name in ("appId", "appEnv", "documentNature", "status", "signatureRequestId", "documentHash"):
            assert isinstance(document.get(name), str), (name, document)
        assert isinstance(document.get("signatureSummaries"), list), document
    # contract.service.ts: signatureRequestContext.documents.find(d => d._id === documentId).documentNature
    assert [d["_id"] for d in context["documents"] if d.get("_id") == DOCUMENT_ID] == [DOCUMENT_ID]


@pytest.mark.parametrize("content_type", AXIOS_CONTENT_TYPES)
def test_the_sdk_flow_init_update_publish_context_close(served: tuple[str, Mock], content_type: str) -> None:
    server_url, mock = served
    sdk = SdkReplay(server_url, content_type)
    sdk.init()
    assert isinstance(jwt_payload(sdk.jwt or "")["exp"], int | float)  # decoded before every later call

    webhooks = sdk.connected("GET", WEBHOOKS, appId=APP_ID, appEnv=APP_ENV)
    assert isinstance(webhooks, list)  # the example's checkWebhookEndpoint reads .length

    created = sdk.connected("POST", INIT, {"signatureProfileId": PROFILE_ID}, appId=APP_ID, appEnv=APP_ENV)
    assert isinstance(created, dict) and isinstance(created.get("signatureRequestId"), str), created
    request_id = created["signatureRequestId"]

    update = {"documentIds": [DOCUMENT_ID], "signerIds": SIGNER_IDS, "externalId": "contract-1", "title": "Contract"}
    check_context(sdk.connected("PUT", REQUEST, update, signatureRequestId=request_id), request_id, "DRAFT")

    published = sdk.connected("POST", PUBLISH, {}, signatureRequestId=request_id)
    assert isinstance(published, dict) and published.get("signatureRequestId") in (None, request_id)

    context = sdk.connected("GET", CONTEXT, signatureRequestId=request_id)
    check_context(context, request_id, "IN_PROGRESS")
    assert (context["title"], context["externalId"], context["signerIds"]) == ("Contract", "contract-1", SIGNER_IDS)

    closed = sdk.connected("POST", CLOSE, {}, signatureRequestId=request_id)
    assert isinstance(closed, dict) and closed.get("signatureRequestId") in (None, request_id)

    # one authentication (the token's exp had not passed), then one request per SDK call, nothing else
    request_path = f"/v3/signature-requests/{request_id}"
    assert sdk.calls == [
        ("POST", AUTH),
        ("GET", f"/v3/applications/{APP_ID}/envs/{APP_ENV}/webhooks"),
        ("POST", f"/v3/applications/{APP_ID}/envs/{APP_ENV}/signature-requests"),
        ("PUT", request_path),
        ("POST", f"{request_path}/publish"),
        ("GET", f"{request_path}/context"),
        ("POST", f"{request_path}/close"),
    ]
    assert [entry.operation for entry in mock.journal] == [
        "authenticateApp",
        "listWebhooks",
        "initSignatureRequest",
        "updateSignatureRequest",
        "publishSignatureRequest",
        "getSignatureRequestContext",
        "closeSignatureRequest",
    ]


def sdk_error(answer: requests.Response) -> str:
    """What createIgnisignSdkErrorFromHttp makes of a non-2xx answer."""
    assert not 200 <= answer.status_code < 300
    body = answer.json()
    assert isinstance(body, dict), body  # error.response.data
    code = body.get("code")
    assert code is None or isinstance(code, str), body
    return f"IGNISIGN SDK EXCEPTION: {code}" if code in SDK_KNOWN_CODES else "raw HTTP error"


def test_the_sdk_turns_the_mocks_refusals_into_its_errors(served: tuple[str, Mock]) -> None:
    server_url, _ = served
    sdk = SdkReplay(server_url, AXIOS_CONTENT_TYPES[0])
    sdk.init()
    unknown = sdk.request("GET", CONTEXT, {"signatureRequestId": "65f0c0ffee0000000000a999"}, None, auth=True)
    assert (unknown.status_code, sdk_error(unknown)) == (404, "IGNISIGN SDK EXCEPTION: SIGNATURE_REQUEST_NOT_FOUND")

    created = sdk.connected("POST", INIT, {"signatureProfileId": PROFILE_ID}, appId=APP_ID, appEnv=APP_ENV)
    empty = sdk.request("POST", PUBLISH, {"signatureRequestId": created["signatureRequestId"]}, {}, auth=True)
    assert 400 <= empty.status_code < 500 and sdk_error(empty) in {
        "raw HTTP error",  # the mock's code null for "no documentIds"
        "IGNISIGN SDK EXCEPTION: CANNOT_PUBLISH_SIGNATURE_REQUEST__NO_SIGNERS",
    }
