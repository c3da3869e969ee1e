"""The `esign-contracts` command: `check [PROVIDER...] [--base-url URL]` and `serve [PROVIDER...] [--port N]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from esign_contracts.specs.providers import PROVIDER_MODULES

EXIT_OK, EXIT_VIOLATIONS, EXIT_USAGE = 0, 1, 2


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
        "--base-url", help="one provider's server, e.g. http://127.0.0.1:8000/v1 (credentials from the environment)"
    )
    check.add_argument("--seed", type=int, default=0, help="seed for the generated data (default 0)")
    check.add_argument("--junit-xml", type=Path, help="write a JUnit XML report to this path")
    check.add_argument("--examples", type=int, default=None, help="Schemathesis examples per operation and mode")
    check.add_argument("--sequences", type=int, default=None, help="state machine sequences to run")
    serve = commands.add_parser(
        "serve", help="serve mocks over HTTP on one port until Ctrl-C (default: every provider)"
    )
    # (no argparse `choices` here: with nargs="*" it refuses the empty list; _serve checks the names)
    serve.add_argument("provider", nargs="*", help=f"the providers to serve: {', '.join(sorted(PROVIDER_MODULES))}")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    return parser


def _check(args: argparse.Namespace) -> int:
    from esign_contracts.contracts.check import Budget, Progress, check
    from esign_contracts.contracts.credentials import UsageError

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
    progress = Progress()
    reports = []
    for provider in providers:
        try:
            reports.append(check(provider, args.base_url, seed=args.seed, budget=budget, progress=progress))
        except UsageError as exc:
            progress.done()
            print(f"esign-contracts: {exc}", file=sys.stderr)
            return EXIT_USAGE
        progress.done()
        print(reports[-1].render(), flush=True)
    if args.junit_xml:
        suites = [report.junit_xml() for report in reports]
        text = suites[0] if len(suites) == 1 else f"<testsuites>{''.join(suites)}</testsuites>"
        try:
            args.junit_xml.write_text(text, encoding="utf-8")
        except OSError as exc:
            print(f"esign-contracts: cannot write --junit-xml {args.junit_xml}: {exc.strerror}", file=sys.stderr)
            return EXIT_USAGE
    return EXIT_OK if all(report.ok for report in reports) else EXIT_VIOLATIONS


def _serve(args: argparse.Namespace) -> int:
    from esign_contracts.contracts.serve import serve
    from esign_contracts.mocks import Mock

    unknown = [name for name in args.provider if name not in PROVIDER_MODULES]
    if unknown:
        known = ", ".join(sorted(PROVIDER_MODULES))
        print(f"esign-contracts: unknown provider {', '.join(unknown)}; known providers: {known}", file=sys.stderr)
        return EXIT_USAGE
    from esign_contracts.contracts.credentials import present_in_environment
    from esign_contracts.specs import load_contract

    names = dict.fromkeys(args.provider or sorted(PROVIDER_MODULES))
    # The same variables `check` reads set what each mock accepts, so one environment drives both.
    mocks = [Mock(name, credentials=present_in_environment(load_contract(name))) for name in names]
    try:
        serve(mocks, args.host, args.port)
    except OSError as exc:
        print(f"esign-contracts: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return _check(args) if args.command == "check" else _serve(args)


if __name__ == "__main__":
    raise SystemExit(main())
