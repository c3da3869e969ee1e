"""Stiply API v1 as a state machine: sign requests, their signers, terms and documents.

Every rule here is declared in specs/stiply.yaml (x-preconditions); this module only implements
them. Behaviour the docs leave open is marked "assumption" and listed in the spec's x-assumptions.
"""

from __future__ import annotations

import base64
import calendar
import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

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
from esign_contracts.specs import Precondition, load_contract

NEVER = "0000-00-00 00:00:00"  # the docs' timestamp for "not yet"
TAG_FIELD_SIZE = {"signature": (250, 125), "text": (230, 20)}  # assumption: the documented example sizes
OPTIONAL_FIELDS = ("doc_name", "message", "comment", "external_key", "call_back_url")  # Create sign request
# add_sign_request (a mock convenience, no provider rule): the document a seeded sign request stands for, and the
# signature field of a signer given by e-mail address alone (placed by tag, as in the docs' example).
SEED_FILENAME = "document.pdf"
SEED_DOCUMENT = b"%PDF-1.4\n% esign-contracts mock: the document of a seeded sign request\n%%EOF\n"
SEED_SIGNATURE_FIELDS = ({"name": "signature1"},)


def stamp(moment: dt.datetime | None) -> str:
    if moment is None:
        return NEVER
    # A new signer writes its one moment four times, and a sign request renders the same stored moments on every
    # read: each moment object is written once. Keyed by identity, which costs nothing to hash where an aware
    # datetime's hash costs as much as writing it; the entry holds the moment, so no other object can take its id
    # while it is there. Equal moments in two time zones are two objects, each written in its own zone.
    found = _STAMPS.get(id(moment))
    if found is not None and found[0] is moment:
        return found[1]
    if type(moment) is dt.datetime and moment.tzinfo is dt.UTC and moment.year >= 1000:
        # What strftime gives for the model's own clock, at a third of its cost (it builds a time tuple and a
        # format for %z). %-format: twice as quick as an f-string with format specs.
        parts = (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)
        text = "%d-%02d-%02dT%02d:%02d:%02d+0000" % parts  # noqa: UP031
    else:
        text = moment.strftime("%Y-%m-%dT%H:%M:%S%z")
    if len(_STAMPS) >= _MAX_STAMPS:
        _STAMPS.clear()
    _STAMPS[id(moment)] = (moment, text)
    return text


_STAMPS: dict[int, tuple[dt.datetime, str]] = {}
_MAX_STAMPS = 4096


def term_end(start: dt.datetime, code: str) -> dt.datetime:
    """1d = 1 day, 2w = 2 weeks, 3m = 3 months (docs: Create sign request > term)."""
    amount, unit = int(code[:-1]), code[-1]
    if unit == "d":
        return start + dt.timedelta(days=amount)
    if unit == "w":
        return start + dt.timedelta(weeks=amount)
    month = start.month - 1 + amount
    year, month = start.year + month // 12, month % 12 + 1
    return start.replace(year=year, month=month, day=min(start.day, calendar.monthrange(year, month)[1]))


@dataclass
class Term:
    code: str
    created_at: dt.datetime
    expires: dt.datetime | None = None
    expired: bool = False

    def render(self) -> dict[str, Any]:
        return {
            "term_code": self.code,
            "term_expired": int(self.expired),
            "term_expires": stamp(self.expires),
            "created_at": stamp(self.created_at),
        }


