"""`check`: run the Schemathesis phase and the model-driven sequences against one target, into one report."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from esign_contracts.contracts.credentials import UsageError, credential_path_values, from_environment
from esign_contracts.contracts.credentials import secrets as secret_strings
from esign_contracts.contracts.credentials import sources as credential_sources
from esign_contracts.contracts.gate import LIVE_LIMITS, Gate, Limits, StopRequested, clear_stop
from esign_contracts.contracts.generate import UNKNOWN_ID, path_resource
from esign_contracts.contracts.oracle import Oracle
from esign_contracts.contracts.report import Report
from esign_contracts.contracts.reproducible import seed_only
from esign_contracts.contracts.stateful import control_steps, run_sequences
from esign_contracts.contracts.stateless import IN_PROCESS_BASE, load_schema, run_operations
from esign_contracts.contracts.target import HttpTarget, MockTarget, Target, TargetError
from esign_contracts.mocks import Mock, Request, Response, WSGIApp, provider_class
from esign_contracts.mocks.provider import ControlError, UnknownProvider
from esign_contracts.specs import Contract, Operation, load_contract


@dataclass(frozen=True)
class Budget:
    """How much a run may do; the defaults keep a run against 127.0.0.1 well under a minute."""

    examples: int = 20  # Schemathesis examples per operation and mode
    sequences: int = 50  # Hypothesis state machine examples
    steps: int = 50  # steps per sequence


LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def _check_url(base_url: str) -> None:
    example = "such as http://127.0.0.1:8000/v1"
    try:
        parts = urlsplit(base_url)
        port = parts.port  # reads the port: raises for one that is not a number from 0 to 65535
    except ValueError as exc:  # also a malformed IPv6 host ("http://[::1/v1")
        raise UsageError(f"--base-url must be an http(s) URL {example}, got {base_url!r}: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--base-url must be an http(s) URL {example}, got {base_url!r}")
    if port == 0:
        raise UsageError(f"--base-url names port 0, which no server listens on: {base_url!r}")


def is_local(base_url: str) -> bool:
    return (urlsplit(base_url).hostname or "") in LOCAL_HOSTS


def limits_for(base_url: str | None, live: bool, max_requests: int | None, rate: float | None) -> Limits:
    """The run's limits: what was given, else the live defaults for a --live run, else none (this machine)."""
    base = LIVE_LIMITS if live else Limits()
    return Limits(
        max_requests=max_requests if max_requests is not None else base.max_requests,
        rate=rate if rate is not None else base.rate,
    )


def plan(provider: str, base_url: str, budget: Budget, limits: Limits, live: bool, flagged: Iterable[str] = ()) -> str:
    """What a run against `base_url` will do, printed before a live run and alone with --dry-run."""
    contract = load_contract(provider)
    model = provider_class(provider)
    creating = [op for op in contract.operations if op.identifiers and op.id not in _token_operations(contract)]
    ends = cleanup_operations(contract)
    spend = "no limit" if limits.max_requests is None else f"at most {limits.max_requests} requests"
    pace = "as fast as the server answers" if not limits.rate else f"at most {limits.rate:g} per second"
    lines = [
        f"Plan: esign-contracts check {provider} against {base_url}" + (" (live)" if live else ""),
        f"  contacts only {urlsplit(base_url).netloc}; every request times out after {limits.timeout:g} s; a 429 "
        "is retried after its Retry-After",
        f"  budget: {spend}, {pace}; clean-up of what the run created is sent on top",
        f"  schemathesis: {len(contract.operations)} operations x positive and negative data, {budget.examples} "
        "examples each",
        f"  model: {budget.sequences} sequences of up to {budget.steps} steps",
        "  operations:",
        *(f"    {op.id} ({op.method} {op.path})" for op in contract.operations),
    ]
    # resources a path names by their key (not a client-chosen value such as Stiply's external_key)
    resources = {path_resource(p) for op in contract.operations for p in op.path_parameters if path_resource(p) != p}
    if creating:
        made = ", ".join(sorted({r for op in creating for r in op.identifiers if r in resources}))
        bound = "" if limits.max_requests is None else f", so at most {limits.max_requests}"
        lines.append(
            f"  creates: {made} — one per successful creating request{bound}; at the end each is "
            + ("closed or deleted with " + ", ".join(op.id for op in ends) if ends else "left (the API has no delete)")
        )
    given = contract.document.get("x-given-resources")
    if given:
        lines.append(f"  changes: the resources named in {given['variable']} ({given['description']})")
    if model.controls and set(model.controls) - {"reset"}:
        lines.append("  skips: states only the provider's UI or time can make (the mock's control actions)")
    lines.append(f"  credentials from: {credential_sources(contract, flagged)} (never printed)")
    return "\n".join(lines)


def _token_operations(contract: Contract) -> set[str]:
    return {token["operationId"] for token in contract.token_schemes().values()}


