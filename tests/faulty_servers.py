"""Faulty Stiply servers: the real mock with exactly one documented rule broken, to prove `check` notices.

Each fault is a model subclass (one precondition that always holds for one operation, or one effect
that answers or keeps the wrong thing), an engine subclass (one validation rule skipped), or a thin
WSGI middleware around `WSGIApp([mock])` (one thing corrupted on the way in). Every class names the
rule it breaks and the rule's x-source. `FAULTS` lists them with what a report must say about each.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from esign_contracts.mocks import (
    Call,
    Engine,
    Evaluation,
    Reply,
    Request,
    Response,
    effect,
    precondition,
)
from esign_contracts.mocks.stiply import Stiply

from .faulty_support import ServerFault, Wsgi, mock_of  # noqa: F401  (mock_of re-exported for the tests)

USERNAME, PASSWORD = Stiply.default_credentials["basicAuth"]


# -- model faults: one precondition ignored by one operation --------------------------------------------------


class AcceptsSignerAfterSend(Stiply, name="stiply-faulty-signer-after-send", spec="stiply"):
    """Create signer ignores "Sign request has not been sent" (403).

    x-source: Stiply API v1 > Create signer > Preconditions
    """

    @precondition("not_sent")
    def not_sent(self, call: Call) -> bool:
        return call.operation.id == "createSigner" or super().not_sent(call)


class SendsWithoutSigners(Stiply, name="stiply-faulty-send-without-signers", spec="stiply"):
    """Send sign request ignores "Sign request has at least 1 signer with at least 1 signature field" (403).

    x-source: Stiply API v1 > Send sign request > Preconditions
    """

    @precondition("has_signer_with_signature_field")
    def has_signer_with_signature_field(self, call: Call) -> bool:
        return True


class RemindsBeforeSend(Stiply, name="stiply-faulty-remind-before-send", spec="stiply"):
    """Send reminder ignores "Sign request has been sent" (403).

    x-source: Stiply API v1 > Send reminder > Preconditions
    """

    @precondition("is_sent")
    def is_sent(self, call: Call) -> bool:
        return call.operation.id == "sendReminder" or super().is_sent(call)


class DuplicateExternalKey(Stiply, name="stiply-faulty-duplicate-external-key", spec="stiply"):
    """Create sign request ignores "external_key must be unique" (status assumed 400; any 4xx accepted).

    x-source: Stiply API v1 > Create sign request > Parameters > external_key
    """

    @precondition("external_key_unique")
    def external_key_unique(self, call: Call) -> bool:
        return True


class UpdatesSignedSigner(Stiply, name="stiply-faulty-update-signed-signer", spec="stiply"):
    """Update signer ignores "Signer has not signed" (status assumed 403; any 4xx accepted).

    x-source: Stiply API v1 > Update signer > Preconditions. A signer signs in a browser, so only the
    control action `sign` (in-process target) reaches this state.
    """

    @precondition("signer_not_signed")
    def signer_not_signed(self, call: Call) -> bool:
        return True


# -- model faults: one effect wrong ---------------------------------------------------------------------------


class KeepsDeletedRequest(Stiply, name="stiply-faulty-keeps-deleted", spec="stiply"):
    """Delete sign request answers 200 but keeps serving the request ("Sign request must exist" afterwards).

    x-source: Stiply API v1 > Delete sign request (and Get sign request > Preconditions)
    """

    @effect("deleteSignRequest")
    def delete_sign_request(self, call: Call) -> Reply:
        kept = self.requests[call.params["sign_request_key"]]
        reply = super().delete_sign_request(call)
        self.requests[kept.key] = kept
        return reply


class NumericFileSize(Stiply, name="stiply-faulty-numeric-file-size", spec="stiply"):
    """Create sign request answers data.document.file_size as a JSON number, not a string of digits.

    x-source: Stiply API v1 > Create sign request > Response (data.document: "file_size": "224615")
    """

    @effect("createSignRequest")
    def create_sign_request(self, call: Call) -> Reply:
        reply = super().create_sign_request(call)
        document = reply.body["data"]["document"]
        document["file_size"] = int(document["file_size"])
        return reply


# -- engine fault: one validation rule skipped ----------------------------------------------------------------


class LenientSignerBody(Engine):
    """Create signer does not validate its JSON body: it answers 200 where the spec refuses with 400.

    What breaks the schema is dropped field by field; a missing or invalid signer_email is stored as ""
    (so a body without signer_email, the required "e-mail address of signer", is accepted).
    x-source: Stiply API v1 > Create signer > Parameters (and Status codes: "400 Wrong parameter").
    """

    PLACEHOLDER = {"signer_email": "nobody@example.com", "signer_signature_fields": []}

    def evaluate(self, request: Request) -> Evaluation:
        evaluation = super().evaluate(request)
        parsed = evaluation.parsed
        if evaluation.operation_id != "createSigner" or not evaluation.problems or not isinstance(parsed.body, dict):
            return evaluation  # (a body that is not a JSON object still gets its 400)
        schema = self.contract.validator(
            f"{evaluation.route.operation.pointer}/requestBody/content/application~1json/schema"
        )
        kept = dict(self.PLACEHOLDER)
        for _ in range(2):  # twice, so that a field valid only with another (cell_phone_number) can follow it
            for name, value in parsed.body.items():
                if schema.is_valid({**kept, name: value}):
                    kept[name] = value
        if kept["signer_email"] == self.PLACEHOLDER["signer_email"]:
            kept["signer_email"] = ""
        return replace(evaluation, problems=(), parsed=replace(parsed, body=kept))


class CrashesOnBadSigner(Engine):
    """Create signer crashes (500) on a body that breaks its schema, instead of answering 400.

    x-source: Stiply API v1 > Create signer > Status codes ("400 Wrong parameter"); a 5xx is never
    an acceptable answer (design.md: prediction is a set).
    """

    def handle(self, request: Request) -> Response:
        evaluation = self.evaluate(request)
        if evaluation.operation_id == "createSigner" and evaluation.problems:
            raise KeyError("signer_email")  # the WSGI server turns the uncaught exception into a 500
        return super().handle(request)


# -- middleware faults: one thing corrupted on the way in -----------------------------------------------------


class CrashesOnInvalidJson:
    """Answers 500 (an HTML error page) to a JSON request whose body is not valid JSON, instead of 400.

    x-source: x-assumptions validation_status ("400 Wrong parameter", documented by every operation
    with parameters); a 5xx is never an acceptable answer (design.md: prediction is a set).
    """

    def __init__(self, app: Wsgi) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        if body and "json" in environ.get("CONTENT_TYPE", ""):
            try:
                json.loads(body)
            except ValueError:
                start_response("500 Internal Server Error", [("Content-Type", "text/html")])
                return [b"<h1>Internal Server Error</h1>"]
        return self.app(environ, start_response)


class IgnoresCredentials:
    """Answers requests that carry no Authorization header as if they carried the account's credentials.

    x-source: Stiply API v1 > Authentication ("Basic authentication on every request"); status
    assumed 401 (x-assumptions bad_credentials_401), any 4xx accepted.
    """

    def __init__(self, app: Wsgi) -> None:
        self.app = app
        self.header = "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        environ.setdefault("HTTP_AUTHORIZATION", self.header)
        return self.app(environ, start_response)


# -- the catalogue ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault(ServerFault):
    """A faulty Stiply server (see tests/faulty_support.ServerFault)."""

    model: type[Stiply] = Stiply


JSON_BODIES = ("ping", "createSigner", "sendReminder", "extendTerm", "updateSigner")

FAULTS: tuple[Fault, ...] = (
    Fault(
        "signer-after-send",
        ("createSigner",),
        r"status: .*Sign request has not been sent",
        model=AcceptsSignerAfterSend,
        rule_id="not_sent",
    ),
    Fault(
        "send-without-signers",
        ("sendSignRequest",),
        r"status: .*Sign request has at least 1 signer with at least 1 signature field",
        model=SendsWithoutSigners,
        rule_id="has_signer_with_signature_field",
    ),
    Fault(
        "keeps-deleted-request",
        ("getSignRequest",),
        r"status: .*Sign request must exist",
        model=KeepsDeletedRequest,
        rule_id="sign_request_exists",
    ),
    Fault(
        "lenient-signer-body",
        ("createSigner",),
        r"status: .*request schema",
        engine=LenientSignerBody,
    ),
    Fault(
        "numeric-file-size",
        ("createSignRequest",),
        r"response schema: the documented 200 response|schemathesis: Response violates schema",
        model=NumericFileSize,
    ),
    Fault(
        "crashes-on-invalid-json",
        JSON_BODIES,
        r"server error: JSON\b",
        middleware=CrashesOnInvalidJson,
    ),
    Fault(
        "crashes-on-bad-signer",
        ("createSigner",),
        r"(server error|schemathesis: Server error)",
        engine=CrashesOnBadSigner,
    ),
    Fault(
        "ignores-credentials",
        ("ping", "createSignRequest"),
        r"schemathesis: API accepts requests without authentication",
        middleware=IgnoresCredentials,
    ),
    Fault(
        "remind-before-send",
        ("sendReminder",),
        r"status: .*Sign request has been sent",
        model=RemindsBeforeSend,
        rule_id="is_sent",
    ),
    Fault(
        "duplicate-external-key",
        ("createSignRequest",),
        r"status: .*external_key must be unique",
        model=DuplicateExternalKey,
        rule_id="external_key_unique",
    ),
    Fault(
        "update-signed-signer",
        ("updateSigner",),
        r"status: .*Signer has not signed",
        model=UpdatesSignedSigner,
        rule_id="signer_not_signed",
        needs_control=True,
    ),
)
