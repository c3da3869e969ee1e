"""`pytest --esign-check PROVIDER`: the contract as test items, one per operation and per documented rule.

The check runs once per provider (the first item to run starts it), with the same safety, credentials and
reports as `esign-contracts check`; each item then passes, fails with the findings that concern it, or is
skipped when the run never reached it (and says why). Imported only when the option is given.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from esign_contracts.contracts.report import ALL_RULES_HOLD, Finding, Report

STASH: pytest.StashKey[dict[str, Any]] = pytest.StashKey()


class ContractFailed(AssertionError):
    """The target broke the rule this item stands for."""


class ContractCollector(pytest.Collector):
    """One provider's contract: an item per operation (its documented statuses and answers) and per rule."""

    def __init__(self, *, provider: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.provider = provider

    def collect(self) -> Iterator[pytest.Item]:
        from esign_contracts.specs import load_contract

        for operation in load_contract(self.provider).operations:
            yield RuleItem.from_parent(self, name=operation.id, operation=operation.id, rule=None)
            for precondition in operation.preconditions:
                yield RuleItem.from_parent(
                    self, name=f"{operation.id}::{precondition.id}", operation=operation.id, rule=precondition
                )


class RuleItem(pytest.Item):
    def __init__(self, *, operation: str, rule: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.operation = operation
        self.rule = rule

    @property
    def provider(self) -> str:
        return self.parent.provider  # type: ignore[union-attr]

    def runtest(self) -> None:
        report = _report(self.config, self.provider)
        mine = [f for f in report.findings.values() if f.operation == self.operation and self._concerns(f)]
        if mine:
            raise ContractFailed("\n\n".join(_redacted(f.render(), report) for f in mine))
        state = self.rule.id if self.rule is not None else ALL_RULES_HOLD
        if not any(op == self.operation and st == state for op, st, _ in report.states):
            where = f"a state where {self.rule.id} fails" if self.rule is not None else "a state where every rule holds"
            why = "; it may need a state only the provider's UI or time can make" if report.remote else ""
            pytest.skip(f"not reached: {self.operation} was never sent in {where}{why}")

    def _concerns(self, finding: Finding) -> bool:
        preconditions = [p for p in self._operation().preconditions]
        named = [p for p in preconditions if p.rule in finding.rule or p.id in finding.rule]
        if self.rule is None:
            return not named  # findings about no particular rule: the operation's own item
        return self.rule in named

    def _operation(self) -> Any:
        from esign_contracts.specs import load_contract

        return load_contract(self.provider).operation(self.operation)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ContractFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path | str, int | None, str]:
        return f"esign-contracts:{self.provider}", None, f"{self.provider}::{self.name}"


def _redacted(text: str, report: Report) -> str:
    from esign_contracts.contracts.credentials import redact

    return redact(text, report.secrets)


def _refuse_unsafe(config: pytest.Config, providers: list[str]) -> None:
    """Before anything is collected or sent: the same usage errors as the CLI (live target, credentials)."""
    from esign_contracts.contracts.check import _check_url, is_local
    from esign_contracts.contracts.credentials import UsageError, from_environment
    from esign_contracts.specs import load_contract

    base_url = config.option.esign_base_url
    if not base_url:
        return
    try:
        _check_url(base_url)
        if not config.option.esign_live and not is_local(base_url):
            raise UsageError(
                f"{base_url} is not this machine: checking it sends real requests that create and delete resources "
                "there. Pass --live (here: --esign-live) to go ahead"
            )
        for provider in providers:
            from_environment(load_contract(provider))
    except UsageError as exc:
        raise pytest.UsageError(f"--esign-check: {exc}") from None


def _report(config: pytest.Config, provider: str) -> Report:
    """The provider's check, run once per session with the command-line options."""
    reports = config.stash.setdefault(STASH, {})
    if provider not in reports:
        from esign_contracts.contracts.check import Budget, check, limits_for
        from esign_contracts.contracts.credentials import UsageError

        option = config.option
        base_url = option.esign_base_url
        defaults = Budget()
        budget = Budget(
            examples=option.esign_examples or defaults.examples, sequences=option.esign_sequences or defaults.sequences
        )
        limits = limits_for(base_url, option.esign_live, option.esign_max_requests, option.esign_rate)
        try:
            reports[provider] = check(
                provider, base_url, seed=option.esign_seed, budget=budget, live=option.esign_live, limits=limits
            )
        except UsageError as exc:  # e.g. the preflight found a wrong URL: every item says so, the run is not retried
            reports[provider] = exc
    found = reports[provider]
    if isinstance(found, Exception):
        raise ContractFailed(f"--esign-check {provider}: {found}")
    return found


def collect(session: pytest.Session, providers: list[str]) -> list[pytest.Item]:
    _refuse_unsafe(session.config, providers)
    items: list[pytest.Item] = []
    for provider in providers:
        collector = ContractCollector.from_parent(session, name=f"esign-contracts[{provider}]", provider=provider)
        items += list(collector.collect())
    return items


def write_reports(config: pytest.Config) -> None:
    """--esign-json / --esign-markdown, from the reports of the providers that ran."""
    from esign_contracts.contracts.report import combined_json, combined_markdown

    reports = [r for r in config.stash.get(STASH, {}).values() if isinstance(r, Report)]
    if not reports:
        return
    for path, text in ((config.option.esign_json, combined_json), (config.option.esign_markdown, combined_markdown)):
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(text(reports), encoding="utf-8")
