"""Faulty OKdokument servers: the real mock with exactly one documented rule broken, to prove `check` notices.

Each fault is a model subclass (the one precondition, signature_request_exists, ignored by one operation; or
one effect that answers or keeps the wrong thing), an engine subclass (one validation or credentials rule
skipped, or a crash), or a thin WSGI middleware around `WSGIApp([mock])`. Every class names the rule it breaks
and the rule's x-source. `FAULTS` lists them with what a report must say about each.
"""

from __future__ import annotations

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
from esign_contracts.mocks.okdokument import NOT_EXIST, OKdokument

from .faulty_support import ServerFault, Wsgi, mock_of  # noqa: F401  (mock_of re-exported for the tests)

API_KEY = OKdokument.default_credentials["apiKey"]


# -- model faults: the documented precondition ignored (once per operation that declares it) -------------------


class UpdatesUnknownId(OKdokument, name="okdokument-faulty-update-unknown-id", spec="okdokument"):
    """Update ignores "signatureRequestId must exist" (400 err.signature.request.not.exist): an unknown id
    answers 200 msg.updated and nothing changes.

    x-source: OKdokument API > 3.3 Update Signature Request ID ("checks if signatureRequestId exists");
    provider-notes > OKdokument > 3.3 Update (400 when the id does not exist)
    """

    @precondition("signature_request_exists")
    def signature_request_exists(self, call: Call) -> bool:
        return call.operation.id == "updateSignatureRequest" or super().signature_request_exists(call)

    @effect("updateSignatureRequest")
    def update_signature_request(self, call: Call) -> Reply:
        given = call.field("signatureRequestId")
        if given in self.requests:
            return super().update_signature_request(call)
        return Reply({"message": "msg.updated", "result": given, "url": f"{self.base_url}/{given}"})


class DeletesUnknownId(OKdokument, name="okdokument-faulty-delete-unknown-id", spec="okdokument"):
    """Delete ignores "signatureRequestId must exist" (400 err.signature.request.not.exist): deleting an
    unknown (or already deleted) id answers 200 msg.deleted, as an "idempotent" delete would.

    x-source: provider-notes > OKdokument > 3.4 Delete (unknown id → 400
    {"message":"err.signature.request.not.exist","value":"<id>"})
    """

    @precondition("signature_request_exists")
    def signature_request_exists(self, call: Call) -> bool:
        return call.operation.id == "deleteSignatureRequest" or super().signature_request_exists(call)

    @effect("deleteSignatureRequest")
    def delete_signature_request(self, call: Call) -> Reply:
        self.requests.pop(call.params["signatureRequestId"], None)
        return Reply({"message": "msg.deleted", "result": call.params["signatureRequestId"]})


class UpdateNotExistAs404(Engine):
    """Update refuses an unknown id with 404 instead of the documented 400 err.signature.request.not.exist
    ("signatureRequestId must exist": its status is documented, so no other 4xx is accepted).

    x-source: provider-notes > OKdokument > 3.3 Update (400 when the id does not exist)
    """

    def handle(self, request: Request) -> Response:
        answer = super().handle(request)
        if answer.status == 400 and request.method == "PATCH":
            try:
                body = json.loads(answer.body)
            except ValueError:
                return answer
            if isinstance(body, dict) and body.get("message") == NOT_EXIST:
                return Response(404, answer.body, answer.headers)
        return answer


# -- model faults: one effect wrong ---------------------------------------------------------------------------


class UpdateAnswersWithoutUrl(OKdokument, name="okdokument-faulty-update-without-url", spec="okdokument"):
    """Update answers {"message": "msg.updated", "result": ...} without the url the documented answer carries
    (Updated: required [message, result, url]).

    x-source: OKdokument API > 3.3 Update Signature Request ID > Response Body Example
    """

    @effect("updateSignatureRequest")
    def update_signature_request(self, call: Call) -> Reply:
        reply = super().update_signature_request(call)
        del reply.body["url"]
        return reply


class KeepsDeletedRequest(OKdokument, name="okdokument-faulty-keeps-deleted", spec="okdokument"):
    """Delete answers 200 msg.deleted but keeps the signature request: a later Update or Delete of it succeeds
    where "signatureRequestId must exist" refuses it with 400.

    x-source: provider-notes > OKdokument > 3.4 Delete (and 3.3 Update: 400 when the id does not exist)
    """

    @effect("deleteSignatureRequest")
    def delete_signature_request(self, call: Call) -> Reply:
        kept = self.requests[call.params["signatureRequestId"]]
        reply = super().delete_signature_request(call)
        self.requests[kept.id] = kept
        return reply


class DeleteAnswersDocumentId(OKdokument, name="okdokument-faulty-delete-answers-document-id", spec="okdokument"):
    """Delete answers the documentId as "result" instead of the signatureRequestId deleted (the body is still
    schema-valid: only the model comparison sees it).

    x-source: provider-notes > OKdokument > 3.4 Delete ({"message":"msg.deleted","result":<signatureRequestId>})
    """

    @effect("deleteSignatureRequest")
    def delete_signature_request(self, call: Call) -> Reply:
        document_id = self.requests[call.params["signatureRequestId"]].document_id
        reply = super().delete_signature_request(call)
        reply.body["result"] = document_id
        return reply


# -- engine faults: validation or credentials skipped, a crash ------------------------------------------------


