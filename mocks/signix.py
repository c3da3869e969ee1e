"""SIGNiX SubmitAjax as a state machine: transactions, their parties, and the JSON requests that change them.

Every rule here is declared in specs/signix/signix.yaml (`x-ajax`); this module only implements them, in the
spec's order. The same code answers as the mock and predicts as the oracle: `run` decides an outcome from the
state, and each outcome carries the codes the docs allow, so a target may answer any of them.
"""

from __future__ import annotations

import copy
import functools
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from jsonschema.exceptions import best_match

from esign_contracts.mocks.provider import (
    Call,
    ControlError,
    Judgement,
    Mistake,
    Provider,
    Reply,
    control,
    creates,
    effect,
    precondition,
)
from esign_contracts.mocks.signix_xml import Answer, Item, read_answer, read_request, schema_error, write_answer
from esign_contracts.specs import load_contract
from esign_contracts.specs.ajax import NAMESPACE, XmlProblem, object_types, parse_xml, request_validator

IN_PROGRESS, SUSPENDED, CANCELLED, EXPIRED, COMPLETE = "in progress", "suspended", "cancelled", "expired", "complete"
STATE_CHANGES = ("Transaction_Cancel", "Transaction_Suspend", "Transaction_Resume")
XML = {"Content-Type": "text/xml; charset=UTF-8"}


@dataclass(frozen=True)
class Codes:
    """The codes the docs allow for one outcome: some exact values, and perhaps any value from 100 up."""

    exact: frozenset[int]
    from_100: bool = False

    @classmethod
    def parse(cls, accepts: list[Any]) -> Codes:
        return cls(frozenset(int(a) for a in accepts if str(a).isdigit()), ">=100" in accepts)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, int) and (code in self.exact or (self.from_100 and code >= 100))

    def __or__(self, other: Codes) -> Codes:
        return Codes(self.exact | other.exact, self.from_100 or other.from_100)

    def __str__(self) -> str:
        return " or ".join([*map(str, sorted(self.exact)), *(["any code >= 100"] if self.from_100 else [])])


@dataclass(frozen=True)
class Rule:
    id: str
    rule: str
    code: int
    accepts: Codes
    source: str
    warning: str = ""

    @classmethod
    def read(cls, raw: dict[str, Any], source: str, key: str) -> Rule:
        code = int(raw[key])
        documented = bool(raw.get("documented", True))
        accepts = Codes(frozenset({code})) if documented else Codes.parse(raw.get("accepts", [code]))
        return cls(raw["id"], raw["rule"], code, accepts, raw.get("x-source", source), raw.get("warning", ""))


@dataclass
class Party:
    ref_id: str
    email: str
    phone: str
    emails_sent: int = 0


@dataclass
class Transaction:
    id: str
    document_set_id: str
    status: str = IN_PROGRESS
    parties: dict[str, Party] = field(default_factory=dict)

    def render(self) -> dict[str, Any]:
        return {
            "transaction_id": self.id,
            "document_set_id": self.document_set_id,
            "status": self.status,
            "parties": [{"ref_id": p.ref_id, "email": p.email, "phone": p.phone} for p in self.parties.values()],
        }


@dataclass
class Outcome:
    """What the model decided for one SubmitAjax request, and what a target may answer instead."""

    answer: Answer
    accepts: Codes
    item_accepts: tuple[Codes, ...] = ()
    mistakes: list[Mistake] = field(default_factory=list)
    rule: str = ""


@dataclass
class Run:
    """One request's evaluation context: the envelope, the working copy and the JSON request at hand."""

    transaction: Transaction
    request: dict[str, Any]
    object_type: str


