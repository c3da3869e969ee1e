"""Ignisign API v3 as a state machine: application tokens and signature requests from DRAFT to their end.

Every rule here is declared in specs/ignisign.yaml (x-preconditions); this module only implements
them. Behaviour the docs leave open is marked "assumption" and listed in the spec's x-assumptions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
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

DRAFT, READY, IN_PROGRESS, COMPLETED, CANCELLED = "DRAFT", "READY", "IN_PROGRESS", "COMPLETED", "CANCELLED"
# IGNISIGN_SIGNATURE_REQUEST_STATUS, as the docs print it (x-errata status_children_generated).
STATUSES = (
    DRAFT,
    "WAITING_DOCUMENTS",
    "WAITING_DOCUMENTS_GENERATION",
    READY,
    IN_PROGRESS,
    COMPLETED,
    "EXPIRED",
    "FAILED",
    CANCELLED,
    "PROCESSING",
)
ENDED = frozenset({COMPLETED, "EXPIRED", "FAILED", CANCELLED})  # assumption close_rule
# The update body's fields; each is a context field of the same name (docs: Body and Responses > Schema).
UPDATABLE = (
    "title",
    "description",
    "expirationDate",
    "expirationDateIsActivated",
    "language",
    "documentIds",
    "externalId",
    "diffusionMode",
    "diffusionDate",
    "statements",
    "signerIds",
    "extendedAuthSessionEnabled",
    "initialSignatureRequestId",
    "signersAsApprover",
    "recipients",
)
SEED_PROFILE = "esign-contracts-seed-profile"  # add_signature_request's default signatureProfileId (any is accepted)
GREY = {  # assumption signature_profile_rendering: a neutral palette with every documented key
    "50": "#fafafa",
    "100": "#f5f5f5",
    "200": "#eeeeee",
    "300": "#e0e0e0",
    "400": "#bdbdbd",
    "500": "#9e9e9e",
    "600": "#757575",
    "700": "#616161",
    "800": "#424242",
    "900": "#212121",
    "A100": "#ffffff",
    "A200": "#eeeeee",
    "A400": "#bdbdbd",
    "A700": "#616161",
}


def stamp(moment: dt.datetime) -> str:
    """ISO 8601 in UTC with milliseconds, e.g. 2024-03-12T10:00:00.000Z."""
    moment = moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def moment(value: Any) -> dt.datetime | None:
    """A date-time the client sent (the schema checked RFC 3339), or None."""
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed


def _hex(*parts: str) -> str:
    return hashlib.sha256(":".join(parts).encode()).hexdigest()


@dataclass
class SignatureRequest:
    id: str
    app_id: str
    app_env: str
    profile_id: str
    created_at: dt.datetime
    status: str = DRAFT
    fields: dict[str, Any] = field(default_factory=dict)  # what updates set, by context field name
    signatures: list[tuple[str, dt.datetime]] = field(default_factory=list)  # (signerId, date), in order

    def ids(self, name: str) -> list[str]:
        return list(dict.fromkeys(self.fields.get(name) or []))

    @property
    def signed_by(self) -> list[str]:
        return [signer for signer, _ in self.signatures]

    @property
    def unsigned(self) -> list[str]:
        return [signer for signer in self.ids("signerIds") if signer not in self.signed_by]


class Ignisign(Provider, name="ignisign", spec="ignisign"):
    """The Ignisign v3 model. Control actions: add_signature_request, sign, set_status, reset."""

    default_credentials = {
        "bearerAuth": {"appId": "ignisign-app", "appEnv": "DEVELOPMENT", "secret": "ignisign-secret"}
    }
    preflight = "authenticateApp"  # harmless, and it is where bad credentials show
    # Fields set by documented effects (what the client sent, the application, the DRAFT default); never
    # statuses (signer and document statuses share the name and are assumptions) nor generated ids.
    compared_fields = frozenset(
        {
            "appId",
            "appEnv",
            "signatureProfileId",
            "signatureRequestId",
            "title",
            "description",
            "externalId",
            "language",
            "diffusionMode",
            "expirationDateIsActivated",
            "extendedAuthSessionEnabled",
            "initialSignatureRequestId",
            "labelMd",
            "target",
            "documentId",
        }
    )
    compared_lists = frozenset({"documentIds", "signerIds", "statements", "signersAsApprover", "recipients"})

    def __init__(self, clock: Callable[[], dt.datetime] | None = None) -> None:
        # token -> (appId, appEnv) it was issued for; like the core's tokens it survives reset().
        self.applications: dict[str, tuple[str, str]] = {}
        super().__init__(clock)

    def reset(self) -> None:
        self.requests: dict[str, SignatureRequest] = {}

    def error_body(self, status: int, message: str, code: str | None = None, call: Call | None = None) -> Any:
        # assumptions error_body, no_invented_codes: the notes' five fields; code null where none is documented.
        return {"message": message, "timestamp": stamp(self.now()), "status": status, "code": code, "context": {}}

    def live_identifiers(self, parameter: str) -> list[str]:
        if parameter in ("signatureRequestId", "signature_request_id", "signature_request"):
            # An ended request is still readable, but nothing more can happen to it (nor be cleaned up).
            return [key for key, request in self.requests.items() if self.status(request) not in ENDED]
        application = self.credentials.get("bearerAuth")
        if parameter in ("appId", "appEnv") and isinstance(application, dict) and application.get(parameter):
            return [str(application[parameter])]  # the one application the credentials name exists
        return []

    # -- lookups -----------------------------------------------------------------------------------
    def _caller(self, call: Call) -> tuple[str, str] | None:
        """The application of the call's bearer token, None when the token is not one we issued."""
        header = call.request.headers.get("Authorization", "")
        return self.applications.get(header[7:].strip()) if header.lower().startswith("bearer ") else None

    def _request(self, call: Call) -> SignatureRequest | None:
        request = self.requests.get(call.params.get("signatureRequestId", ""))
        caller = self._caller(call)
        if request is None or (caller is not None and caller != (request.app_id, request.app_env)):
            return None  # assumption other_application: another application's request is not found
        return request

    def _existing(self, signature_request_id: str) -> SignatureRequest:
        if signature_request_id not in self.requests:
            known = ", ".join(self.requests) or "none"
            raise ControlError(f"ignisign has no signature request {signature_request_id!r}; known: {known}")
        return self.requests[signature_request_id]

    def status(self, request: SignatureRequest) -> str:
        """The status now: a SCHEDULED request that is READY is sent once its diffusionDate has passed."""
        if request.status == READY and request.fields.get("diffusionMode") == "SCHEDULED":
            when = moment(request.fields.get("diffusionDate"))
            if when is not None and when <= self.now():
                return IN_PROGRESS  # assumption publish_status
        return request.status

    # -- preconditions (ids from x-preconditions) ---------------------------------------------------
    @precondition("app_credentials_valid")
    def app_credentials_valid(self, call: Call) -> bool:
        accepted, sent = self.credentials.get("bearerAuth"), call.body
        if not isinstance(sent, dict) or not all(isinstance(sent.get(k), str) for k in ("appId", "appEnv", "secret")):
            return True  # a body that breaks the schema: the schema problem decides
        if not isinstance(accepted, dict):
            return False  # configured with a ready token, the mock knows no application secret
        return all(
            hmac.compare_digest(sent[k].encode(), str(accepted.get(k, "")).encode())
            for k in ("appId", "appEnv", "secret")
        )

    @precondition("application_matches_token")
    def application_matches_token(self, call: Call) -> bool:
        caller = self._caller(call)
        return caller is None or caller == (call.params.get("appId"), call.params.get("appEnv"))

    @precondition("signature_request_exists")
    def signature_request_exists(self, call: Call) -> bool:
        return self._request(call) is not None

    @precondition("is_draft")
    def is_draft(self, call: Call) -> bool:
        request = self._request(call)
        return request is None or self.status(request) == DRAFT

    @precondition("has_documents")
    def has_documents(self, call: Call) -> bool:
        request = self._request(call)
        return request is None or bool(request.ids("documentIds"))  # assumption empty_lists_not_provided

    @precondition("has_signers")
    def has_signers(self, call: Call) -> bool:
        request = self._request(call)
        return request is None or bool(request.ids("signerIds"))

    @precondition("not_ended")
    def not_ended(self, call: Call) -> bool:
        request = self._request(call)
        return request is None or self.status(request) not in ENDED

    # -- effects (operationIds) ---------------------------------------------------------------------
    @effect("authenticateApp")
    def authenticate_app(self, call: Call) -> Reply:
        token = call.new_id("token")
        self.issue_token(token)  # assumption token_lifetime: no expiry
        self.applications[token] = (call.field("appId"), call.field("appEnv"))
        return Reply({"jwtToken": token})

    @effect("listWebhooks")
    def list_webhooks(self, call: Call) -> Reply:
        return Reply([])  # assumption webhooks_items: no webhook registration in this contract

    @effect("initSignatureRequest")
    def init_signature_request(self, call: Call) -> Reply:
        request = self._new_request(
            call.new_id("signature_request"),
            call.params["appId"],
            call.params["appEnv"],
            call.field("signatureProfileId"),
        )
        self.requests[request.id] = request
        return Reply({"signatureRequestId": request.id})

    def _new_request(self, signature_request_id: str, app_id: str, app_env: str, profile_id: str) -> SignatureRequest:
        """A signature request as Init makes it: DRAFT, in an application (not yet registered)."""
        return SignatureRequest(
            id=signature_request_id, app_id=app_id, app_env=app_env, profile_id=profile_id, created_at=self.now()
        )

    @effect("updateSignatureRequest")
    def update_signature_request(self, call: Call) -> Reply:
        request = self._request(call)
        assert request is not None
        self._update(request, call.body or {})
        return Reply(self.context(request))

    @staticmethod
    def _update(request: SignatureRequest, body: dict[str, Any]) -> None:
        # docs: a partial update; only the fields sent change (unknown fields are ignored).
        request.fields.update({name: body[name] for name in UPDATABLE if name in body})

    @effect("publishSignatureRequest")
    def publish_signature_request(self, call: Call) -> Reply:
        request = self._request(call)
        assert request is not None
        # assumption publish_status: WHEN_READY (the default) is sent at once, SCHEDULED waits for its date.
        request.status = READY if request.fields.get("diffusionMode") == "SCHEDULED" else IN_PROGRESS
        return Reply({"signatureRequestId": request.id})  # assumption publish_response

    @effect("closeSignatureRequest")
    def close_signature_request(self, call: Call) -> Reply:
        request = self._request(call)
        assert request is not None
        request.status = CANCELLED  # assumption close_rule
        return Reply({"signatureRequestId": request.id})

    @effect("getSignatureRequestContext")
    def get_signature_request_context(self, call: Call) -> Reply:
        request = self._request(call)
        assert request is not None
        return Reply(self.context(request))

    # -- rendering ---------------------------------------------------------------------------------
    def context(self, request: SignatureRequest) -> dict[str, Any]:
        """The signature request context (docs: Update a Signature Request > Responses > Schema)."""
        status = self.status(request)
        application = {"appId": request.app_id, "appEnv": request.app_env}
        statements = request.fields.get("statements") or []
        return {
            "_id": request.id,
            **application,
            "signatureProfileId": request.profile_id,
            "status": status,
            "diffusionMode": "WHEN_READY",  # docs: "This is the default value."
            **request.fields,  # assumption optional_fields_omitted: only what updates set
            "signedBy": request.signed_by,
            "_createdAt": stamp(request.created_at),
            # assumption signer_rendering: CREATED until published
            "signers": [
                {"signerId": signer, "status": "CREATED" if status == DRAFT else "PENDING"}
                for signer in request.ids("signerIds")
            ],
            "documents": [self._document(request, document, statements) for document in request.ids("documentIds")],
            "signatureProfile": self._profile(request),
        }

    def _document(self, request: SignatureRequest, document: str, statements: list[Any]) -> dict[str, Any]:
        # assumption no_document_upload: a PDF whose content was provided, known only by its id
        return {
            "_id": document,
            "appId": request.app_id,
            "appEnv": request.app_env,
            "documentNature": "PDF",
            "documentHash": _hex(document),
            "status": "PROVIDED",
            "signatureRequestId": request.id,
            "statements": [s for s in statements if s.get("target") == "DOCUMENT" and s.get("documentId") == document],
            "signatureSummaries": [
                {"signatureId": _hex(request.id, document, signer)[:24], "signerId": signer, "date": stamp(when)}
                for signer, when in request.signatures
            ],
        }

    @staticmethod
    def _profile(request: SignatureRequest) -> dict[str, Any]:
        # assumption signature_profile_rendering: the mock knows no profiles; any id gets this one.
        return {
            "_id": request.profile_id,
            "appId": request.app_id,
            "appEnv": request.app_env,
            "orgId": "esign-contracts-mock-org",
            "name": "esign-contracts mock signature profile",
            "status": "PUBLISHED",
            "integrationMode": "BY_SIDE",
            "signatureMethodRef": "SIMPLE_STD",
            "signatureRequestType": "STANDARD",
            "idProofings": [],
            "authMethods": ["SIMPLE"],
            "documentTypes": ["PDF"],
            "documentRequestActivated": False,
            "defaultLanguage": "EN",
            "languageCanBeChanged": True,
            "statementsEnabled": True,
            "extendedAuthSessionEnabled": False,
            "applicationMetadata": {"appName": request.app_id, "colors": {"primary": GREY, "secondary": GREY}},
        }

    # -- control: a signature request seeded in a status, in one call (a mock convenience) -----------
    @control
    @creates("signature_request_id")
    def add_signature_request(
        self,
        status: str = DRAFT,
        signers: list[str] | None = None,
        documents: list[str] | None = None,
        title: str | None = None,
        signature_request_id: str = "",
        signature_profile_id: str = SEED_PROFILE,
    ) -> dict[str, Any]:
        """Seed a signature request in any documented status; returns its fields and its context.

        Made as Init makes it (in the application of the mock's credentials), given `title`, `signers` (signerIds)
        and `documents` (documentIds) as Update gives them, then put in `status` as `set_status` does: no
        signatures are recorded (use `sign` for those). A refused seed changes nothing.
        """
        self._check_status(status)
        body_pointer = "/components/schemas/SignatureRequestUpdate"
        body: dict[str, Any] = {}
        for argument, name, value in (
            ("title", "title", title),
            ("signers", "signerIds", signers),
            ("documents", "documentIds", documents),
        ):
            if value is not None:
                self.check_argument(f"{body_pointer}/properties/{name}", value, argument)
                body[name] = value
        signature_request_id = self.seed_id(
            signature_request_id, "signature_request_id", self.requests, "initSignatureRequest", "signature_request"
        )
        if not isinstance(signature_profile_id, str) or not signature_profile_id:
            raise ControlError(f"signature_profile_id must be a non-empty string, got {signature_profile_id!r}")
        configured = self.credentials.get("bearerAuth")
        application = configured if isinstance(configured, dict) else self.default_credentials["bearerAuth"]
        request = self._new_request(
            signature_request_id, str(application["appId"]), str(application["appEnv"]), signature_profile_id
        )
        self._update(request, body)
        request.status = status
        self.requests[request.id] = request
        return {
            "signature_request_id": request.id,
            "status": status,
            "signers": request.ids("signerIds"),
            "documents": request.ids("documentIds"),
            "title": title,
            "signature_profile_id": signature_profile_id,
            "context": self.context(request),  # what Get the context answers
        }

    # -- control: what only a signer in a browser, or the provider's back office, can do ------------
    @control
    def sign(self, signature_request_id: str, signer_id: str | None = None) -> None:
        """A signer signs (the next unsigned one, or the named one); the last signer completes the request."""
        request = self._existing(signature_request_id)
        status = self.status(request)
        if status != IN_PROGRESS:
            raise ControlError(
                f"signature request {signature_request_id!r} is {status}; "
                "a signer can sign only while it is IN_PROGRESS (published and sent to its signers)"
            )
        unsigned = request.unsigned
        signer = signer_id if signer_id is not None else (unsigned[0] if unsigned else None)
        if signer is None or signer not in unsigned:
            wanted = f"signer {signer_id!r}" if signer_id is not None else "signer"
            raise ControlError(
                f"signature request {signature_request_id!r} has no unsigned {wanted}; "
                f"unsigned: {', '.join(unsigned) or 'none'}"
            )
        request.signatures.append((signer, self.now()))  # assumption signatures_by_control
        request.status = COMPLETED if not request.unsigned else IN_PROGRESS

    @control
    def set_status(self, signature_request_id: str, status: str) -> None:
        """Put a signature request in a documented status (as the provider's back office or time would)."""
        self._check_status(status)
        request = self._existing(signature_request_id)
        if self.status(request) == status:
            raise ControlError(f"signature request {signature_request_id!r} is {status} already")
        request.status = status

    @staticmethod
    def _check_status(status: Any) -> None:
        if status not in STATUSES:
            raise ControlError(
                f"status {status!r} is not a documented signature request status; one of {', '.join(STATUSES)}"
            )
