"""`check`: run the Schemathesis phase and the model-driven sequences against one target, into one report."""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from esign_contracts.contracts.credentials import UsageError, credential_path_values, describe, from_environment
from esign_contracts.contracts.credentials import secrets as secret_strings
from esign_contracts.contracts.generate import UNKNOWN_ID, path_resource
from esign_contracts.contracts.oracle import Oracle
from esign_contracts.contracts.report import Report
from esign_contracts.contracts.reproducible import seed_only
from esign_contracts.contracts.stateful import run_sequences
from esign_contracts.contracts.stateless import IN_PROCESS_BASE, load_schema, run_operations
from esign_contracts.contracts.target import HttpTarget, MockTarget, Target, TargetError
from esign_contracts.mocks import Mock, WSGIApp, provider_class
from esign_contracts.mocks.provider import ControlError, UnknownProvider
from esign_contracts.specs import Contract, Operation, load_contract


@dataclass(frozen=True)
class Budget:
    """How much a run may do; the defaults keep a run against 127.0.0.1 well under a minute."""

    examples: int = 20  # Schemathesis examples per operation and mode
    sequences: int = 50  # Hypothesis state machine examples
    steps: int = 50  # steps per sequence


def _check_url(base_url: str) -> None:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"--base-url must be an http(s) URL such as http://127.0.0.1:8000/v1, got {base_url!r}")


def check(
    provider: str,
    base_url: str | None = None,
    *,
    seed: int = 0,
    budget: Budget = Budget(),
    env: dict[str, str] | None = None,
    progress: Callable[[str], None] = lambda _: None,
    mock: Mock | None = None,
) -> Report:
    """Check a server (or, with no URL, the built-in mock or the given `mock`) against the provider's contract."""
    try:
        provider_class(provider)
    except UnknownProvider as exc:
        raise UsageError(str(exc)) from exc
    contract = load_contract(provider)
    reproduce = (
        f"esign-contracts check {provider}" + (f" --base-url {base_url}" if base_url else "") + f" --seed {seed}"
    )
    target: Target
    if base_url:
        _check_url(base_url)
        credentials = from_environment(contract, env)
        target = HttpTarget(base_url, contract.base_path)
        schema_url, app = base_url.rstrip("/"), None
    else:
        mock = mock or Mock(provider, seed=seed, send_callbacks=False)
        credentials = mock.credentials
        target = MockTarget(mock)
        schema_url, app = IN_PROCESS_BASE + contract.base_path, WSGIApp([mock])
    # Path parameters filled by credentials (Ignisign's appId, appEnv) are identifiers in every URL, not secrets.
    public = {name for op in contract.operations for name in op.path_parameters}
    body_credentials = contract.document.get("x-credentials") or {}
    public |= set(body_credentials.get("x-environment", {})) - set(body_credentials.get("secret", []))
    report = Report(provider, target.label, seed, secrets=secret_strings(credentials, public))
    oracle = Oracle(provider, target, credentials, report, reproduce=reproduce)
    if target.remote:
        _preflight(oracle)
        _adopt_given(oracle, env, report)
    else:
        oracle.fetch_tokens()
    schema = load_schema(contract, base_url=schema_url, credentials=credentials, tokens=oracle.tokens, app=app)

    with seed_only():
        _run_phases(contract, schema, oracle, report, seed=seed, budget=budget, reproduce=reproduce, progress=progress)
    _clean_up(oracle, report)
    return report


def _run_phases(
    contract: Contract,
    schema: Any,
    oracle: Oracle,
    report: Report,
    *,
    seed: int,
    budget: Budget,
    reproduce: str,
    progress: Callable[[str], None],
) -> None:
    progress("schemathesis: positive and negative data per operation")
    before = report.requests_sent
    run_operations(
        contract,
        schema,
        report,
        seed=seed,
        examples=budget.examples,
        reproduce=reproduce,
        fixed=credential_path_values(contract, oracle.credentials),
        on_progress=lambda step: progress(f"schemathesis: {step}"),
    )
    unsent = f" ({report.unsent} generated cases could not be encoded and were skipped)" if report.unsent else ""
    report.phases.append(
        f"schemathesis: {len(contract.operations)} operations, {report.requests_sent - before} requests{unsent}"
    )

    progress("model: documented sequences")
    before = report.requests_sent
    run_sequences(
        oracle, seed=seed, examples=budget.sequences, steps=budget.steps, run_token=f"ec{secrets.token_hex(4)}"
    )
    report.phases.append(
        f"model: {budget.sequences} sequences of up to {budget.steps} steps, {report.requests_sent - before} requests"
    )


