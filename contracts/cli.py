"""The `esign-contracts` command: `check [PROVIDER...] [--base-url URL] [--credential ...]` and
`serve [PROVIDER...] [--port N] [--credential PROVIDER.SCHEME=VALUE ...]`."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from esign_contracts.contracts.gate import LIVE_LIMITS
from esign_contracts.specs.providers import PROVIDER_MODULES

if TYPE_CHECKING:
    from esign_contracts.mocks import Mock

EXIT_OK, EXIT_VIOLATIONS, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="esign-contracts", description="Contract checks and stateful mocks for e-signature APIs."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="check a server (default: the built-in mock) against the contract")
    check.add_argument(
        "provider",
        nargs="*",
        help=f"the providers to check (default: every one): {', '.join(sorted(PROVIDER_MODULES))}",
    )
    check.add_argument(
        "--base-url",
        help="one provider's server, e.g. http://127.0.0.1:8000/v1 (credentials from the environment or --credential)",
    )
    check.add_argument("--seed", type=int, default=0, help="seed for the generated data (default 0)")
    check.add_argument("--junit-xml", type=Path, help="write a JUnit XML report to this path")
    check.add_argument("--json", type=Path, help="write a JSON report (findings, coverage) to this path")
    check.add_argument("--markdown", type=Path, help="write a Markdown summary (for a CI job summary) to this path")
    check.add_argument(
        "--live", action="store_true", help="allow a --base-url that is not this machine (a sandbox); low limits apply"
    )
    check.add_argument(
        "--dry-run", action="store_true", help="print what the run would do against --base-url, send nothing"
    )
    check.add_argument(
        "--max-requests",
        type=int,
        default=None,
        help=f"stop after this many requests (default with --live: {LIVE_LIMITS.max_requests}; clean-up comes on top)",
    )
    check.add_argument(
        "--rate",
        type=float,
        default=None,
        help=f"at most this many requests per second (default with --live: {LIVE_LIMITS.rate:g})",
    )
    check.add_argument("--examples", type=int, default=None, help="Schemathesis examples per operation and mode")
    check.add_argument("--sequences", type=int, default=None, help="state machine sequences to run")
    check.add_argument(
        "--credential",
        action="append",
        default=[],
        metavar="PROVIDER.SCHEME=VALUE",
        help="with --base-url: credentials for the server, before the environment's; repeatable, in serve's form "
        "(for a real secret prefer the environment: a flag shows in `ps` and in shell history)",
    )
    serve = commands.add_parser(
        "serve", help="serve mocks over HTTP on one port until Ctrl-C (default: every provider)"
    )
    # (no argparse `choices` here: with nargs="*" it refuses the empty list; _serve checks the names)
    serve.add_argument("provider", nargs="*", help=f"the providers to serve: {', '.join(sorted(PROVIDER_MODULES))}")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_port, default=8000, help="0 to 65535; 0 takes a free port (default: 8000)")
    serve.add_argument(
        "--credential",
        action="append",
        default=[],
        metavar="PROVIDER.SCHEME=VALUE",
        help="credentials a mock accepts instead of its default and of the environment's; repeatable. VALUE is "
        "USER:PASSWORD (Basic), the key or token, or FIELD=VALUE,... for several fields, e.g. "
        "stiply.basicAuth=alice:s3cret, signix.CustInfo=Sponsor=S,Client=C,UserId=U,Pswd=P (see the README)",
    )
    serve.add_argument(
        "--server",
        choices=["cheroot", "granian"],
        default="cheroot",
        help="cheroot (default, pure Python) or granian (pip install 'esign-contracts[granian]'): about 2 to 4 "
        "times the requests per second (benchmarks/README.md)",
    )
    serve.add_argument(
        "--max-body-bytes",
        type=_positive,
        default=None,
        metavar="N",
        help="request body limit; a larger body gets 413 (default: 33554432, 32 MiB)",
    )
    serve.add_argument(
        "--request-timeout",
        type=_positive,
        default=None,
        metavar="SECONDS",
        help="seconds a client has to send a request's headers, and then its body (default: 10)",
    )
    return parser


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a TCP port (0 to 65535)")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} is not above 0")
    return value


def _check(args: argparse.Namespace) -> int:
    from esign_contracts.contracts.check import Budget, limits_for, plan

    defaults = Budget()
    budget = Budget(
        examples=args.examples if args.examples is not None else defaults.examples,
        sequences=args.sequences if args.sequences is not None else defaults.sequences,
    )
    if budget.examples < 1 or budget.sequences < 1:
        print("esign-contracts: --examples and --sequences must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    providers = list(dict.fromkeys(args.provider or sorted(PROVIDER_MODULES)))
    unknown = [name for name in providers if name not in PROVIDER_MODULES]
    if unknown:
        known = ", ".join(sorted(PROVIDER_MODULES))
        print(f"esign-contracts: unknown provider {', '.join(unknown)}; known providers: {known}", file=sys.stderr)
        return EXIT_USAGE
    if args.base_url and len(providers) != 1:
        print("esign-contracts: --base-url is one provider's server: name exactly one provider", file=sys.stderr)
        return EXIT_USAGE
    if (args.max_requests is not None and args.max_requests < 1) or (args.rate is not None and args.rate <= 0):
        print("esign-contracts: --max-requests must be at least 1 and --rate more than 0", file=sys.stderr)
        return EXIT_USAGE
    if args.dry_run and not args.base_url:
        print("esign-contracts: --dry-run plans a run against a server: give --base-url", file=sys.stderr)
        return EXIT_USAGE
    if args.credential and not args.base_url:
        print(
            "esign-contracts: --credential gives check the credentials of --base-url's server; the built-in mock "
            "needs none",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from esign_contracts.contracts.credentials import UsageError, from_flags

    try:
        flagged = from_flags(args.credential, providers, ("checking", "checked")) if args.credential else {}
        args.flagged = flagged.get(providers[0], {})
    except UsageError as exc:
        print(f"esign-contracts: {exc}", file=sys.stderr)
        return EXIT_USAGE
    limits = limits_for(args.base_url, args.live, args.max_requests, args.rate)
    if args.base_url and (args.live or args.dry_run):
        print(plan(providers[0], args.base_url, budget, limits, args.live, args.flagged), flush=True)
        if args.dry_run:
            return EXIT_OK
    restore = _interrupt_on_sigterm()
    try:
        return _run_checks(args, providers, budget, limits)
    finally:
        restore()


def _run_checks(args: argparse.Namespace, providers: list[str], budget: Any, limits: Any) -> int:
    from esign_contracts.contracts.check import Progress, check
    from esign_contracts.contracts.credentials import UsageError
    from esign_contracts.contracts.report import combined_json, combined_markdown

    progress = Progress()
    reports = []
    for provider in providers:
        try:
            reports.append(
                check(
                    provider,
                    args.base_url,
                    seed=args.seed,
                    budget=budget,
                    progress=progress,
                    live=args.live,
                    limits=limits,
                    flagged=args.flagged,
                )
            )
        except UsageError as exc:
            progress.done()
            print(f"esign-contracts: {exc}", file=sys.stderr)
            return EXIT_USAGE
        progress.done()
        print(reports[-1].render(), flush=True)
        if reports[-1].stopped.startswith("interrupted"):
            break
    outputs = {
        args.junit_xml: lambda: _junit(reports),
        args.json: lambda: combined_json(reports) if len(reports) > 1 else reports[0].json(),
        args.markdown: lambda: combined_markdown(reports),
    }
    for path, text in outputs.items():
        if path is None:
            continue
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text(), encoding="utf-8")
        except OSError as exc:
            print(f"esign-contracts: cannot write {path}: {exc.strerror}", file=sys.stderr)
            return EXIT_USAGE
    if any(report.stopped.startswith("interrupted") for report in reports):
        return EXIT_INTERRUPTED
    return EXIT_OK if all(report.ok for report in reports) else EXIT_VIOLATIONS


def _interrupt_on_sigterm() -> Callable[[], None]:
    """Ctrl-C, and SIGTERM (a CI cancelling the job), stop the run at its next safe point, so that it still
    deletes what it made; a second one stops at once."""
    from esign_contracts.contracts.gate import request_stop

    def interrupt(signum: int, frame: object) -> None:
        request_stop()

    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    before = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        for sig, handler in before.items():
            signal.signal(sig, handler)

    return restore


def _junit(reports: list) -> str:  # type: ignore[type-arg]
    suites = [report.junit_xml() for report in reports]
    return suites[0] if len(suites) == 1 else f"<testsuites>{''.join(suites)}</testsuites>"


def mocks_to_serve(
    providers: list[str], credential_flags: list[str] | None = None, env: Mapping[str, str] | None = None
) -> tuple[list[Mock], dict[str, dict[str, str]]]:
    """The mocks `serve` runs and, for the banner, where each non-default credential came from.

    Each scheme accepts its --credential flag's value, else the environment's (the same variables `check`
    reads, so one environment drives both), else the mock's default. A bad flag raises UsageError.
    """
    from esign_contracts.contracts.credentials import for_serving, from_flags
    from esign_contracts.mocks import Mock
    from esign_contracts.specs import load_contract

    flagged = from_flags(credential_flags or [], providers)
    mocks: list[Mock] = []
    sources: dict[str, dict[str, str]] = {}
    for name in providers:
        credentials, sources[name] = for_serving(load_contract(name), flagged.get(name), env)
        mocks.append(Mock(name, credentials=credentials))
    return mocks, {name: given for name, given in sources.items() if given}


def _serve(args: argparse.Namespace) -> int:
    from esign_contracts.contracts.credentials import UsageError
    from esign_contracts.contracts.serve import serve

    unknown = [name for name in args.provider if name not in PROVIDER_MODULES]
    if unknown:
        known = ", ".join(sorted(PROVIDER_MODULES))
        print(f"esign-contracts: unknown provider {', '.join(unknown)}; known providers: {known}", file=sys.stderr)
        return EXIT_USAGE
    try:
        mocks, sources = mocks_to_serve(list(dict.fromkeys(args.provider or sorted(PROVIDER_MODULES))), args.credential)
    except UsageError as exc:
        print(f"esign-contracts: {exc}", file=sys.stderr)
        return EXIT_USAGE
    # values from a flag or the environment may be real secrets: the banner names their source only
    try:
        serve(
            mocks,
            args.host,
            args.port,
            credential_sources=sources,
            server=args.server,
            max_body_bytes=args.max_body_bytes,
            request_timeout=args.request_timeout,
        )
    except OSError as exc:
        print(f"esign-contracts: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return _check(args) if args.command == "check" else _serve(args)


if __name__ == "__main__":
    raise SystemExit(main())