@dataclass
class Signer:
    key: str
    email: str
    order: int
    created_at: dt.datetime
    language: str = "nl"  # assumption: the sender's account language
    phone: int | None = None
    auth_method: str | None = None
    role: str = ""
    invitation_method: str | None = None
    message: str | None = None
    emandate: Any = field(default_factory=list)
    fields: list[dict[str, Any]] = field(default_factory=list)
    progresses: list[dict[str, Any]] = field(default_factory=list)
    sign_url: str | None = None
    signed: bool = False
    updated_at: dt.datetime | None = None

    @property
    def must_sign(self) -> bool:
        return self.role != "cc"

    def summary(self) -> dict[str, Any]:
        """A signer as listed inside a sign request (docs: Send sign request > Response)."""
        return {
            "key": self.key,
            "email": self.email,
            "name": None,
            "order": None,
            "phone": self.phone,
            "auth_method": self.auth_method,
            "created_at": stamp(self.created_at),
            "updated_at": stamp(self.updated_at or self.created_at),
            "sign_url": self.sign_url,
            "signer_progresses": list(self.progresses),
        }

    def render(self) -> dict[str, Any]:
        """A signer on its own (docs: Create signer > Response, Get signer > Response)."""
        return {
            **self.summary(),
            "order": self.order,
            "language": self.language,
            "role": self.role,
            "emandate": self.emandate,
            "fields": list(self.fields),
        }


@dataclass
class SignRequest:
    key: str
    term: Term
    filename: str
    file_size: int
    created_at: dt.datetime
    doc_name: str | None = None
    message: str | None = None
    comment: str | None = None
    external_key: str | None = None
    call_back_url: str | None = None
    sent_at: dt.datetime | None = None
    all_signed_at: dt.datetime | None = None
    signed_hash: str = ""
    proof_hash: str = ""
    updated_at: dt.datetime | None = None
    terms: list[Term] = field(default_factory=list)
    signers: dict[str, Signer] = field(default_factory=dict)

    @property
    def sent(self) -> bool:
        return self.sent_at is not None

    @property
    def all_signed(self) -> bool:
        return self.all_signed_at is not None

    @property
    def has_signature_field(self) -> bool:
        return any(f["type"] == "signature" for s in self.signers.values() for f in s.fields)

    def current_signer(self) -> Signer | None:
        return next((s for s in self.signers.values() if s.must_sign and not s.signed), None)

    def render(self) -> dict[str, Any]:
        document_stamp = stamp(self.created_at)
        return {
            "document": {
                "name": self.doc_name,
                "filename": self.filename,
                "file_size": str(self.file_size),
                "created_at": document_stamp,
                "updated_at": document_stamp,
            },
            "sign_request": {
                "key": self.key,
                "sent": int(self.sent),
                "sent_at": stamp(self.sent_at),
                "all_signed": int(self.all_signed),
                "all_signed_at": stamp(self.all_signed_at),
                "signed_hash": self.signed_hash,
                "proof_hash": self.proof_hash,
                "message": self.message,
                "comment": self.comment,
                "external_key": self.external_key,
                "call_back_url": self.call_back_url,
                "created_at": document_stamp,
                "updated_at": stamp(self.updated_at or self.created_at),
                "terms": [t.render() for t in self.terms],
                "signers": [s.summary() for s in self.signers.values()],
            },
        }


def _fields(kind: str, given: Any, now: dt.datetime) -> list[dict[str, Any]]:
    rendered = []
    for item in given if isinstance(given, list) else []:
        width, height = TAG_FIELD_SIZE[kind]
        rendered.append(
            {
                "type": kind,
                "x": item.get("x", 0),
                "y": item.get("y", 0),
                "width": float(item["width"]) if "width" in item else width,
                "height": height,
                "page": item.get("page", 1),
                "created_at": stamp(now),
                "updated_at": stamp(now),
            }
        )
    return rendered


