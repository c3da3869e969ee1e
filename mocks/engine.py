"""The one core handler: route, authenticate, validate, evaluate preconditions, apply, render, journal."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from esign_contracts.mocks.auth import AuthProblem, authenticate
from esign_contracts.mocks.callbacks import Courier
from esign_contracts.mocks.faults import TRANSPORT_STATUSES, Dropped, Faults
from esign_contracts.mocks.http import Request, Response
from esign_contracts.mocks.ids import IdSource, JwtTokens, RandomIds
from esign_contracts.mocks.journal import Journal, Violation, made
from esign_contracts.mocks.outcome import Expected, Reason
from esign_contracts.mocks.provider import Call, Provider, Reply
from esign_contracts.mocks.routing import NoRoute, Route, Router
from esign_contracts.mocks.validation import Parsed, Problem, validate
from esign_contracts.specs import Contract, Operation, Precondition, load_contract
from esign_contracts.specs.contract import status_text

RULE_HEADER = "X-Esign-Contracts-Rule"


@dataclass
class Evaluation:
    """Everything the docs say about one request in the model's current state, before any effect."""

    request: Request
    route: Route | NoRoute
    auth: AuthProblem | None = None
    problems: tuple[Problem, ...] = ()
    unmet: tuple[Precondition, ...] = ()
    parsed: Parsed | None = None

    @property
    def operation_id(self) -> str:
        return self.route.operation.id if isinstance(self.route, Route) else "(no documented operation)"

    def expected(self, contract: Contract) -> Expected:
        if isinstance(self.route, NoRoute):
            detail = self.route.message(self.request.method, self.request.path)
            return Expected(
                failures=(Reason("documented operation", self.route.status, False, contract.source, detail),)
            )
        operation = self.route.operation
        if self.auth is not None:
            return Expected(
                failures=(Reason("credentials", self.auth.status, False, "security scheme", self.auth.detail),)
            )
        failures = [
            Reason(p.rule, p.status, operation.documents(p.status), operation.source, str(p)) for p in self.problems
        ]
        failures += [Reason(p.rule, p.status, p.documented, p.source) for p in self.unmet]
        success = frozenset(s for s in operation.statuses if 200 <= s < 300)
        return Expected(success=success, failures=tuple(failures))


