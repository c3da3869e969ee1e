"""The model as oracle: follow a target with a shadow model and judge every answer against it."""

from __future__ import annotations

import datetime as dt
import functools
import json
import shlex
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from esign_contracts.contracts.conformance import first_difference, response_problems
from esign_contracts.contracts.credentials import UsageError, authorize, curl_auth, redact, token_source
from esign_contracts.contracts.gate import BudgetSpent, stop_here
from esign_contracts.contracts.report import ALL_RULES_HOLD, Finding, Report, hidden_forms
from esign_contracts.contracts.target import Target, TargetError
from esign_contracts.contracts.token_lifetime import RENEW_AFTER, seconds_left
from esign_contracts.mocks import Engine, Evaluation, Request, Response, provider_class
from esign_contracts.mocks.ids import MissingIdentifier, ShadowIds
from esign_contracts.mocks.routing import Route
from esign_contracts.specs.contract import at

TRACE_LENGTH = 12


class Oracle:
    """Sends requests to a target, predicts each answer with the model, and reports what disagrees."""

    def __init__(
        self,
        provider: str,
        target: Target,
        credentials: dict[str, Any],
        report: Report,
        reproduce: str = "",
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        # One clock for the shadow model and for when tokens are due again (a test gives a fast one to both).
        self.clock = clock or functools.partial(dt.datetime.now, dt.UTC)
        self.model = provider_class(provider)(clock=self.clock)
        self.engine = Engine(self.model, credentials=credentials)
        self.contract = self.engine.contract
        self.target = target
        self.credentials = credentials
        self.report = report
        self.reproduce = reproduce
        self.trace: list[str] = []
        self.tokens: dict[str, str] = {}  # per security scheme, the token fetched from the target
        self.renew_at: dict[str, dt.datetime] = {}  # per security scheme, when its token is to be fetched again
        self.renewed: dict[str, str] = {}  # each token fetched again since, and its scheme
        self.lifetimes: dict[str, float] = {}  # each issued token's lifetime in seconds, by the target's word
        self.successes = 0  # answers in which the target did what every rule allowed, as the model predicted
        self._fetching = False
        self.given: list[tuple[str, str]] = []  # (parameter, id) of resources the user named for a remote run
        self.sequences_started = 0
        self.stopped_in_sequence: int | None = None  # the sequence in which --max-requests was reached
        report.documented |= {(op.id, s) for op in self.contract.operations for s in op.statuses if s != 401}
        report.documented |= self.model.documented_outcomes()
        for op in self.contract.operations:
            report.documented_states |= {(op.id, p.id, p.status) for p in op.preconditions}
            report.documented_states |= {(op.id, ALL_RULES_HOLD, s) for s in op.statuses if 200 <= s < 300}

    def fetch_tokens(self) -> None:
        """Fetch a token for every scheme that declares `x-token` and whose credentials can fetch one.

        The token operation is judged like any request. A token given directly (TRUSTEDX_TOKEN) is used as it
        is when nothing can fetch one.
        """
        for name, spec in self.contract.token_schemes().items():
            given = self.credentials.get(name)
            sources = token_source(self.contract, name)
            if isinstance(given, dict) or (sources and all(s in self.credentials for s in sources)):
                self._fetch_token(name, spec)

    def _fetch_token(self, name: str, spec: dict[str, Any]) -> None:
        given = self.credentials.get(name)
        operation = self.contract.operation(spec["operationId"])
        if isinstance(given, dict):
            body, media = json.dumps(given).encode(), "application/json"
        else:
            body, media = urlencode(spec.get("form", {})).encode(), "application/x-www-form-urlencoded"
        self._fetching = True  # the token request itself renews nothing
        try:
            response = self.exchange(self.request(operation.method, operation.path, body=body, content_type=media))
        finally:
            self._fetching = False
        if response is None:
            raise UsageError(f"cannot reach {self.target.label}: {operation.id} got no answer")
        if not 200 <= response.status < 300:
            raise UsageError(
                f"{self.target.label} gave no token: {operation.id} ({operation.method} {operation.path}) "
                f"answered {response.status}; are the credentials right?"
            )
        try:
            answer = response.payload()
            token = at(answer, spec["pointer"])
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise UsageError(f"{operation.id} answered no token at {spec['pointer']}") from exc
        self.tokens[name] = str(token)
        self.report.secrets.append(str(token))
        now = self.clock()
        left = seconds_left(spec, answer, str(token), now.timestamp())
        if left is not None:
            self.renew_at[name] = now + dt.timedelta(seconds=left * RENEW_AFTER)

    def renew_due_tokens(self) -> None:
        """Fetch again each token past `RENEW_AFTER` of the lifetime the target gave it (x-token.lifetime)."""
        if self._fetching or not self.renew_at:
            return
        now = self.clock()
        for name, due in list(self.renew_at.items()):
            if now < due:
                continue
            del self.renew_at[name]
            old = self.tokens[name]
            try:
                self._fetch_token(name, self.contract.token_schemes()[name])
            except (UsageError, TargetError) as exc:
                gate = self.target.gate
                if gate is None or not gate.spent:  # (past --max-requests nothing more is sent: no renewal needed)
                    self.report.skip(f"requests after {name}'s token expired: it could not be fetched again ({exc})")
                continue
            self.renewed[old] = name
            self.report.tokens_renewed += 1

    def refresh_case(self, case: Any) -> None:
        """Before Schemathesis sends `case`: renew a token that is due, and give a case generated with a token
        since renewed the current one (Schemathesis puts the token it was given at the start in every case)."""
        self.renew_due_tokens()
        headers = case.headers
        if not headers or not self.renewed:
            return
        for key, value in headers.items():
            if key.lower() == "authorization" and isinstance(value, str) and value.startswith("Bearer "):
                scheme = self.renewed.get(value[len("Bearer ") :])
                if scheme is not None:
                    headers[key] = f"Bearer {self.tokens[scheme]}"
                return

    def start_sequence(self) -> None:
        self.trace = []
        self.sequences_started += 1

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes = b"",
        content_type: str | None = None,
        authorized: bool = True,
        token: str | None = None,
    ) -> Request:
        """A request to `path` (relative to the spec's server URL), with credentials unless told otherwise.

        `token` replaces the run's own bearer token (another token the target issued, or a made-up one).
        """
        request = Request.from_url(method, self.contract.base_path + path, body=body)
        if content_type:
            request.headers["Content-Type"] = content_type
        route = self.engine.router.find(request.method, request.path)
        if authorized and isinstance(route, Route):
            self.renew_due_tokens()
            tokens = {name: token for name in route.operation.security} if token else self.tokens
            authorize(request, self.contract, self.credentials, route.operation.security, tokens)
        return request

    def exchange(self, request: Request) -> Response | None:
        """Send one request, judge the answer, and keep the model in step with the target."""
        gate = self.target.gate
        if gate is not None and gate.spent:
            if gate.phase_cap is None and self.stopped_in_sequence is None:
                self.stopped_in_sequence = self.sequences_started
            return None  # the run stops at --max-requests: nothing more is sent or judged
        evaluation = self.engine.evaluate(request)
        expected = evaluation.expected(self.contract)
        try:
            response = self.target.send(request)
        except BudgetSpent:
            return None
        except TargetError as exc:
            self._find(evaluation, "no answer", "the target answers every request", expected.describe(), str(exc))
            return None
        self.report.requests_sent += 1
        self.report.exercised[(evaluation.operation_id, response.status)] += 1
        self.report.states[(evaluation.operation_id, _state(evaluation), response.status)] += 1
        self.trace.append(f"{request.method} {request.path} → {response.status}")
        self.trace = self.trace[-TRACE_LENGTH:]
        self._keep_issued_token_secret(evaluation, response)
        self.judge(evaluation, response)
        stop_here()  # Ctrl-C: only now, when the model knows what this request created
        return response

    def judge(self, evaluation: Evaluation, response: Response) -> None:
        expected = evaluation.expected(self.contract)
        received = _excerpt(response, self.report.secrets)
        if not expected.accepts(response.status):
            rules = (
                "; ".join(r.rule for r in expected.failures) or "every documented rule holds, so the request succeeds"
            )
            check = "server error" if response.status >= 500 else "status"
            self._find(evaluation, check, rules, expected.describe(), received)
            self._keep_for_clean_up(evaluation, response)
            return
        if not isinstance(evaluation.route, Route):
            return
        operation = evaluation.route.operation
        problems, body = response_problems(self.contract, operation, response)
        for problem in problems:
            self._find(
                evaluation, "response schema", f"the documented {response.status} response", operation.pointer, problem
            )
        if not (expected.succeeds and 200 <= response.status < 300) or problems:
            self._keep_for_clean_up(evaluation, response)
            return
        try:
            reply = self.engine.commit(evaluation, ShadowIds(body))
            self.model.take_callbacks()  # the target delivers its own; the shadow model's go nowhere
            self._follow_token_lifetime(evaluation, body)
        except MissingIdentifier as exc:
            self._find(
                evaluation, "response schema", "the answer carries the new identifier", operation.pointer, str(exc)
            )
            return
        if reply.judge is not None:  # the answer's outcome is inside its body (SIGNiX): the model judges it
            judgements, reached = reply.judge(response)
            self.report.exercised.update(reached)
            for j in judgements:
                self._find(evaluation, j.check, j.rule, j.expected, j.received)
            self.successes += reply.outcome == "ok" and not judgements  # (a refusal inside a 200 is no success)
            return
        self.successes += reply.outcome == "ok"
        difference = first_difference(reply.body, body, self.model.compared_fields, self.model.compared_lists)
        if difference:
            self._find(
                evaluation,
                "model",
                "the answer reflects the documented effects so far",
                "a body that agrees with the model",
                difference,
            )

    def _issued_tokens(self, evaluation: Evaluation, answer: Any) -> list[tuple[dict[str, Any], str]]:
        """(x-token, token) for each token a successful answer to `evaluation` issued."""
        if not isinstance(evaluation.route, Route):
            return []
        issued = []
        for spec in self.contract.token_schemes().values():
            if spec["operationId"] != evaluation.route.operation.id:
                continue
            try:
                token = at(answer, spec["pointer"])
            except (ValueError, KeyError, IndexError, TypeError):
                continue
            if isinstance(token, str) and token:
                issued.append((spec, token))
        return issued

    def _keep_issued_token_secret(self, evaluation: Evaluation, response: Response) -> None:
        """A token the target issues to any request of the run (not only the run's own) is a credential: it is
        added to what every output redacts before anything is reported."""
        if not 200 <= response.status < 300:
            return
        try:
            answer = response.payload()
        except ValueError:
            return
        for _, token in self._issued_tokens(evaluation, answer):
            if token not in self.report.secrets:
                self.report.secrets.append(token)

    def _follow_token_lifetime(self, evaluation: Evaluation, answer: Any) -> None:
        """The shadow model's copy of an issued token lives as long as the target said (x-token.lifetime), as its
        identifiers are the target's: an installation may configure another lifetime than the model's."""
        for spec, token in self._issued_tokens(evaluation, answer):
            held = self.model.tokens.get(token)
            left = seconds_left(spec, answer, token, self.clock().timestamp())
            if held is not None and left is not None:
                self.model.issue_token(token, held.scopes, left)
                self.lifetimes[token] = left

    def token_in_doubt(self, token: str) -> bool:
        """Whether `token` is so near the end of its life that the target and the model may disagree on whether
        it still lives: the target counts from when it issued it, the model from when it read the answer (and a
        JWT's exp is read on two clocks). In doubt within (1 - RENEW_AFTER) of its lifetime either side of when
        the model's copy expires; the run's own token is fetched again before then."""
        held, lifetime = self.model.tokens.get(token), self.lifetimes.get(token)
        if held is None or held.expires is None or lifetime is None:
            return False
        margin = dt.timedelta(seconds=lifetime * (1 - RENEW_AFTER))
        return held.expires - margin <= self.clock() <= held.expires + margin

    def _keep_for_clean_up(self, evaluation: Evaluation, response: Response) -> None:
        """A 2xx the model did not follow (it expected a refusal, or the body broke the schema) may still have
        created something on the target: its identifiers go to the clean-up list."""
        if not (200 <= response.status < 300 and isinstance(evaluation.route, Route)):
            return
        try:
            self.report.remember_created(evaluation.route.operation, response.payload())
        except ValueError:
            return

    def report_control_divergence(self, action: str, args: dict[str, Any], refusal: str) -> None:
        """The target accepted a control action the model refuses: its state is no longer the documented one."""
        shown = ", ".join(f"{k}={v}" for k, v in args.items() if isinstance(v, str))
        self.report.add(
            Finding(
                check="model",
                operation=f"control.{action}",
                rule="the target's state follows the documented transitions",
                source=self.contract.source,
                request=f"control {action}({shown})",
                expected=f"the model refuses it: {refusal}",
                received="the target accepted it",
                reproduce=self.reproduce,
                trace=tuple(self.trace),
            )
        )

    def _find(self, evaluation: Evaluation, check: str, rule: str, expected: str, received: str) -> None:
        operation = evaluation.route.operation if isinstance(evaluation.route, Route) else None
        self.report.add(
            Finding(
                check=check,
                operation=evaluation.operation_id,
                rule=rule,
                source=operation.source if operation else self.contract.source,
                request=evaluation.request.describe(hide=self._hide),
                expected=expected,
                received=received,
                reproduce=self._reproduce(evaluation.request),
                trace=tuple(self.trace[:-1]),
            )
        )

    def _hide(self, text: str) -> str:
        return redact(text, hidden_forms(self.report.secrets))

    def _reproduce(self, request: Request) -> str:
        if not self.target.remote:
            return self.reproduce
        url = self.target.url_for(request.path)  # type: ignore[attr-defined]
        parts = ["curl", "-X", request.method, url]
        for name, value in request.redacted_headers().items():
            if value != "[redacted]":
                parts += ["-H", f"{name}: {value}"]
        stdin = ""
        if request.body and request.media_type == "application/json":
            data, stdin = _curl_data(_redacted_body(request.body, hidden_forms(self.report.secrets)))
            parts += ["--data-binary", data]
        curl = stdin + " ".join(shlex.quote(p) for p in parts) + curl_auth(self.contract, request)
        return f"{self.reproduce}\n              {curl}" if self.reproduce else curl