def _adopt_given(oracle: Oracle, env: dict[str, str] | None, report: Report) -> None:
    """Resources only the provider's UI can create, named by the user for a remote run (x-given-resources)."""
    given = oracle.contract.document.get("x-given-resources")
    if not given:
        return
    variable = given["variable"]
    value = (os.environ if env is None else env).get(variable, "")
    if not value:
        report.skip(f"requests on existing resources: none given; set {variable}. {given['description']}")
        return
    try:
        oracle.given = [(given["parameter"], value) for value in oracle.model.adopt(value)]  # type: ignore[attr-defined]
    except ControlError as exc:
        raise UsageError(f"{variable}: {exc}") from exc


def _preflight(oracle: Oracle) -> None:
    """Harmless documented requests first, so that a wrong URL or wrong credentials is a usage error."""
    names = describe(oracle.contract)
    try:
        oracle.fetch_tokens()
    except TargetError as exc:
        raise UsageError(f"cannot reach {oracle.target.label}: {exc}") from exc
    except UsageError as exc:
        raise UsageError(f"{exc} (credentials from {names})") from exc
    operation = oracle.contract.operation(oracle.model.preflight)
    if operation.identifiers.get("token"):
        return  # the token operation was the probe
    body, media = documented_body(operation)
    path = operation.path
    for name in operation.path_parameters:
        path = path.replace("{" + name + "}", UNKNOWN_ID)
    request = oracle.request(operation.method, path, body=body, content_type=media)
    try:
        answer = oracle.target.send(request)
    except TargetError as exc:
        raise UsageError(f"cannot reach {oracle.target.label}: {exc}") from exc
    if answer.status in (401, 403):
        raise UsageError(
            f"{oracle.target.label} refused the credentials from {names}: {operation.id} answered {answer.status}"
        )
    if answer.status == 404 and not oracle.engine.evaluate(request).expected(oracle.contract).accepts(404):
        raise UsageError(
            f"{operation.id} ({operation.method} {operation.path}) answered 404 at {oracle.target.label}: "
            f"is the base URL right? The documented one is {oracle.contract.base_url}"
        )


def documented_body(operation: Operation) -> tuple[bytes, str | None]:
    """The operation's first documented request example, `{}` for a JSON body without one, else nothing."""
    content = (operation.raw.get("requestBody") or {}).get("content", {})
    for media, spec in content.items():
        for example in spec.get("examples", {}).values():
            if media == "application/x-www-form-urlencoded":
                return urlencode(example["value"]).encode(), media
            return json.dumps(example["value"]).encode(), media
    if "application/json" in content:
        return b"{}", "application/json"
    return b"", None


def cleanup_operations(contract: Contract) -> list[Operation]:
    """The operations that end a resource: those marked `x-cleanup` (Ignisign closes), else every DELETE of one."""
    marked = [op for op in contract.operations if op.raw.get("x-cleanup")]
    return marked or [op for op in contract.operations if op.method == "DELETE" and len(op.path_parameters) == 1]


def _clean_up(oracle: Oracle, report: Report) -> None:
    """Delete what the run created: what the model holds (judged like any request), then what the
    Schemathesis phase created outside the model's view (not judged: the model never saw it)."""
    for operation in cleanup_operations(oracle.contract):
        name = operation.path_parameters[0]
        body, media = documented_body(operation)
        for value in oracle.model.live_identifiers(name):
            path = operation.path.replace("{" + name + "}", value)
            oracle.exchange(oracle.request(operation.method, path, body=body, content_type=media))
        for resource, value in report.created:
            if resource != path_resource(name):
                continue
            path = operation.path.replace("{" + name + "}", value)
            request = oracle.request(operation.method, path, body=body, content_type=media)
            try:
                answer = oracle.target.send(request)
            except TargetError:
                answer = None
            if answer is None or answer.status >= 300 and answer.status != 404:
                report.not_cleaned.append(f"{resource} {value} ({answer.status if answer else 'no answer'})")


class Progress:
    """One updating line on a terminal; nothing when output is not a terminal."""

    def __init__(self, stream: object = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = hasattr(self.stream, "isatty") and self.stream.isatty()  # type: ignore[union-attr]

    def __call__(self, message: str) -> None:
        if self.enabled:
            self.stream.write(f"\r\033[K{message[:100]}")  # type: ignore[union-attr]
            self.stream.flush()  # type: ignore[union-attr]

    def done(self) -> None:
        if self.enabled:
            self.stream.write("\r\033[K")  # type: ignore[union-attr]