class Engine:
    """A provider model behind its spec. Used as the mock (`handle`) and by the oracle (`evaluate` + `commit`)."""

    def __init__(
        self,
        provider: Provider,
        credentials: dict[str, Any] | None = None,
        ids: IdSource | None = None,
    ) -> None:
        self.provider = provider
        self.contract = load_contract(provider.spec)
        self.router = Router(self.contract)
        self.credentials = {**provider.default_credentials, **(credentials or {})}
        provider.credentials = self.credentials  # a token operation checks the secret in its body against these
        schemes = self.contract.security_schemes()
        jwt_operations = {
            token["operationId"]
            for name, token in self.contract.token_schemes().items()
            if str(schemes[name].get("bearerFormat", "")).upper() == "JWT"
        }
        self.ids: IdSource = JwtTokens(ids or RandomIds(), jwt_operations) if jwt_operations else ids or RandomIds()
        self.journal = Journal()
        self.lock = threading.RLock()
        self.courier = Courier(self.journal, provider.name)
        self.faults = Faults(self.contract)
        self._words: dict[tuple[str, int], str] = {}  # (operationId, status) -> its description in the spec

    @property
    def name(self) -> str:
        return self.provider.name

    def call_for(self, evaluation: Evaluation, ids: IdSource | None = None) -> Call:
        route, parsed = evaluation.route, evaluation.parsed
        assert isinstance(route, Route) and parsed is not None
        return Call(route.operation, evaluation.request, parsed.params, parsed.query, parsed.body, parsed.files, ids)

    def evaluate(self, request: Request) -> Evaluation:
        """Everything the docs say of `request` in the model's current state: every rule judged (the oracle's
        view, and what a subclass that changes the judging starts from)."""
        return self._evaluate(request, every_rule=True)

    def _evaluate(self, request: Request, every_rule: bool) -> Evaluation:
        """every_rule=False leaves the preconditions unjudged once the credentials or the request's form refused
        it: the mock's own answer names only the first refusal."""
        route = self.router.find(request.method, request.path)
        if isinstance(route, NoRoute):
            return Evaluation(request, route)
        operation = route.operation
        auth = authenticate(
            request, self.contract.security_schemes(), operation.scopes, self.credentials, self.provider.token
        )
        parsed, problems = validate(self.contract, operation, request, route.params)
        if not every_rule and (auth is not None or problems):
            return Evaluation(request, route, auth, tuple(problems), (), parsed)
        call = Call(operation, request, parsed.params, parsed.query, parsed.body, parsed.files)
        unmet = [p for p in operation.preconditions if not self._holds(p, call)]
        return Evaluation(request, route, auth, tuple(problems), tuple(unmet), parsed)

    def _holds(self, rule: Precondition, call: Call) -> bool:
        if rule.id not in self.provider.preconditions:
            raise LookupError(f"{self.name}: the model implements no precondition {rule.id!r} (declared in the spec)")
        try:
            return self.provider.holds(rule.id, call)
        except (TypeError, KeyError, AttributeError, ValueError):
            # A body that broke the schema can leave a rule nothing to judge; the schema problem decides.
            return True

    def commit(self, evaluation: Evaluation, ids: IdSource | None = None) -> Reply:
        """Apply the documented effect of a request every rule allowed."""
        return self.provider.apply(self.call_for(evaluation, ids or self.ids))

    def handle(self, request: Request) -> Response:
        """Answer as the provider would (or as an injected fault says), and journal what happened."""
        if self.faults:
            injected = self._inject(request)
            if injected is not None:
                return injected
        with self.lock:
            # A subclass that overrides `evaluate` (the test suite's faulty servers) may lift a refusal and then
            # need the rules judged, so it gets every rule; the engine itself stops at the first refusal.
            own = type(self).evaluate is Engine.evaluate
            evaluation = self._evaluate(request, every_rule=False) if own else self.evaluate(request)
            answer = self._answer(evaluation)
            callbacks = self.provider.take_callbacks()
        self.courier.deliver(callbacks)  # outside the lock: a receiver may call the mock back
        return answer

    def _inject(self, request: Request) -> Response | None:
        """Apply the fault injected for this request's operation, if any: wait, drop, or answer its status."""
        route = self.router.find(request.method, request.path)
        fault = self.faults.take(route.operation.id) if isinstance(route, Route) else None
        if fault is None:
            return None
        if fault.latency_ms:
            time.sleep(fault.latency_ms / 1000)  # outside the lock: other requests go on meanwhile
        if not fault.drop and fault.status is None:
            return None
        evaluation = Evaluation(request, route)
        message = f"injected fault {fault.id}: " + ("connection dropped" if fault.drop else f"answer {fault.status}")
        with self.lock:
            self._record(evaluation, fault.status or 0, "injected", "injected fault", message)
        if fault.drop:
            raise Dropped(message)
        assert fault.status is not None
        assert isinstance(route, Route)
        words = self._status_text(route.operation, fault.status) or message
        answered, body, own = self.provider.error_response(fault.status, words, None, None)
        if fault.status in TRANSPORT_STATUSES:  # a rate limit is an HTTP answer, even where refusals are in a 200
            answered = fault.status
        extra = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        return Response(answered, body, {**own, RULE_HEADER: "injected fault", **extra})

    def _status_text(self, operation: Operation, status: int) -> str:
        """The docs' words for `status` of `operation`, looked up in the spec once."""
        key = (operation.id, status)
        words = self._words.get(key)
        if words is None:
            words = self._words[key] = status_text(operation, self.contract, status)
        return words

    def _violation(self, evaluation: Evaluation, rule: str, source: str, detail: str, pointer: str = "") -> Violation:
        values = {
            "provider": self.name,
            "operation": evaluation.operation_id,
            "rule": rule,
            "source": source,
            "received": evaluation.request.describe(),
            "detail": detail,
            "spec_pointer": pointer,
        }
        return made(Violation, values)

    def _error(
        self,
        evaluation: Evaluation,
        status: int,
        message: str,
        rule: str,
        headers: dict[str, str] | None = None,
        code: str | None = None,
    ) -> Response:
        call = self.call_for(evaluation) if evaluation.parsed is not None else None
        answered, body, own = self.provider.error_response(status, message, code, call)
        return Response(answered, body, {**own, RULE_HEADER: rule, **(headers or {})})

    def _record(
        self,
        evaluation: Evaluation,
        status: int,
        outcome: str,
        rule: str = "",
        message: str = "",
        violations: tuple[Violation, ...] = (),
    ) -> None:
        self.journal.record(
            provider=self.name,
            operation=evaluation.operation_id,
            method=evaluation.request.method,
            path=evaluation.request.path,
            status=status,
            outcome=outcome,
            rule=rule,
            message=message,
            violations=violations,
        )

    def _answer(self, evaluation: Evaluation) -> Response:
        route = evaluation.route
        if isinstance(route, NoRoute):
            message = route.message(evaluation.request.method, evaluation.request.path)
            violation = self._violation(
                evaluation, "documented operation", f"{self.contract.title} > Reference", message
            )
            self._record(evaluation, route.status, "unrouted", "documented operation", message, (violation,))
            extra = {"Allow": ", ".join(route.allowed)} if route.allowed else {}
            return self._error(evaluation, route.status, message, "documented operation", extra)
        operation = route.operation
        if evaluation.auth is not None:
            auth = evaluation.auth
            found = (
                (
                    self._violation(
                        evaluation, "credentials", "security scheme", auth.detail, "/components/securitySchemes"
                    ),
                )
                if auth.missing
                else ()
            )
            self._record(evaluation, auth.status, "unauthenticated", "credentials", auth.detail, found)
            codes = self.contract.security_schemes().get(auth.name, {}).get("x-error-codes", {})
            words = "Forbidden" if auth.status == 403 else "Unauthorized"
            return self._error(evaluation, auth.status, words, "credentials", auth.challenge(), codes.get(auth.kind))
        if evaluation.problems:
            found = tuple(
                self._violation(evaluation, p.rule, operation.source, f"{p.location}: {p.detail}", p.spec_pointer)
                for p in evaluation.problems
            )
            first = evaluation.problems[0]
            self._record(evaluation, first.status, "violation", first.rule, str(first), found)
            # (a refusal inside a 200, SIGNiX's, has no error description of its own)
            words = (self._status_text(operation, first.status) if first.status >= 400 else "") or "Wrong parameter"
            return self._error(
                evaluation, first.status, f"{words}: {first}", first.rule, code=operation.validation_code
            )
        if evaluation.unmet:
            rule = evaluation.unmet[0]
            self._record(evaluation, rule.status, "refused", rule.id, rule.rule)
            # The docs' words for the status first (x-assumptions error_body), then the rule, which the docs state
            # as what must hold ("Sign request has been sent"), not as what went wrong.
            words = self._status_text(operation, rule.status) if rule.status >= 400 else ""
            message = f"{words} (the rule: {rule.rule})" if words else rule.rule
            return self._error(evaluation, rule.status, message, rule.id, code=rule.code)
        reply = self.commit(evaluation)
        found = (
            tuple(self._violation(evaluation, m.rule, m.source, m.detail, m.spec_pointer) for m in reply.mistakes)
            if reply.mistakes
            else ()
        )
        self._record(evaluation, reply.status, reply.outcome, reply.rule, reply.message, found)
        return render(reply)

    def refusal(self, status: int, message: str, method: str = "", path: str = "") -> Response:
        """An answer, in the provider's form, for a request whose body could not be read whole (over the limit,
        cut short, broken framing); journaled with the outcome "unreadable"."""
        rule = "request size" if status == 413 else "request body"
        route = self.router.find(method, path) if path else None
        with self.lock:
            self.journal.record(
                provider=self.name,
                operation=route.operation.id if isinstance(route, Route) else "",
                method=method,
                path=path,
                status=status,
                outcome="unreadable",
                rule=rule,
                message=message,
            )
        answered, body, own = self.provider.error_response(status, message)
        return Response(answered, body, {**own, RULE_HEADER: rule})


def render(reply: Reply) -> Response:
    if isinstance(reply.body, bytes):
        return Response(reply.status, reply.body, dict(reply.headers))
    return Response.json(reply.status, reply.body, reply.headers)