class Stiply(Provider, name="stiply", spec="stiply"):
    """The Stiply v1 model. Control actions: add_sign_request, sign, sign_all, expire_term, reset."""

    default_credentials = {"basicAuth": ("stiply-user", "stiply-password")}
    preflight = "ping"  # docs: "Test the API connections and authentication header"
    # The fields whose values must agree between the model and a target; lists whose length must agree.
    compared_fields = frozenset(
        {
            "key",
            "sent",
            "all_signed",
            "email",
            "external_key",
            "term_code",
            "term_expired",
            "ping_value",
            "type",
            "auth_method",
            "message",
        }
    )
    compared_lists = frozenset({"signers", "terms", "fields"})

    def reset(self) -> None:
        self.requests: dict[str, SignRequest] = {}

    def error_body(self, status: int, message: str, code: str | None = None, call: Call | None = None) -> Any:
        # assumption error_body: the docs show no error body; this mirrors the success bodies.
        return {"message": message, "status_code": str(status)}

    def live_identifiers(self, parameter: str) -> list[str]:
        if parameter == "sign_request_key":
            return list(self.requests)
        if parameter == "signer_key":
            return [key for request in self.requests.values() for key in request.signers]
        if parameter == "external_key":
            return [r.external_key for r in self.requests.values() if r.external_key]
        return []

    # -- lookups -----------------------------------------------------------------------------------
    def _request(self, call: Call) -> SignRequest | None:
        return self.requests.get(call.params.get("sign_request_key", ""))

    def _signer(self, call: Call) -> Signer | None:
        request = self._request(call)
        return request.signers.get(call.params.get("signer_key", "")) if request else None

    def by_external_key(self, external_key: str) -> SignRequest | None:
        return next((r for r in self.requests.values() if external_key and r.external_key == external_key), None)

    def _existing(self, key: str) -> SignRequest:
        if key not in self.requests:
            raise ControlError(f"stiply has no sign request {key!r}; known: {', '.join(self.requests) or 'none'}")
        return self.requests[key]

    # -- preconditions (ids from x-preconditions) ---------------------------------------------------
    @precondition("sign_request_exists")
    def sign_request_exists(self, call: Call) -> bool:
        return self._request(call) is not None

    @precondition("not_sent")
    def not_sent(self, call: Call) -> bool:
        request = self._request(call)
        return request is None or not request.sent

    @precondition("is_sent")
    def is_sent(self, call: Call) -> bool:
        request = self._request(call)
        return request is None or request.sent

    @precondition("has_signer_with_signature_field")
    def has_signer_with_signature_field(self, call: Call) -> bool:
        request = self._request(call)
        return request is None or request.has_signature_field

    @precondition("all_signed")
    def all_signed(self, call: Call) -> bool:
        request = self._request(call)
        return request is None or request.all_signed

    @precondition("term_expired")
    def term_expired(self, call: Call) -> bool:
        request = self._request(call)
        if request is None or not request.sent:
            return True
        term = request.terms[-1]
        return term.expired or (term.expires is not None and term.expires <= self.now())

    @precondition("external_key_exists")
    def external_key_exists(self, call: Call) -> bool:
        return self.by_external_key(call.params.get("external_key", "")) is not None

    @precondition("external_key_unique")
    def external_key_unique(self, call: Call) -> bool:
        return self.by_external_key(call.field("external_key") or "") is None

    @precondition("signer_exists")
    def signer_exists(self, call: Call) -> bool:
        return self._request(call) is None or self._signer(call) is not None

    @precondition("signer_not_signed")
    def signer_not_signed(self, call: Call) -> bool:
        signer = self._signer(call)
        return signer is None or not signer.signed

    # -- effects (operationIds) ---------------------------------------------------------------------
    @effect("ping")
    def ping(self, call: Call) -> Reply:
        return Reply({"ping_value": call.field("ping_value"), "status_code": "200"})

    @effect("createSignRequest")
    def create_sign_request(self, call: Call) -> Reply:
        upload = call.files["file"]
        request = self._new_sign_request(
            call.new_id("sign_request"),
            call.field("term"),
            upload.filename,
            len(upload.data),
            {k: call.field(k) for k in OPTIONAL_FIELDS},
        )
        self.requests[request.key] = request
        return Reply({"data": request.render()})

    def _new_sign_request(
        self, key: str, term: str, filename: str, file_size: int, given: dict[str, Any]
    ) -> SignRequest:
        """A sign request as Create sign request makes it (not yet registered), from its form fields."""
        now = self.now()
        first = Term(code=term, created_at=now)
        return SignRequest(
            key=key,
            term=first,
            terms=[first],
            filename=filename,
            file_size=file_size,
            created_at=now,
            # assumption optional_fields_nullable: an optional field that was not sent is null
            **{k: given.get(k) for k in OPTIONAL_FIELDS},
        )

    @effect("createSigner")
    def create_signer(self, call: Call) -> Reply:
        request = self._request(call)
        assert request is not None
        signer = self._new_signer(request, call.new_id("signer"), call.body)
        return Reply({"data": signer.render()})

    def _new_signer(self, request: SignRequest, key: str, body: dict[str, Any]) -> Signer:
        """Add a signer to `request` as Create signer does, from its JSON body."""
        now = self.now()
        auth_method = body.get("auth_method")
        signer = Signer(
            key=key,
            email=body.get("signer_email"),
            order=len(request.signers),
            created_at=now,
            updated_at=now,
            language=body.get("language", "nl"),
            auth_method=auth_method,
            # docs: "Without setting auth_method to sms the phone number will not be saved."
            phone=int(body["cell_phone_number"]) if auth_method == "sms" else None,
            role=body.get("role", ""),
            invitation_method=body.get("invitation_method"),
            message=body.get("message"),
            emandate=body.get("emandate", []),
            fields=_fields("signature", body.get("signer_signature_fields"), now)
            + _fields("text", body.get("signer_text_fields"), now),
        )
        request.signers[signer.key] = signer
        request.updated_at = now
        return signer

    def _invite(self, request: SignRequest, action: str) -> None:
        signer = request.current_signer()
        if signer is None:
            return
        now = self.now()
        if signer.invitation_method == "custom":
            # docs: with custom invitation Stiply sends no mail and returns a sign link instead.
            signer.sign_url = f"https://sign.esign-contracts.invalid/stiply/{signer.key}"
            return
        signer.progresses.append(
            {
                "action": action,
                "ip": None,
                "location": None,
                "system": None,
                "value": signer.email,
                "created_at": stamp(now),
                "status": None,
            }
        )

    @effect("sendSignRequest")
    def send_sign_request(self, call: Call) -> Reply:
        request = self._request(call)
        assert request is not None
        self._send(request)
        return Reply({"data": request.render()})

    def _send(self, request: SignRequest) -> None:
        """Send a sign request: its term starts and the first signer is invited."""
        now = self.now()
        request.sent_at = request.updated_at = now
        request.terms[-1].expires = term_end(now, request.terms[-1].code)
        self._invite(request, "mail_signrequest_sent")

    @effect("sendReminder")
    def send_reminder(self, call: Call) -> Reply:
        request = self._request(call)
        assert request is not None
        self._invite(request, "mail_reminder_sent")
        return Reply({"data": request.render()})

    @effect("extendTerm")
    def extend_term(self, call: Call) -> Reply:
        request, now = self._request(call), self.now()
        assert request is not None
        request.terms[-1].expired = True
        code = call.field("term")
        request.terms.append(Term(code=code, created_at=now, expires=term_end(now, code)))
        self._invite(request, "mail_term_extended_sent")
        return Reply({"data": request.render()})

    @effect("getSignRequestKey")
    def get_sign_request_key(self, call: Call) -> Reply:
        request = self.by_external_key(call.params["external_key"])
        assert request is not None
        return Reply({"key": request.key, "status_code": "200"})

    @effect("getSignRequest")
    def get_sign_request(self, call: Call) -> Reply:
        request = self._request(call)
        assert request is not None
        return Reply({"data": request.render()})

    @effect("deleteSignRequest")
    def delete_sign_request(self, call: Call) -> Reply:
        del self.requests[call.params["sign_request_key"]]
        return Reply({"message": "Ondertekenverzoek en document succesvol verwijderd.", "status_code": "200"})

    @effect("getSigner")
    def get_signer(self, call: Call) -> Reply:
        signer = self._signer(call)
        assert signer is not None
        return Reply({"data": [signer.render()]})

    @effect("updateSigner")
    def update_signer(self, call: Call) -> Reply:
        signer = self._signer(call)
        assert signer is not None
        signer.email, signer.updated_at = call.field("new_email"), self.now()
        return Reply({"data": [signer.render()]})

    @effect("deleteSigner")
    def delete_signer(self, call: Call) -> Reply:
        request = self._request(call)
        assert request is not None
        del request.signers[call.params["signer_key"]]
        return Reply({"message": "Ondertekenaar succesvol verwijderd.", "status_code": "200"})

    def _document(self, call: Call, suffix: str) -> Reply:
        request = self._request(call)
        assert request is not None
        stem = request.filename.rsplit(".", 1)[0]
        data = f"%PDF-1.4\n% esign-contracts mock: {suffix} of {request.filename}\n%%EOF\n".encode()
        return Reply(
            {
                "file_name": f"{stem}-[{suffix}].pdf",
                "mimeType": "application/pdf",
                "file_size": str(len(data)),
                "hash": hashlib.sha1(data).hexdigest(),
                "data": base64.b64encode(data).decode("ascii"),
                "status_code": "200",
            }
        )

    @effect("getSignedDocument")
    def get_signed_document(self, call: Call) -> Reply:
        return self._document(call, "Ondertekend")

    @effect("getProofDocument")
    def get_proof_document(self, call: Call) -> Reply:
        return self._document(call, "Bewijs")

    # -- control: a sign request seeded in a state, in one call (a mock convenience) -----------------
    @control
    @creates("sign_request_key")
    def add_sign_request(
        self,
        signers: list[dict[str, Any] | str],
        external_key: str | None = None,
        term: str = "2w",
        sent: bool = False,
        sign_request_key: str = "",
        doc_name: str | None = None,
        message: str | None = None,
        comment: str | None = None,
        call_back_url: str | None = None,
    ) -> dict[str, Any]:
        """Seed a sign request with its signers, sent or not; returns its fields and the create answer's `data`.

        Each signer is a Create signer body (`signer_email`, `signer_signature_fields`, `cell_phone_number`
        with `auth_method` sms, `role`, ...), plus an optional `key`; a plain e-mail address stands for a signer
        with one signature field; `[]` makes one without signers. The docs take no signer name (answers show
        `"name": null`). `sent` sends it as Send sign request does: its term starts and the first signer is
        invited. Everything is checked before anything is made: a refused seed changes nothing.
        """
        # (`check` leaves seeds alone where the API can create: contracts/stateful.py control_steps)
        if not isinstance(sent, bool):
            raise ControlError(f"sent must be true or false, got {sent!r}")
        form_pointer = f"{self._pointer('createSignRequest')}/requestBody/content/multipart~1form-data/schema"
        fields = {
            "term": term,
            **dict(zip(OPTIONAL_FIELDS, (doc_name, message, comment, external_key, call_back_url), strict=True)),
        }
        for name, value in fields.items():
            if value is not None:
                self.check_argument(f"{form_pointer}/properties/{name}", value, name)
        taken = self.by_external_key(external_key or "")  # the rule of Create sign request, as its precondition
        if taken is not None:
            rule = self._rule("createSignRequest", "external_key_unique")
            raise ControlError(
                f"external_key {external_key!r} is taken by sign request {taken.key!r}: {rule.rule} ({rule.source})"
            )
        key = self.seed_id(sign_request_key, "sign_request_key", self.requests, "createSignRequest", "sign_request")
        given = self._seed_signers(signers)
        request = self._new_sign_request(key, term, SEED_FILENAME, len(SEED_DOCUMENT), fields)
        for signer in given:
            self._new_signer(request, signer["key"], {k: v for k, v in signer.items() if k != "key"})
        if sent:
            if not request.has_signature_field:  # the rule of Send sign request, as its precondition checks it
                rule = self._rule("sendSignRequest", "has_signer_with_signature_field")
                raise ControlError(f"sent=true needs what Send sign request needs: {rule.rule} ({rule.source})")
            self._send(request)
        self.requests[key] = request
        return {
            "sign_request_key": key,
            "signers": given,
            "sent": sent,
            **fields,
            "data": request.render(),  # what Create sign request answers (after Send, when sent)
        }

    def _pointer(self, operation_id: str) -> str:
        return load_contract(self.spec).operation(operation_id).pointer

    def _rule(self, operation_id: str, rule_id: str) -> Precondition:
        return next(p for p in load_contract(self.spec).operation(operation_id).preconditions if p.id == rule_id)

    def _seed_signers(self, signers: Any) -> list[dict[str, Any]]:
        """Each seeded signer as a checked Create signer body with its key."""
        if not isinstance(signers, list):
            raise ControlError(f"signers must be a list of Create signer bodies or e-mail addresses, got {signers!r}")
        body_pointer = "/components/schemas/CreateSignerRequest"
        checked: list[dict[str, Any]] = []
        for index, signer in enumerate(signers):
            argument = f"signers[{index}]"
            if isinstance(signer, str):
                signer = {"signer_email": signer, "signer_signature_fields": [dict(f) for f in SEED_SIGNATURE_FIELDS]}
            if not isinstance(signer, dict):
                raise ControlError(f"{argument} must be a Create signer body or an e-mail address, got {signer!r}")
            body = {k: v for k, v in signer.items() if k != "key"}
            self.check_argument(body_pointer, body, argument)
            keys = [s["key"] for s in checked]
            key = self.seed_id(signer.get("key", ""), f"{argument}['key']", keys, "createSigner", "signer")
            checked.append({"key": key, **body})
        return checked

    # -- control: what only a signer in a browser, or time, can do ---------------------------------
    @control
    def sign(self, sign_request_key: str, signer_key: str | None = None) -> None:
        """The current signer (or the named one) signs; the next one is invited; the last completes the request."""
        request = self._existing(sign_request_key)
        if not request.sent:
            raise ControlError(f"sign request {sign_request_key!r} has not been sent; a signer cannot sign it yet")
        signer = request.signers.get(signer_key) if signer_key else request.current_signer()
        if signer is None or signer.signed or not signer.must_sign:
            raise ControlError(f"sign request {sign_request_key!r} has no unsigned signer {signer_key or ''}".rstrip())
        signer.signed, signer.updated_at = True, self.now()
        if request.current_signer() is not None:
            self._invite(request, "mail_signrequest_sent")
            return
        now = self.now()
        request.all_signed_at = request.updated_at = now
        request.signed_hash = hashlib.sha1(f"signed:{request.key}".encode()).hexdigest()
        request.proof_hash = hashlib.sha1(f"proof:{request.key}".encode()).hexdigest()
        if request.call_back_url:
            # docs: call_back_url is called when the last signer has signed, with ?key={sign_request_key} added
            # (assumption callback_method: GET, no body)
            joiner = "&" if "?" in request.call_back_url else "?"
            url = f"{request.call_back_url}{joiner}{urlencode({'key': request.key})}"
            self.call_back("callBack", url, None, method="GET")

    @control
    def sign_all(self, sign_request_key: str) -> None:
        """Every remaining signer signs."""
        request = self._existing(sign_request_key)
        if request.all_signed:
            raise ControlError(f"sign request {sign_request_key!r} has been signed by all signers already")
        if request.current_signer() is None and request.sent:
            raise ControlError(f"sign request {sign_request_key!r} has no signer who must sign")
        while not request.all_signed:
            self.sign(sign_request_key)

    @control
    def expire_term(self, sign_request_key: str) -> None:
        """The current term runs out (so extend_term can succeed)."""
        request = self._existing(sign_request_key)
        if not request.sent:
            raise ControlError(f"sign request {sign_request_key!r} has not been sent; its term has not started")
        if request.terms[-1].expired:
            raise ControlError(f"the current term of sign request {sign_request_key!r} has expired already")
        request.terms[-1].expired = True
        request.terms[-1].expires = min(request.terms[-1].expires or self.now(), self.now())
