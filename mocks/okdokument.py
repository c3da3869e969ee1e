"""OKdokument as a state machine: signature requests, their sendInfo URL, and the sendInfo call on signing.

Every rule here is declared in specs/okdokument.yaml (x-preconditions); this module only implements them.
Behaviour the docs leave open is marked "assumption" and listed in the spec's x-assumptions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from esign_contracts.mocks.provider import (
    Call,
    ControlError,
    Provider,
    Reply,
    control,
    creates,
    effect,
    precondition,
)
from esign_contracts.specs import load_contract

NOT_EXIST = "err.signature.request.not.exist"  # provider-notes > OKdokument > 3.4 Delete
ID_PARAMETERS = ("signatureRequestId", "signature_request_id", "signature_request")  # path, control, resource


@dataclass
class SignatureRequest:
    id: str
    document_id: str
    created_at: dt.datetime
    send_info_url: str = ""  # "" = none registered (assumption empty_send_info_url)
    result_url: str | None = None
    signed_at: dt.datetime | None = None

    @property
    def signed(self) -> bool:
        return self.signed_at is not None


def send_info_url(call: Call) -> str | None:
    """The sendInfo URL a body registers: sendInfoURL, else the 3.3 table's sendInfoUrl (x-errata
    send_info_url_spelling: both accepted, sendInfoURL wins when both are given); None when neither is sent."""
    for spelling in ("sendInfoURL", "sendInfoUrl"):
        value = call.field(spelling)
        if isinstance(value, str):
            return value
    return None


class OKdokument(Provider, name="okdokument", spec="okdokument"):
    """The OKdokument model. Control actions: add_signature_request, sign, reset."""

    default_credentials = {"apiKey": "okdokument-api-key"}
    # An unknown id answers the documented 400: 401/403 = wrong key, 404 = wrong URL (x-assumptions preflight_delete).
    preflight = "deleteSignatureRequest"
    # Values the documented effects determine (not url: it carries the host; not documentId: generated).
    compared_fields = frozenset({"message", "result"})
    compared_lists: frozenset[str] = frozenset()

    def reset(self) -> None:
        self.requests: dict[str, SignatureRequest] = {}

    def error_body(self, status: int, message: str, code: str | None = None, call: Call | None = None) -> Any:
        if code == NOT_EXIST:
            # documented (notes > 3.4 Delete; assumed for Update): the message key and the id that does not exist
            return {"message": code, "value": self._given_id(call) if call else ""}
        # assumption error_body: no other error body is documented
        return {"message": code or message}

    def live_identifiers(self, parameter: str) -> list[str]:
        return list(self.requests) if parameter in ID_PARAMETERS else []

    @property
    def base_url(self) -> str:
        return load_contract(self.spec).base_url

    # -- lookups -----------------------------------------------------------------------------------
    @staticmethod
    def _given_id(call: Call) -> Any:
        """The signatureRequestId of a call: the Delete path parameter, or the Update body field."""
        return (
            call.params["signatureRequestId"]
            if "signatureRequestId" in call.params
            else call.field("signatureRequestId")
        )

    def _existing(self, signature_request_id: str) -> SignatureRequest:
        if signature_request_id not in self.requests:
            known = ", ".join(self.requests) or "none"
            raise ControlError(f"okdokument has no signature request {signature_request_id!r}; known: {known}")
        return self.requests[signature_request_id]

    # -- preconditions (ids from x-preconditions) ---------------------------------------------------
    @precondition("signature_request_exists")
    def signature_request_exists(self, call: Call) -> bool:
        given = self._given_id(call)
        # A missing or non-string id breaks the schema; that problem decides, not this rule.
        return not isinstance(given, str) or given in self.requests

    # -- effects (operationIds) ---------------------------------------------------------------------
    @effect("createSignatureRequest")
    def create_signature_request(self, call: Call) -> Reply:
        request = self._new_request(
            call.new_id("signature_request"),
            call.new_id("document"),
            send_info_url(call) or "",
            call.field("resulturl"),
        )
        return Reply(self._created(request))

    def _new_request(
        self, signature_request_id: str, document_id: str, url: str, result_url: str | None
    ) -> SignatureRequest:
        request = SignatureRequest(signature_request_id, document_id, self.now(), url, result_url)
        self.requests[request.id] = request
        return request

    def _created(self, request: SignatureRequest) -> dict[str, Any]:
        """What Create answers for a new signature request."""
        return {
            "message": "msg.signature.request.id.created",
            "result": request.id,
            "url": f"{self.base_url}/openDocument/{request.id}",  # assumption url_shapes
            "documentId": request.document_id,
        }

    @effect("updateSignatureRequest")
    def update_signature_request(self, call: Call) -> Reply:
        request = self.requests[call.field("signatureRequestId")]
        # PATCH: only the fields sent change (assumption update_fields_optional).
        url = send_info_url(call)
        if url is not None:
            request.send_info_url = url
        if isinstance(call.field("resulturl"), str):
            request.result_url = call.field("resulturl")
        return Reply({"message": "msg.updated", "result": request.id, "url": f"{self.base_url}/{request.id}"})

    @effect("deleteSignatureRequest")
    def delete_signature_request(self, call: Call) -> Reply:
        request = self.requests.pop(call.params["signatureRequestId"])
        return Reply({"message": "msg.deleted", "result": request.id})

    # -- control: a signature request seeded, signed or not, in one call (a mock convenience) --------
    @control
    @creates("signature_request_id")
    def add_signature_request(
        self,
        signed: bool = False,
        send_info_url: str = "",
        result_url: str | None = None,
        signature_request_id: str = "",
        document_id: str = "",
    ) -> dict[str, Any]:
        """Seed a signature request, signed or not; returns its fields and what Create answers.

        `send_info_url` and `result_url` are Create's sendInfoURL and resulturl. `signed` signs it as `sign`
        does, so a registered sendInfo URL gets its POST. A refused seed changes nothing.
        """
        if not isinstance(signed, bool):
            raise ControlError(f"signed must be true or false, got {signed!r}")
        body = "/components/schemas/CreateSignatureRequest/properties"
        if send_info_url != "":
            self.check_argument(f"{body}/sendInfoURL", send_info_url, "send_info_url")
        if result_url is not None:
            self.check_argument(f"{body}/resulturl", result_url, "result_url")
        create = "createSignatureRequest"
        ids = {
            "signature_request_id": self.seed_id(
                signature_request_id, "signature_request_id", self.requests, create, "signature_request"
            ),
            "document_id": self.seed_id(document_id, "document_id", (), create, "document"),
        }
        request = self._new_request(ids["signature_request_id"], ids["document_id"], send_info_url, result_url)
        if signed:
            self.sign(request.id)
        return {
            **ids,
            "signed": signed,
            "send_info_url": send_info_url,
            "result_url": result_url,
            **self._created(request),
        }

    # -- control: what only a signer in a browser can do --------------------------------------------
    @control
    def sign(self, signature_request_id: str) -> None:
        """The document of the signature request is signed; the platform POSTs sendInfo to the registered URL."""
        request = self._existing(signature_request_id)
        if request.signed:
            raise ControlError(f"the document of signature request {signature_request_id!r} is signed already")
        request.signed_at = self.now()
        if request.send_info_url:
            # provider-notes > OKdokument > sendInfo callback: {"state":"signed","id":<docId>,"signatureRequestId":...}
            body = {"state": "signed", "id": request.document_id, "signatureRequestId": request.id}
            self.call_back("sendInfo", request.send_info_url, body)