def _redacted_body(body: bytes, hidden: list[str]) -> bytes:
    """`body` with each secret replaced, before anything escapes it (an octal escape or shell quoting inside a
    secret would hide it from the report's redaction). Bytes that are not UTF-8 are kept as they are."""
    text = body.decode("utf-8", "surrogateescape")
    return redact(text, hidden).encode("utf-8", "surrogateescape")


def _curl_data(body: bytes) -> tuple[str, str]:
    """curl's --data-binary argument for `body`, and the shell words before `curl` that feed it ("" for none).

    Plain printable text is the argument itself. Any other body (a NUL cannot be a shell argument; a control
    character would be escaped in the report; a leading `@` names a file to curl) comes from stdin, written by
    POSIX printf: the line stays exact and pasteable.
    """
    text = _plain_text(body)
    if text is not None:
        return text, ""
    return "@-", f"printf {_printf_format(body)} | "


def _plain_text(body: bytes) -> str | None:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if text.isprintable() and not text.startswith("@") else None


def _printf_format(body: bytes) -> str:
    """A single-quoted printf format that writes exactly `body`: printable ASCII as itself (`%` and `\\` doubled),
    any other byte, `'` (it would end the quoting) and a leading `-` (printf would take it for an option) as a
    three-digit octal escape (three digits, so that a digit after it is not read as part of it)."""
    escaped = "".join(_printf_byte(byte) for byte in body)
    if escaped.startswith("-"):
        escaped = "\\055" + escaped[1:]
    return f"'{escaped}'"


def _printf_byte(byte: int) -> str:
    char = chr(byte)
    if char in "%\\":
        return char * 2
    if " " <= char <= "~" and char != "'":
        return char
    return f"\\{byte:03o}"


def _state(evaluation: Evaluation) -> str:
    """The model's state for this request, as the coverage names it: the first unmet precondition, else why it
    fails before any (credentials, the request's schema), else every rule holds."""
    if evaluation.auth is not None:
        return "credentials"
    if evaluation.problems:
        return "request schema"
    if evaluation.unmet:
        return evaluation.unmet[0].id
    return ALL_RULES_HOLD


def _excerpt(response: Response, hidden: list[str], limit: int = 240) -> str:
    """The start of an answer for a report: redacted before it is cut, so that no part of a secret is left."""
    text = redact(response.body.decode("utf-8", "replace"), hidden)
    return f"{response.status} {text[:limit]}{'…' if len(text) > limit else ''}"