class LenientCreateBody(Engine):
    """Create does not validate its body: a body that is not a JSON object, or a sendInfoURL / resulturl that
    is not a string, is answered 200 (the offending fields are dropped) where the spec refuses with 400.

    x-source: provider-notes > OKdokument > 2.2 Create (the body is a JSON object; x-assumptions
    create_request_body, validation_status: 400)
    """

    URLS = ("sendInfoURL", "sendInfoUrl", "resulturl")

    def evaluate(self, request: Request) -> Evaluation:
        evaluation = super().evaluate(request)
        parsed = evaluation.parsed
        if evaluation.operation_id != "createSignatureRequest" or not evaluation.problems or parsed is None:
            return evaluation
        if any(p.rule != "request schema" for p in evaluation.problems):
            return evaluation  # not JSON, no body, another content type: still refused
        body = parsed.body if isinstance(parsed.body, dict) else {}
        kept = {k: v for k, v in body.items() if k not in self.URLS or isinstance(v, str)}
        return replace(evaluation, problems=(), parsed=replace(parsed, body=kept))


class AcceptsAnyApiKey(Engine):
    """Any x-api-key value is accepted: only a missing header is refused.

    x-source: OKdokument API > 3.3 Update Signature Request ID > Service specification (Authentication: set
    header x-api-key); provider-notes > OKdokument (x-api-key everywhere; 401 for bad credentials)
    """

    def evaluate(self, request: Request) -> Evaluation:
        evaluation = super().evaluate(request)
        if evaluation.auth is not None and not evaluation.auth.missing:
            return replace(evaluation, auth=None)
        return evaluation


class CrashesOnBadUpdateBody(Engine):
    """Update crashes (500) on a JSON body that breaks its schema (no signatureRequestId, a field of the wrong
    type), instead of answering 400.

    x-source: OKdokument API > 3.3 Update Signature Request ID ("When a problem is detected, HTTP error is
    returned"; x-assumptions validation_status: 400); a 5xx is never acceptable (design.md: prediction is a set)
    """

    def handle(self, request: Request) -> Response:
        evaluation = self.evaluate(request)
        if (
            evaluation.operation_id == "updateSignatureRequest"
            and evaluation.auth is None
            and any(p.rule == "request schema" for p in evaluation.problems)
        ):
            raise KeyError("signatureRequestId")  # the WSGI server turns the uncaught exception into a 500
        return super().handle(request)


# -- middleware fault: one thing corrupted on the way in ------------------------------------------------------


class IgnoresMissingKey:
    """Answers requests that carry no x-api-key header as if they carried the account's key.

    x-source: OKdokument API > 3.3 Update Signature Request ID > Service specification (Authentication: set
    header x-api-key); provider-notes > OKdokument (x-api-key everywhere; 401 for bad credentials)
    """

    def __init__(self, app: Wsgi) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        environ.setdefault("HTTP_X_API_KEY", API_KEY)
        return self.app(environ, start_response)


# -- the catalogue ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault(ServerFault):
    """A faulty OKdokument server (see tests/faulty_support.ServerFault)."""

    model: type[OKdokument] = OKdokument


EXISTS = "signatureRequestId must exist"

FAULTS: tuple[Fault, ...] = (
    Fault(
        "update-unknown-id",
        ("updateSignatureRequest",),
        rf"status: .*{EXISTS}",
        model=UpdatesUnknownId,
        rule_id="signature_request_exists",
    ),
    Fault(
        "delete-unknown-id",
        ("deleteSignatureRequest",),
        rf"status: .*{EXISTS}",
        model=DeletesUnknownId,
        rule_id="signature_request_exists",
    ),
    Fault(
        "update-not-exist-404",
        ("updateSignatureRequest",),
        rf"status: .*{EXISTS}",
        engine=UpdateNotExistAs404,
        rule_id="signature_request_exists",
    ),
    Fault(
        "update-without-url",
        ("updateSignatureRequest",),
        r"response schema: the documented 200 response|schemathesis: Response violates schema",
        model=UpdateAnswersWithoutUrl,
    ),
    Fault(
        "keeps-deleted-request",
        ("updateSignatureRequest", "deleteSignatureRequest"),
        rf"status: .*{EXISTS}",
        model=KeepsDeletedRequest,
    ),
    Fault(
        "delete-answers-document-id",
        ("deleteSignatureRequest",),
        r"model: the answer reflects the documented effects so far",
        model=DeleteAnswersDocumentId,
    ),
    Fault(
        "lenient-create-body",
        ("createSignatureRequest",),
        r"status: .*request schema|schemathesis: Schema-violating request accepted",
        engine=LenientCreateBody,
    ),
    Fault(
        "crashes-on-bad-update-body",
        ("updateSignatureRequest",),
        r"server error|schemathesis: Server error",
        engine=CrashesOnBadUpdateBody,
    ),
    Fault(
        "ignores-missing-key",
        ("createSignatureRequest", "updateSignatureRequest", "deleteSignatureRequest"),
        r"schemathesis: API accepts requests without authentication",
        middleware=IgnoresMissingKey,
    ),
    Fault(
        "accepts-any-key",
        ("createSignatureRequest", "updateSignatureRequest", "deleteSignatureRequest"),
        r"schemathesis: API accepts invalid authentication",
        engine=AcceptsAnyApiKey,
    ),
)
