"""Faulty SIGNiX servers: the real model with exactly one documented rule broken, to prove `check` notices.

Each fault is a subclass of the `Signix` model (mocks/signix.py) that breaks ONE rule of specs/signix/signix.yaml
`x-ajax`: a request rule ignored (its `@precondition` method overridden to hold), the batch semantics changed
(`_run_requests`), the envelope rules relaxed (`run`, a `@precondition`), or the answer written wrongly (`run`,
`submit_ajax`). Every class names the rule it breaks and the rule's x-source. `FAULTS` lists them with what a
report must say about each: a regular expression on "<check>: <rule>" of some finding, and one on its
"expected → received".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace

from esign_contracts.contracts.report import Finding, Report
from esign_contracts.mocks import Call, Reply, effect, precondition
from esign_contracts.mocks.signix import COMPLETE, Outcome, Run, Signix, Transaction
from esign_contracts.mocks.signix_xml import Answer, Item

from .faulty_support import ServerFault, mock_of  # noqa: F401  (mock_of re-exported for the tests)

# -- request rules ignored: a documented warning (responseCode 1) answered as a success ---------------------------


class SuspendsTwice(Signix, name="signix-faulty-suspends-twice", spec="signix"):
    """Suspend ignores suspend_not_suspended ("The transaction is not suspended already"): suspending a suspended
    transaction answers StatusCode 0, not the warning "This transaction has already been suspended and cannot be
    suspended again."

    x-source: docs > Suspend / Resume Transaction; docs > AJAX Status Codes > WARNINGS - SUSPEND
    """

    @precondition("suspend_not_suspended")
    def _not_suspended(self, run: Run) -> bool:
        return True


class SuspendsComplete(Signix, name="signix-faulty-suspends-complete", spec="signix"):
    """Suspend ignores suspend_not_complete ("The transaction is not complete"): suspending a complete
    transaction answers StatusCode 0 (and the transaction stays complete), not the warning "This transaction
    has already been completed and cannot be suspended."

    x-source: docs > Suspend / Resume Transaction; docs > AJAX Status Codes > WARNINGS - SUSPEND
    """

    @precondition("suspend_not_complete")
    def _suspend_not_complete(self, run: Run) -> bool:
        return True

    def _apply(self, run: Run) -> None:
        if not (run.object_type == "Transaction_Suspend" and run.transaction.status == COMPLETE):
            super()._apply(run)


class SuspendsCompleteForReal(SuspendsComplete, name="signix-faulty-suspends-complete-for-real", spec="signix"):
    """As SuspendsComplete, but the complete transaction is then suspended: the target's state leaves the
    model's, and a later control action the target accepts (complete, expire) is one the model refuses.

    x-source: docs > Suspend / Resume Transaction; docs > AJAX Status Codes > WARNINGS - SUSPEND
    """

    def _apply(self, run: Run) -> None:
        Signix._apply(self, run)


class ResumesComplete(Signix, name="signix-faulty-resumes-complete", spec="signix"):
    """Resume ignores resume_not_complete ("The transaction is not complete"): resuming a complete transaction
    falls through to the next rule, resume_suspended, and is refused with responseCode 2 instead of the warning
    "This transaction has already been completed and cannot be resumed." (documented: exactly 1).

    x-source: docs > Suspend / Resume Transaction; docs > AJAX Status Codes > WARNINGS - RESUME
    """

    @precondition("resume_not_complete")
    def _resume_not_complete(self, run: Run) -> bool:
        return True


class CancelsCancelled(Signix, name="signix-faulty-cancels-cancelled", spec="signix"):
    """Cancel ignores cancel_not_cancelled ("The transaction is not cancelled"): cancelling a cancelled
    transaction answers StatusCode 0, not the warning "This transaction has cancelled and cannot be cancelled."

    x-source: docs > Cancel Transaction; docs > AJAX Status Codes > WARNINGS - CANCEL
    """

    @precondition("cancel_not_cancelled")
    def _cancel_not_cancelled(self, run: Run) -> bool:
        return True


class CancelsExpired(Signix, name="signix-faulty-cancels-expired", spec="signix"):
    """Cancel ignores cancel_not_expired ("The transaction has not expired"): an expired transaction is
    cancelled with StatusCode 0, not the warning "This transaction has expired and cannot be cancelled."

    x-source: docs > Cancel Transaction; docs > AJAX Status Codes > WARNINGS - CANCEL
    """

    @precondition("cancel_not_expired")
    def _cancel_not_expired(self, run: Run) -> bool:
        return True


class CancelsComplete(Signix, name="signix-faulty-cancels-complete", spec="signix"):
    """Cancel ignores cancel_not_complete ("The transaction is not complete"): a complete transaction is
    cancelled with StatusCode 0, not the warning "This transaction has already been completed and cannot be
    cancelled."

    x-source: docs > Cancel Transaction; docs > AJAX Status Codes > WARNINGS - CANCEL
    """

    @precondition("cancel_not_complete")
    def _cancel_not_complete(self, run: Run) -> bool:
        return True


# -- batch semantics (docs > Multiple Request Format) --------------------------------------------------------------


class AnswersEveryRequestOfAFailedBatch(Signix, name="signix-faulty-batch-goes-on", spec="signix"):
    """A batch does not stop at the failed request: every request after it is answered too (responseCode 0),
    where the docs say "There will be response elements for each request up to and including the one that
    failed. Requests after the failed request were not run, and no responses are included for them."

    x-source: docs > Multiple Request Format (StatusCode 2)
    """

    def _run_requests(self, texts: tuple[str, ...], multi: bool, transaction: Transaction) -> Outcome:
        outcome = super()._run_requests(texts, multi, transaction)
        answer = outcome.answer
        if not multi or answer.status_code != 2 or len(answer.items) == len(texts):
            return outcome
        rest = tuple(Item(0, "success", '{"status": "success"}') for _ in texts[len(answer.items) :])
        return replace(outcome, answer=replace(answer, items=answer.items + rest))


class FailedBatchAnswersSuccess(Signix, name="signix-faulty-failed-batch-0", spec="signix"):
    """A batch whose last processed request failed answers StatusCode 0 ("All JSON requests were processed and
    returned non-error responses") instead of 2 ("The last one processed failed ... The working copy is not
    saved"). (A single request that fails may answer 0: x-assumptions single_request_failure.)

    x-source: docs > Multiple Request Format (the StatusCode of the B2B response)
    """

    def _run_requests(self, texts: tuple[str, ...], multi: bool, transaction: Transaction) -> Outcome:
        outcome = super()._run_requests(texts, multi, transaction)
        if outcome.answer.status_code != 2:
            return outcome
        return replace(outcome, answer=replace(outcome.answer, status_code=0, status_desc="success"))


# -- envelope rules relaxed (x-ajax envelope-rules) ----------------------------------------------------------------


class AcceptsInvalidEnvelopes(Signix, name="signix-faulty-accepts-xsd-invalid", spec="signix"):
    """xml_valid_against_xsd is not checked ("The request is a SubmitAjaxRq valid against the XSD (element order
    enforced, names case-sensitive)"): an envelope with CustInfo out of order, a lower-case element or a short
    TransactionID answers StatusCode 0 and a Response, as a lenient server that reads what it can would, where
    the documented answer is StatusCode 101 without <Data>.

    x-source: provider-notes > SIGNiX > "StatusCode 101 with the validator's message in StatusDesc and no <Data>"
    """

    def run(self, text: str) -> Outcome:
        outcome = super().run(text)
        if outcome.rule != "xml_valid_against_xsd":
            return outcome
        item = Item(None, None, '{"objectType": "", "status": "success", "message": "the request was processed"}')
        return replace(outcome, answer=Answer(0, "success", True, (item,)), mistakes=[])


class AcceptsAnyPassword(Signix, name="signix-faulty-any-password", spec="signix"):
    """credentials_accepted ignores Pswd ("Sponsor, Client, UserId and Pswd are the ones SIGNiX assigned
    (case-sensitive)"): the right Sponsor, Client and UserId with any password run the requests.

    x-source: docs > Sessionless API Request Format (CustInfo)
    """

    @precondition("credentials_accepted")
    def _credentials_accepted(self, given: dict[str, str]) -> bool:
        expected = {k: v for k, v in self.credentials.get("CustInfo", {}).items() if k != "Pswd"}
        return {k: v for k, v in given.items() if k != "Pswd"} == expected


# -- the answer written wrongly -----------------------------------------------------------------------------------


class DataOnEnvelopeFailure(Signix, name="signix-faulty-data-on-failure", spec="signix"):
    """A request that fails before any JSON runs (StatusCode >= 100) is answered with a <Data> element holding
    the error, where the docs say ">=100: The XML request failed before any JSON was processed. The Data element
    will not be present." (and "In case of failure ... the Data section will be absent").

    x-source: docs > Multiple Request Format; docs > Single Request/Response Format
    """

    def run(self, text: str) -> Outcome:
        outcome = super().run(text)
        answer = outcome.answer
        if answer.status_code < 100:
            return outcome
        error = Item(None, None, '{"status": "error"}')
        return replace(outcome, answer=replace(answer, has_data=True, items=(error,), multi=False))


class ResponsesNotJson(Signix, name="signix-faulty-response-not-json", spec="signix"):
    """Each <Response> holds a plain word ("success", "warning", "error") instead of "...XML-Encoded JSON
    Response...".

    x-source: docs > Single Request/Response Format; docs > Multiple Request Format ("all responses are
    XML-encoded JSON")
    """

    def _run_requests(self, texts: tuple[str, ...], multi: bool, transaction: Transaction) -> Outcome:
        outcome = super()._run_requests(texts, multi, transaction)
        words = tuple(replace(item, content=json.loads(item.content)["status"]) for item in outcome.answer.items)
        return replace(outcome, answer=replace(outcome.answer, items=words))


class AnswersWithoutStatusDesc(Signix, name="signix-faulty-no-status-desc", spec="signix"):
    """The answer's <Status> has a StatusCode and no StatusDesc, so it is not a SubmitAjaxRs valid against the
    XSD (Status: sequence StatusCode, StatusDesc; the docs print both in every answer).

    x-source: docs > Single Request/Response Format; docs > Multiple Request Format (the SubmitAjaxRs examples)
    """

    @effect("submitAjax")
    def submit_ajax(self, call: Call) -> Reply:
        reply = super().submit_ajax(call)
        reply.body = re.sub(rb"<StatusDesc>.*?</StatusDesc>|<StatusDesc/>", b"", reply.body, flags=re.S)
        return reply


class WarnsWithOtherWords(Signix, name="signix-faulty-warning-text", spec="signix"):
    """A warning (responseCode / StatusCode 1) says "warning" instead of the documented text, e.g. "This
    transaction has already been suspended and cannot be suspended again.", in StatusDesc, responseDesc and the
    JSON response (x-assumptions warning_text: the documented words are somewhere in the answer).

    x-source: docs > AJAX Status Codes > WARNINGS - SUSPEND, WARNINGS - RESUME, WARNINGS - CANCEL
    """

    def _run_requests(self, texts: tuple[str, ...], multi: bool, transaction: Transaction) -> Outcome:
        outcome = super()._run_requests(texts, multi, transaction)
        answer = outcome.answer
        if answer.status_code != 1:
            return outcome
        items = tuple(_worded(i) for i in answer.items)
        return replace(outcome, answer=replace(answer, status_desc="warning", items=items))


def _worded(item: Item) -> Item:
    """The item with "warning" wherever the documented warning text was (responseDesc and the JSON response)."""
    content = json.loads(item.content)
    if content.get("status") != "warning":
        return item
    return replace(
        item, desc="warning" if item.desc is not None else None, content=json.dumps({**content, "message": "warning"})
    )


# -- the catalogue ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault(ServerFault):
    """A faulty SIGNiX server (see tests/faulty_support.ServerFault).

    `finding` matches "<check>: <rule>" of a Finding, `detail` its "<expected> → <received>".
    """

    model: type[Signix] = Signix
    needs_control: bool = True  # transactions exist only through the control action add_transaction


# A missed warning is reported as "status: every documented rule holds" with "expected StatusCode 1": `judge`
# (mocks/signix.py) names the model's Outcome.rule, which `_run_requests` leaves empty for a warning.
SCHEMA = r"response schema: "
OPS = ("submitAjax",)

FAULTS: tuple[Fault, ...] = (
    Fault("suspends-twice", OPS, "status: suspend_not_suspended", SuspendsTwice, rule_id="suspend_not_suspended",
          detail=r"^StatusCode 1 → StatusCode 0 "),
    Fault("suspends-complete", OPS, "status: suspend_not_complete", SuspendsComplete, rule_id="suspend_not_complete",
          detail=r"^StatusCode 1 → StatusCode 0 "),
    Fault("resumes-complete", OPS, "status: resume_not_complete", ResumesComplete, rule_id="resume_not_complete",
          detail=r"^StatusCode 1 → StatusCode 2 "),
    Fault("cancels-cancelled", OPS, "status: cancel_not_cancelled", CancelsCancelled, rule_id="cancel_not_cancelled",
          detail=r"^StatusCode 1 → StatusCode 0 "),
    Fault("cancels-expired", OPS, "status: cancel_not_expired", CancelsExpired, rule_id="cancel_not_expired",
          detail=r"^StatusCode 1 → StatusCode 0 "),
    Fault("cancels-complete", OPS, "status: cancel_not_complete", CancelsComplete, rule_id="cancel_not_complete",
          detail=r"^StatusCode 1 → StatusCode 0 "),
    Fault("batch-goes-on", OPS, r"model: a Response for each request up to and including the one that failed",
          AnswersEveryRequestOfAFailedBatch, detail=r"^\d Response element\(s\) → \d$"),
    Fault("failed-batch-0", OPS, r"status: (deltas|email|request)_\w+", FailedBatchAnswersSuccess,
          detail=r"^StatusCode 2 → StatusCode 0 "),
    Fault("accepts-xsd-invalid", OPS, r"status: xml_valid_against_xsd", AcceptsInvalidEnvelopes,
          rule_id="xml_valid_against_xsd", detail=r"^StatusCode 101 → StatusCode 0 "),
    Fault("any-password", OPS, r"status: credentials_accepted", AcceptsAnyPassword, rule_id="credentials_accepted",
          detail=r"^StatusCode .*any code >= 100 → StatusCode [0-2] "),
    Fault("data-on-failure", OPS, rf"{SCHEMA}a request that fails before any JSON runs has no Data",
          DataOnEnvelopeFailure, detail=r"^no <Data> → a <Data> element$"),
    Fault("response-not-json", OPS, rf"{SCHEMA}each Response holds XML-encoded JSON", ResponsesNotJson,
          detail=r"^JSON → (success|warning|error)$"),
    Fault("no-status-desc", OPS, rf"{SCHEMA}the answer is a SubmitAjaxRs valid against the XSD",
          AnswersWithoutStatusDesc, detail=r"StatusDesc"),
)  # fmt: skip


def caught(fault: Fault, report: Report) -> Finding | None:
    """The first finding under one of the fault's operations whose check and rule, and expected → received, match."""
    for finding in report.findings.values():
        header = f"{finding.check}: {finding.rule}"
        detail = f"{finding.expected} → {finding.received}"
        if (
            finding.operation in fault.operations
            and re.search(fault.finding, header)
            and re.search(fault.detail, detail, re.S)
        ):
            return finding
    return None


# Faults that are not in FAULTS, because a black-box check cannot see them through SubmitAjax:
#
# - a batch whose failed request does not roll back the earlier ones (the working copy saved anyway): the
#   requests a batch may carry (SaveDeltas, SendPartyEmail; Suspend, Resume and Cancel are single-format only,
#   client rule single_format_for_state_changes) change an email, a phone number or send an email, none of which
#   any SubmitAjax answer shows. Only the transaction's status is observable, and no batch the oracle sends
#   changes it.
# - a batch that runs the requests after the failed one but answers only up to the failed one: the same.
# - a SaveDeltas that answers 0 and changes nothing, or changes another party: the same (emails and phones are
#   not observable).
#
# And one the oracle could catch but does not (see tests/test_faulty_signix.py, the xfail test):
#
# - a warning with another text ("warning", or another warning's words) in StatusDesc / responseDesc: `judge`
#   (mocks/signix.py) compares codes only, never the documented warning text.