class Signix(Provider, name="signix", spec="signix"):
    """The SIGNiX model. Control actions: add_transaction, complete, expire, reset."""

    # The docs' own placeholders, except the password, which the docs leave to each client.
    default_credentials = {
        "CustInfo": {"Sponsor": "oem", "Client": "oemclient", "UserId": "oemclient", "Pswd": "signix-mock-password"}
    }
    preflight = "submitAjax"
    compared_fields: frozenset[str] = frozenset()
    compared_lists: frozenset[str] = frozenset()

    def reset(self) -> None:
        self.transactions: dict[str, Transaction] = {}

    # -- the spec's rules, read once ----------------------------------------------------------------------------
    @property
    def ajax(self) -> dict[str, Any]:
        return load_contract(self.spec).document["x-ajax"]

    def _rules(self, section: str) -> dict[str, Rule]:
        """A section's rules by id, in spec order (read-only: shared by every instance)."""
        return _section_rules(self.spec, section)

    def _request_rules(self, object_type: str) -> tuple[Rule, ...]:
        return _request_type_rules(self.spec, object_type)

    def error_response(
        self, status: int, message: str, code: str | None = None, call: Call | None = None
    ) -> tuple[int, bytes, dict[str, str]]:
        # Every refusal is a SubmitAjaxRs with a code >= 100 and no Data (x-assumptions http_status_always_200).
        return 200, write_answer(Answer(100, message, False)), dict(XML)

    def live_identifiers(self, parameter: str) -> list[str]:
        return list(self.transactions) if parameter == "transaction_id" else []

    # -- control actions ------------------------------------------------------------------------------------------
    @control
    @creates("transaction_id")
    def add_transaction(
        self,
        transaction_id: str = "",
        document_set_id: str = "",
        parties: list[dict[str, str]] | None = None,
    ) -> dict[str, Any]:
        """Seed a transaction in progress (SubmitDocument is outside these docs); returns its ids and parties."""
        transaction_id = transaction_id or str(uuid.UUID(int=self.seed_randomness.getrandbits(128), version=4))
        if len(transaction_id) != 36:
            raise ControlError(f"a TransactionID has exactly 36 characters, got {len(transaction_id)}")
        if transaction_id in self.transactions:
            raise ControlError(f"transaction {transaction_id} exists already")
        given = parties or [
            {"ref_id": "P01", "email": "first.signer@example.com", "phone": "2221231234"},
            {"ref_id": "P02", "email": "second.signer@example.com", "phone": "2221234321"},
        ]
        try:
            found = {p["ref_id"]: Party(p["ref_id"], p.get("email", ""), p.get("phone", "")) for p in given}
        except (KeyError, TypeError) as exc:
            raise ControlError("each party needs a ref_id (and may have an email and a phone)") from exc
        made = self.seed_randomness.randbytes
        transaction = Transaction(
            transaction_id, document_set_id or f"-{made(4).hex()}:{made(5).hex()}:-7f5f", parties=found
        )
        self.transactions[transaction_id] = transaction
        return transaction.render()

    def adopt(self, given: str) -> list[str]:
        """Take the transactions a user named (x-given-resources: "TransactionID=RefID,RefID ..."), in progress."""
        adopted = []
        for item in given.split():
            transaction_id, _, refs = item.partition("=")
            parties = [{"ref_id": ref} for ref in refs.split(",") if ref]
            if len(transaction_id) != 36 or not parties:
                raise ControlError(f"{item!r} is not TransactionID=RefID[,RefID...] with a 36-character TransactionID")
            self.add_transaction(transaction_id, "", parties)
            self.transactions[transaction_id].document_set_id = ""  # unknown: requests name it by TransactionID
            adopted.append(transaction_id)
        return adopted

    def _transaction(self, transaction_id: str) -> Transaction:
        if transaction_id not in self.transactions:
            raise ControlError(f"no transaction {transaction_id}")
        return self.transactions[transaction_id]

    @control
    def complete(self, transaction_id: str) -> None:
        """Every party signs: the transaction is complete."""
        transaction = self._transaction(transaction_id)
        if transaction.status not in (IN_PROGRESS, SUSPENDED):
            raise ControlError(f"transaction {transaction_id} is {transaction.status}; only an open one completes")
        transaction.status = COMPLETE

    @control
    def expire(self, transaction_id: str) -> None:
        """The transaction's time runs out: it expires."""
        transaction = self._transaction(transaction_id)
        if transaction.status not in (IN_PROGRESS, SUSPENDED):
            raise ControlError(f"transaction {transaction_id} is {transaction.status}; only an open one expires")
        transaction.status = EXPIRED

    # -- envelope rules (x-ajax envelope-rules) -------------------------------------------------------------------
    @precondition("xml_well_formed")
    def _well_formed(self, run: Any) -> bool:
        return True  # decided while parsing, in `run`

    @precondition("xml_valid_against_xsd")
    def _valid(self, run: Any) -> bool:
        return True  # decided while parsing, in `run`

    @precondition("credentials_accepted")
    def _credentials_accepted(self, given: dict[str, str]) -> bool:
        return given == self.credentials.get("CustInfo")

    @precondition("transaction_exists")
    def _exists(self, found: Transaction | None) -> bool:
        return found is not None

    # -- request rules (x-ajax request-rules and each request's rules) ---------------------------------------------
    @precondition("request_is_json")
    def _is_json(self, run: Run) -> bool:
        return isinstance(run.request, dict)

    @precondition("request_object_type_known")
    def _known(self, run: Run) -> bool:
        return run.object_type in object_types()

    @precondition("request_matches_schema")
    def _matches(self, run: Run) -> bool:
        return request_validator(run.object_type).is_valid(run.request)

    @precondition("cancel_not_expired")
    def _cancel_not_expired(self, run: Run) -> bool:
        return run.transaction.status != EXPIRED

    @precondition("cancel_not_cancelled")
    def _cancel_not_cancelled(self, run: Run) -> bool:
        return run.transaction.status != CANCELLED

    @precondition("cancel_not_complete")
    def _cancel_not_complete(self, run: Run) -> bool:
        return run.transaction.status != COMPLETE

    @precondition("suspend_not_complete")
    def _suspend_not_complete(self, run: Run) -> bool:
        return run.transaction.status != COMPLETE

    @precondition("resume_not_complete")
    def _resume_not_complete(self, run: Run) -> bool:
        return run.transaction.status != COMPLETE

    @precondition("suspend_not_suspended")
    def _not_suspended(self, run: Run) -> bool:
        return run.transaction.status != SUSPENDED

    @precondition("suspend_not_ended")
    def _not_ended(self, run: Run) -> bool:
        return run.transaction.status not in (CANCELLED, EXPIRED)

    @precondition("resume_suspended")
    def _suspended(self, run: Run) -> bool:
        return run.transaction.status == SUSPENDED

    @precondition("deltas_transaction_open")
    def _open(self, run: Run) -> bool:
        return run.transaction.status in (IN_PROGRESS, SUSPENDED)

    @precondition("email_transaction_in_progress")
    def _in_progress(self, run: Run) -> bool:
        return run.transaction.status == IN_PROGRESS

    @precondition("deltas_parties_exist")
    def _roles_exist(self, run: Run) -> bool:
        return all(delta["role"]["id"] in run.transaction.parties for delta in run.request["deltas"])

    @precondition("email_parties_exist")
    def _addressees_exist(self, run: Run) -> bool:
        return all(_addressee(to) in run.transaction.parties for to in run.request["to"])

    # -- effects of each JSON request ----------------------------------------------------------------------------
    def _apply(self, run: Run) -> None:
        transaction = run.transaction
        if run.object_type == "Transaction_Cancel":
            transaction.status = CANCELLED
        elif run.object_type == "Transaction_Suspend":
            transaction.status = SUSPENDED
        elif run.object_type == "Transaction_Resume":
            transaction.status = IN_PROGRESS
        elif run.object_type == "Transaction_SaveDeltas":
            for delta in run.request["deltas"]:
                party = transaction.parties[delta["role"]["id"]]
                changed = delta["role"]["party"]
                for entry in changed.get("emailAddressTable", {}).values():
                    party.email = entry["address"]
                for entry in changed.get("phoneTable", {}).values():
                    party.phone = entry["number"]
        elif run.object_type == "Transaction_SendPartyEmail":
            for to in run.request["to"]:
                transaction.parties[_addressee(to)].emails_sent += 1

    # -- the one operation -----------------------------------------------------------------------------------------
    @effect("submitAjax")
    def submit_ajax(self, call: Call) -> Reply:
        outcome = self.run(str(call.field("request", "")))
        failed = outcome.answer.status_code >= 2
        return Reply(
            write_answer(outcome.answer),
            200,
            dict(XML),
            outcome="refused" if failed else "ok",
            rule=outcome.rule,
            message=outcome.answer.status_desc if failed else "",
            mistakes=tuple(outcome.mistakes),
            judge=lambda response: judge(outcome, response),
        )

    def run(self, text: str) -> Outcome:
        """Decide a SubmitAjaxRq's answer from the current state, and apply its effects unless it failed."""
        envelope_rules = self._rules("envelope-rules")
        try:
            root = parse_xml(text.encode("utf-8"))
        except XmlProblem as exc:
            return self._refuse(envelope_rules["xml_well_formed"], str(exc), mistake=True)
        problem = schema_error(root)
        if problem is None and root.tag != f"{{{NAMESPACE}}}SubmitAjaxRq":  # the XSD's other global element
            problem = f"the document is a {root.tag.rsplit('}', 1)[-1]}, not a SubmitAjaxRq"
        if problem is not None:
            return self._refuse(envelope_rules["xml_valid_against_xsd"], problem, mistake=True)
        envelope = read_request(root)
        transaction = self.transactions.get(envelope.transaction_id or "") or next(
            (t for t in self.transactions.values() if t.document_set_id == envelope.document_set_id), None
        )
        unmet = [
            rule
            for rule, holds in (
                (envelope_rules["credentials_accepted"], self.holds("credentials_accepted", envelope.credentials)),
                (envelope_rules["transaction_exists"], self.holds("transaction_exists", transaction)),
            )
            if not holds
        ]
        if unmet:
            # The docs give no order between these two: any of their codes is acceptable.
            accepts = Codes(frozenset(), True)
            for rule in unmet:
                accepts = accepts | rule.accepts
            # (the rule says what must hold; the StatusDesc, undocumented here, says that it did not)
            outcome = self._refuse(unmet[0], f"Not accepted (the rule: {unmet[0].rule})")
            outcome.accepts = accepts
            return outcome
        assert transaction is not None
        return self._run_requests(envelope.requests, envelope.multi, transaction)

    def _refuse(self, rule: Rule, detail: str, mistake: bool = False) -> Outcome:
        pointer = _pointer(self.spec, "envelope-rules", rule.id)
        mistakes = [Mistake(rule.rule, rule.source, detail, pointer)] if mistake else []
        return Outcome(Answer(rule.code, detail, False), rule.accepts, (), mistakes, rule.id)

    def _run_requests(self, texts: tuple[str, ...], multi: bool, transaction: Transaction) -> Outcome:
        working = copy.deepcopy(transaction)  # "the working copy is not saved" when a request fails
        items: list[Item] = []
        accepts: list[Codes] = []
        mistakes: list[Mistake] = []
        failed_rule = ""
        warned = ""
        for text in texts:
            request, strict = _decode(text)
            object_type = str(request.get("objectType", "")) if isinstance(request, dict) else ""
            if not strict and request is not None:
                mistakes.append(self._client_rule("strict_json", f"the request {text[:80]!r} is not strict JSON"))
            if multi and object_type in STATE_CHANGES:
                mistakes.append(
                    self._client_rule("single_format_for_state_changes", f"{object_type} was sent inside <Requests>")
                )
            run = Run(working, request if isinstance(request, dict) else None, object_type)  # type: ignore[arg-type]
            unmet = self._first_unmet(run, mistakes)
            if unmet is None:
                self._apply(run)
                items.append(_item(multi, 0, "success", object_type, "success", "the request was processed"))
                accepts.append(Codes(frozenset({0})))
                continue
            if unmet.code == 1:
                warned = warned or unmet.id
                items.append(_item(multi, 1, unmet.warning, object_type, "warning", unmet.warning))
                accepts.append(unmet.accepts)
                continue
            items.append(_item(multi, unmet.code, unmet.rule, object_type, "error", unmet.rule))
            accepts.append(unmet.accepts)
            failed_rule = unmet.id
            break
        if failed_rule:
            status = Codes(frozenset({2}))
            if not multi:  # x-assumptions single_request_failure
                status = Codes(frozenset({0, 2})) | accepts[-1]
            answer = Answer(2, "partial success: a request failed and nothing was saved", True, tuple(items), multi)
            return Outcome(answer, status, tuple(accepts), mistakes, failed_rule)
        self.transactions[transaction.id] = working
        if warned:
            warning = next(i.desc for i in items if i.code == 1) if multi else _warning_of(items[0])
            single = accepts[0] if not multi else Codes(frozenset({1}))
            return Outcome(
                Answer(1, warning or "success with warning", True, tuple(items), multi),
                single,
                tuple(accepts),
                mistakes,
                warned,
            )
        return Outcome(Answer(0, "success", True, tuple(items), multi), Codes(frozenset({0})), tuple(accepts), mistakes)

    def _first_unmet(self, run: Run, mistakes: list[Mistake]) -> Rule | None:
        general = self._rules("request-rules")
        for rule_id in ("request_is_json", "request_object_type_known", "request_matches_schema"):
            if not self.holds(rule_id, run):
                rule = general[rule_id]
                detail = rule.rule
                if rule_id == "request_matches_schema":
                    error = best_match(request_validator(run.object_type).iter_errors(run.request))
                    detail = f"{rule.rule}: {error.message if error else 'invalid'}"
                    pointer = f"/x-ajax/requests/{run.object_type}/schema"
                else:
                    pointer = _pointer(self.spec, "request-rules", rule_id)
                mistakes.append(Mistake(rule.rule, rule.source, detail, pointer))
                return rule
        for rule in self._request_rules(run.object_type):
            if not self.holds(rule.id, run):
                return rule
        return None

    def _client_rule(self, rule_id: str, detail: str) -> Mistake:
        raw = next(r for r in self.ajax["client-rules"] if r["id"] == rule_id)
        return Mistake(raw["rule"], raw["x-source"], detail, _pointer(self.spec, "client-rules", rule_id))

    def documented_outcomes(self) -> set[tuple[str, int]]:
        """(objectType or "SubmitAjax", code) pairs the docs define, for the coverage line of a report."""
        pairs = {("SubmitAjax", 0), ("SubmitAjax", 1), ("SubmitAjax", 2), ("SubmitAjax", 101)}
        for object_type in self.ajax["requests"]:
            pairs.add((object_type, 0))
            pairs |= {(object_type, 1) for rule in self._request_rules(object_type) if rule.code == 1}
        return pairs