def check(
    provider: str,
    base_url: str | None = None,
    *,
    seed: int = 0,
    budget: Budget = Budget(),
    env: dict[str, str] | None = None,
    progress: Callable[[str], None] = lambda _: None,
    mock: Mock | None = None,
    live: bool = False,
    limits: Limits | None = None,
    flagged: dict[str, Any] | None = None,
    clock: Callable[[], dt.datetime] | None = None,
) -> Report:
    """Check a server (or, with no URL, the built-in mock or the given `mock`) against the provider's contract.

    A server not on this machine needs `live`. `flagged` ({scheme: credentials}, from `--credential`) comes
    before the environment's credentials for `base_url`. Whatever happens (a finding, an error, Ctrl-C, the
    budget), what the run created is deleted before this returns or raises; Ctrl-C returns the report with
    `stopped` set. `clock` is the run's wall clock (the shadow model's, and when a token is due again).
    """
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
        if not live and not is_local(base_url):
            raise UsageError(
                f"{urlsplit(base_url).netloc} is not this machine: checking it sends real requests that create and "
                "delete resources there. Pass --live to go ahead (--dry-run shows the plan first)"
            )
        credentials = from_environment(contract, env, flagged)
        target = HttpTarget(base_url, contract.base_path, Gate(urlsplit(base_url).netloc, limits or Limits()))
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
    report.remote = target.remote
    report.controls = control_steps(provider_class(provider), contract.operations)
    oracle = Oracle(provider, target, credentials, report, reproduce=reproduce, clock=clock)
    if target.remote:
        _preflight(oracle, credential_sources(contract, flagged or {}))
        _adopt_given(oracle, env, report)
    else:
        oracle.fetch_tokens()
    schema = load_schema(contract, base_url=schema_url, credentials=credentials, tokens=oracle.tokens, app=app)

    try:
        with seed_only():
            _run_phases(
                contract, schema, oracle, report, seed=seed, budget=budget, reproduce=reproduce, progress=progress
            )
    except StopRequested:  # our own Ctrl-C / SIGTERM handler: the report says so and the caller exits 130
        report.stopped = f"interrupted (Ctrl-C) after {report.requests_sent} requests"
    finally:  # (any other exception, a plain KeyboardInterrupt included, goes on up after the clean-up)
        # Also after an error or Ctrl-C: what the run created is deleted, past the budget if need be. A stop
        # asked for from now on stops the clean-up (which lists what is left).
        clear_stop()
        if target.gate is not None:
            target.gate.cleaning = True
        progress("clean-up: deleting what the run created")
        _clean_up(oracle, report)
    gate = target.gate
    if gate is not None and oracle.stopped_in_sequence is not None and not report.stopped:
        report.stopped = (
            f"stopped at --max-requests {gate.limits.max_requests} in model sequence {oracle.stopped_in_sequence} "
            f"of {budget.sequences}; raise --max-requests to run them all"
        )
    if target.remote and not oracle.successes and not report.stopped:
        # (SIGNiX documents no answer for wrong credentials: with only unknown transactions to work on, a wrong
        # password looks like the right one; a success shows they were taken)
        report.skip(
            "successful requests: none of the run's requests succeeded, so it shows neither what the target does "
            "when every rule holds nor that the target accepted the credentials"
        )
    if gate is not None and gate.waited_on_429:
        report.phases.append(
            f"the target answered 429 {len(gate.waited_on_429)} time(s); waited "
            + ", ".join(f"{w:g} s" for w in gate.waited_on_429)
            + " as its Retry-After said"
        )
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
    gate = oracle.target.gate
    if gate is not None and gate.limits.max_requests is not None:
        # Half the budget at most for single requests, so that the documented sequences get their turn.
        gate.phase_cap = gate.sent + gate.limits.max_requests // 2
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
        gate=oracle.target.gate,
        before_call=oracle.refresh_case,
    )
    unsent = f" ({report.unsent} generated cases could not be encoded and were skipped)" if report.unsent else ""
    capped = " (its half of --max-requests reached)" if gate is not None and gate.spent else ""
    report.phases.append(
        f"schemathesis: {len(contract.operations)} operations, {report.requests_sent - before} requests{unsent}"
        + capped
    )
    if gate is not None:
        gate.phase_cap = None

    progress("model: documented sequences")
    before = report.requests_sent
    run_sequences(
        oracle, seed=seed, examples=budget.sequences, steps=budget.steps, run_token=f"ec{secrets.token_hex(4)}"
    )
    ran = (
        f"{budget.sequences} sequences"
        if oracle.stopped_in_sequence is None
        else (f"{oracle.stopped_in_sequence} of {budget.sequences} sequences (--max-requests reached)")
    )
    report.phases.append(f"model: {ran} of up to {budget.steps} steps, {report.requests_sent - before} requests")


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


def _preflight(oracle: Oracle, names: str) -> None:
    """Harmless documented requests first, so that a wrong URL or wrong credentials is a usage error; `names`
    says where the credentials came from."""
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
    Schemathesis phase created outside the model's view (not judged: the model never saw it). Whatever could
    not be deleted is listed with its id; a second Ctrl-C stops the clean-up and lists what is left."""
    pending: list[tuple[str, str, Operation, bool]] = []
    for operation in cleanup_operations(oracle.contract):
        name = operation.path_parameters[0]
        held = [(path_resource(name), value, True) for value in oracle.model.live_identifiers(name)]
        made = [(resource, value, False) for resource, value in report.created if resource == path_resource(name)]
        pending += [(resource, value, operation, judged) for resource, value, judged in held + made]
    for index, (resource, value, operation, judged) in enumerate(pending):
        # Each request made just before it is sent: a long clean-up may outlive the token it started with.
        body, media = documented_body(operation)
        path = operation.path.replace("{" + operation.path_parameters[0] + "}", value)
        try:
            request = oracle.request(operation.method, path, body=body, content_type=media)
            answer = oracle.exchange(request) if judged else _send_unjudged(oracle, request)
        except KeyboardInterrupt as exc:
            report.not_cleaned += [f"{r} {v} (clean-up interrupted)" for r, v, _, _ in pending[index:]]
            report.stopped = "; ".join(filter(None, [report.stopped, "clean-up interrupted (Ctrl-C)"]))
            if not isinstance(exc, StopRequested):
                raise
            return
        if answer is None or (answer.status >= 300 and answer.status != 404):
            report.not_cleaned.append(f"{resource} {value} ({answer.status if answer else 'no answer'})")


def _send_unjudged(oracle: Oracle, request: Request) -> Response | None:
    try:
        return oracle.target.send(request)
    except TargetError:
        return None


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
