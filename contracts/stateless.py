"""Schemathesis, operation by operation: positive and negative data, judged by its conformance checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from esign_contracts.contracts.report import Finding, Report
from esign_contracts.mocks import WSGIApp
from esign_contracts.specs import Contract, Operation

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


def load_schema(contract: Contract, *, base_url: str, basic: tuple[str, str] | None, app: WSGIApp | None) -> Any:
    import schemathesis

    schema = schemathesis.openapi.from_dict(contract.document)
    schema.config.update(base_url=base_url, basic_auth=basic)
    if app is not None:
        schema.app = app
    return schema


def run_operations(
    contract: Contract,
    schema: Any,
    report: Report,
    *,
    seed: int,
    examples: int,
    reproduce: str,
    on_progress: Callable[[str], None] = lambda _: None,
) -> None:
    """Every operation, positive then negative data, `examples` cases each, with Schemathesis' checks."""
    from schemathesis import GenerationMode

    checks = _checks()
    for operation in contract.operations:
        api_operation = schema.find_operation_by_id(operation.id)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            on_progress(f"{operation.id} ({mode.value})")
            strategy = api_operation.as_strategy(generation_mode=mode)
            _exercise(operation, strategy, checks, report, seed=seed, examples=examples, reproduce=reproduce)


def _exercise(
    operation: Operation, strategy: Any, checks: list[Any], report: Report, *, seed: int, examples: int, reproduce: str
) -> None:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from schemathesis.core.failures import FailureGroup

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
            response = case.call()
        except Exception as exc:  # a dropped connection is a finding, not a crash of the tool
            report.add(_finding(operation, "no answer", case, str(exc).split("\n")[0], reproduce))
            return
        report.requests_sent += 1
        try:
            case.validate_response(response, checks=checks)
        except FailureGroup as group:
            for failure in group.exceptions:
                report.add(_finding(operation, failure.title, case, failure.message, reproduce))

    exercise()


def _finding(operation: Operation, title: str, case: Any, message: str, reproduce: str) -> Finding:
    body = case.body if not isinstance(case.body, bytes) else f"<{len(case.body)} bytes>"
    return Finding(
        check=f"schemathesis: {title}",
        operation=operation.id,
        rule=title,
        source=operation.source,
        request=f"{case.method} {case.formatted_path} body={str(body)[:200]}",
        expected="a documented status, content type and body schema; a 4xx for invalid data or missing credentials",
        received=" ".join(message.split())[:400],
        reproduce=reproduce,
    )