# The spec's rules are read once per spec, not on every request.
@functools.cache
def _section_rules(spec: str, section: str) -> dict[str, Rule]:
    ajax = load_contract(spec).document["x-ajax"]
    key = "status_code" if section == "envelope-rules" else "response_code"
    return {r["id"]: Rule.read(r, ajax.get("x-source", ""), key) for r in ajax[section]}


@functools.cache
def _request_type_rules(spec: str, object_type: str) -> tuple[Rule, ...]:
    declared = load_contract(spec).document["x-ajax"]["requests"][object_type]
    return tuple(Rule.read(r, declared["x-source"], "response_code") for r in declared.get("rules", []))


@functools.cache
def _pointer(spec: str, section: str, rule_id: str) -> str:
    rules = load_contract(spec).document["x-ajax"][section]
    index = next(i for i, r in enumerate(rules) if r["id"] == rule_id)
    return f"/x-ajax/{section}/{index}"


def _addressee(to: dict[str, Any]) -> str:
    return str(to.get("Id", to.get("id", "")))  # x-errata send_party_email_id_case


def _decode(text: str) -> tuple[Any, bool]:
    """(the JSON request, whether it was strict JSON); (None, True) when it is not JSON at all.

    The docs' single-quoted shorthand is read too (x-assumptions lenient_single_quotes).
    """
    try:
        return json.loads(text), True
    except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested past the parser's stack
        pass
    if "'" in text and '"' not in text:
        try:
            return json.loads(text.replace("'", '"')), False
        except (ValueError, RecursionError):
            pass
    return None, True


