"""Schemathesis, operation by operation: positive and negative data, judged by its conformance checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from esign_contracts.contracts.credentials import redact
from esign_contracts.contracts.gate import BudgetSpent, Gate, stop_here
from esign_contracts.contracts.report import Finding, Report
from esign_contracts.mocks import Request, WSGIApp
from esign_contracts.mocks.validation import validate
from esign_contracts.specs import Contract, Operation
from esign_contracts.specs.contract import scheme_kind

IN_PROCESS_BASE = "http://localhost"


def _checks() -> list[Callable[..., Any]]:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        ignored_auth,
        negative_data_rejection,
        response_schema_conformance,
        status_code_conformance,
    )

    return [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
        negative_data_rejection,
        ignored_auth,
    ]


def load_schema(
    contract: Contract,
    *,
    base_url: str,
    credentials: dict[str, Any],
    tokens: dict[str, str],
    app: WSGIApp | None,
) -> Any:
    """The Schemathesis schema with credentials per security scheme (so its `ignored_auth` check reads them right)."""
    import schemathesis
    from schemathesis.config._auth import OpenAPIAuthConfig

    schema = schemathesis.openapi.from_dict(contract.document)
    schema.config.update(base_url=base_url)
    configured: dict[str, dict[str, str]] = {}
    for name, scheme in contract.security_schemes().items():
        kind, value = scheme_kind(scheme), tokens.get(name) or credentials.get(name)
        if kind == "basic" and isinstance(value, tuple):
            configured[name] = {"username": value[0], "password": value[1]}
        elif kind == "bearer" and isinstance(value, str):
            configured[name] = {"bearer": value}
        elif kind == "apiKey" and isinstance(value, str):
            configured[name] = {"api_key": value}
    schema.config.auth.openapi = OpenAPIAuthConfig(schemes=configured)
    if app is not None:
        schema.app = app
    return schema


def _valid_on_the_wire(contract: Contract, operation: Operation, prepared: Any) -> bool:
    """Whether the request as serialised (not as generated) satisfies the spec.

    A generated number in a form field reaches the server as text, so a "negative" case can be valid
    on the wire; the spec's own validator, run on the bytes that were sent, decides.
    """
    body = prepared.body if isinstance(prepared.body, bytes) else (prepared.body or "").encode()
    request = Request.from_url(prepared.method, prepared.url, prepared.headers.items(), body)
    params = {name: "x" for name in operation.path_parameters}
    return not validate(contract, operation, request, params)[1]


def run_operations(
    contract: Contract,
    schema: Any,
    report: Report,
    *,
    seed: int,
    examples: int,
    reproduce: str,
    fixed: dict[str, str] | None = None,
    on_progress: Callable[[str], None] = lambda _: None,
    gate: Gate | None = None,
    before_call: Callable[[Any], None] = lambda _: None,
) -> None:
    """Every operation, positive then negative data, `examples` cases each, with Schemathesis' checks.

    `before_call(case)` runs before each case is sent (the oracle renews a token that is due, and puts it in).

    `fixed` path parameters (Ignisign's appId, appEnv from the credentials) hold in positive data: any other
    value is another application's, refused for that reason alone.
    """
    from schemathesis import GenerationMode

    checks = _checks()
    if gate is not None and (gate.limits.max_requests is not None or gate.limits.rate):
        # ignored_auth sends its probes on a session of its own (Schemathesis drops the run's for them), past the
        # budget and the rate; under limits the model phase's requests without or with made-up credentials do
        # that job.
        checks = [c for c in checks if c.__name__ != "ignored_auth"]
    for operation in contract.operations:
        api_operation = schema.find_operation_by_id(operation.id)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            on_progress(f"{operation.id} ({mode.value})")
            values = {k: v for k, v in (fixed or {}).items() if k in operation.path_parameters}
            if values and mode == GenerationMode.POSITIVE:
                strategy = api_operation.as_strategy(generation_mode=mode, path_parameters=values)
            else:
                strategy = api_operation.as_strategy(generation_mode=mode)
            # An API that refuses inside a 2xx answer (SIGNiX's StatusCode) cannot be judged by its HTTP status alone.
            judged = (
                [c for c in checks if c.__name__ != "negative_data_rejection"]
                if operation.validation_status < 400
                else checks
            )
            _exercise(
                contract,
                operation,
                strategy,
                judged,
                report,
                seed=seed,
                examples=examples,
                reproduce=reproduce,
                gate=gate,
                before_call=before_call,
            )


def _exercise(
    contract: Contract,
    operation: Operation,
    strategy: Any,
    checks: list[Any],
    report: Report,
    *,
    seed: int,
    examples: int,
    reproduce: str,
    gate: Gate | None = None,
    before_call: Callable[[Any], None] = lambda _: None,
) -> None:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis.errors import Unsatisfiable
    from schemathesis.core.errors import SerializationError
    from schemathesis.core.failures import AcceptedNegativeData, FailureGroup

    @hypothesis_seed(seed)
    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def exercise(case: Any) -> None:
        try:
            _exercise_one(case)
        finally:
            stop_here()  # Ctrl-C: only now, when what this case created is recorded for the clean-up

    def _exercise_one(case: Any) -> None:
        if gate is not None and gate.spent:
            return  # the run stops at --max-requests
        try:
            before_call(case)
            # Against a server, Schemathesis sends through the run's gated session (host, budget, rate, 429).
            response = case.call(session=gate.session()) if gate is not None else case.call()
        except BudgetSpent:
            return
        except SerializationError:
            report.unsent += 1  # Schemathesis cannot encode this case (e.g. a file part typed application/pdf)
            return
        except Exception as exc:  # a dropped connection is a finding, not a crash of the tool
            report.add(_finding(operation, "no answer", case, str(exc).split("\n")[0], reproduce, report.secrets))
            return
        report.requests_sent += 1
        if 200 <= response.status_code < 300 and operation.identifiers:
            _remember_created(operation, response, report)
        try:
            # Probes some checks send (ignored_auth resends without credentials) go through the gate too.
            sent_with = {"session": gate.session()} if gate is not None else None
            case.validate_response(response, checks=checks, transport_kwargs=sent_with)
        except BudgetSpent:
            return
        except FailureGroup as group:
            for failure in group.exceptions:
                if isinstance(failure, AcceptedNegativeData) and _valid_on_the_wire(
                    contract, operation, response.request
                ):
                    continue
                report.add(_finding(operation, failure.title, case, failure.message, reproduce, report.secrets))

    try:
        exercise()
    except Unsatisfiable:
        # Nothing to break: an operation whose only input is a free string path parameter and whose
        # credentials Schemathesis cannot vary has no negative case. Its refusals are the model phase's.
        report.skip(f"schemathesis: {operation.id} has no input that negative data can break")


def _remember_created(operation: Operation, response: Any, report: Report) -> None:
    """Identifiers a generated request created, so the run can delete them at the end."""
    try:
        report.remember_created(operation, response.json())
    except ValueError:
        return


def _finding(
    operation: Operation, title: str, case: Any, message: str, reproduce: str, hidden: list[str] | None = None
) -> Finding:
    body = case.body if not isinstance(case.body, bytes) else f"<{len(case.body)} bytes>"
    shown_body = redact(str(body), hidden or [])[:200]  # redacted before it is cut, so no part of a secret is left
    return Finding(
        check=f"schemathesis: {title}",
        operation=operation.id,
        rule=title,
        source=operation.source,
        request=f"{case.method} {case.formatted_path} body={shown_body}",
        expected="a documented status, content type and body schema; a 4xx for invalid data or missing credentials",
        received=redact(" ".join(message.split()), hidden or [])[:400],  # redacted before it is cut
        reproduce=reproduce,
    )