def _item(multi: bool, code: int, desc: str, object_type: str, status: str, message: str) -> Item:
    content = json.dumps({"objectType": object_type, "status": status, "message": message})  # json_response_body
    # x-assumptions single_response_attributes: the single format's Response carries no attributes.
    return Item(code if multi else None, desc if multi else None, content)


def _status_of(item: Item) -> str:
    return str(json.loads(item.content).get("status", ""))


def _words(text: str) -> str:
    return " ".join(text.replace("\u201c", '"').split()).lower()


def _warning_of(item: Item) -> str:
    return str(json.loads(item.content).get("message", ""))


def judge(outcome: Outcome, response: Any) -> tuple[list[Judgement], list[tuple[str, int]]]:
    """Compare a target's SubmitAjaxRs with the model's outcome: (disagreements, (name, code) pairs reached)."""
    answer = read_answer(response.body)
    if answer.problems:
        return [
            Judgement(
                "response schema",
                "the answer is a SubmitAjaxRs valid against the XSD",
                "a SubmitAjaxRs",
                answer.problems[0],
            )
        ], []
    found: list[Judgement] = []
    reached = [("SubmitAjax", answer.status_code)]
    predicted = outcome.answer
    if answer.status_code not in outcome.accepts:
        found.append(
            Judgement(
                "status",
                outcome.rule or "every documented rule holds",
                f"StatusCode {outcome.accepts}",
                f"StatusCode {answer.status_code} ({answer.status_desc})",
            )
        )
        return found, reached
    if answer.status_code >= 100:
        if answer.has_data:
            found.append(
                Judgement(
                    "response schema",
                    "a request that fails before any JSON runs has no Data",
                    "no <Data>",
                    "a <Data> element",
                )
            )
        return found, reached
    if not answer.has_data:
        found.append(Judgement("response schema", "a processed request answers a Data element", "<Data>", "no <Data>"))
        return found, reached
    expected_count = len(predicted.items)
    if len(answer.items) != expected_count:
        found.append(
            Judgement(
                "model",
                "a Response for each request up to and including the one that failed",
                f"{expected_count} Response element(s)",
                f"{len(answer.items)}",
            )
        )
        return found, reached
    warning = next((json.loads(i.content)["message"] for i in predicted.items if _status_of(i) == "warning"), "")
    if answer.status_code == 1 and predicted.status_code == 1 and warning:
        # x-assumptions warning_text: the documented words are in the answer (StatusDesc, responseDesc or JSON)
        said = " ".join([answer.status_desc, *(f"{i.desc or ''} {i.content}" for i in answer.items)])
        if _words(warning) not in _words(said):
            found.append(
                Judgement("model", outcome.rule or "the documented warning", f"the warning {warning!r}", said[:200])
            )
    for index, (item, accepts) in enumerate(zip(answer.items, outcome.item_accepts, strict=False)):
        name = json.loads(predicted.items[index].content)["objectType"] or "request"
        try:
            json.loads(item.content)
        except (ValueError, RecursionError):
            found.append(
                Judgement("response schema", "each Response holds XML-encoded JSON", "JSON", item.content[:120])
            )
        if item.code is None:
            if predicted.multi:
                found.append(
                    Judgement(
                        "response schema", "each Response in <Responses> has a responseCode", "responseCode", "none"
                    )
                )
            reached.append((name, answer.status_code if answer.status_code in (0, 1) else 2))
            continue
        reached.append((name, item.code))
        if item.code not in accepts:
            found.append(
                Judgement(
                    "status",
                    f"request {index + 1} ({name})",
                    f"responseCode {accepts}",
                    f"responseCode {item.code} ({item.desc})",
                )
            )
    return found, reached
