"""Findings of a check, each printed once, with the rule, its source, the request and a way to reproduce it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field

from esign_contracts.contracts.credentials import redact


@dataclass(frozen=True)
class Finding:
    """One way the target broke the contract."""

    check: str  # e.g. "status", "response schema", "model", "server error"
    operation: str
    rule: str
    source: str
    request: str
    expected: str
    received: str
    reproduce: str = ""
    trace: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.check, self.operation, self.rule, self.expected)

    def render(self) -> str:
        lines = [
            f"✗ {self.operation} — {self.check}: {self.rule}",
            f"  documented: {self.source}",
            f"  request:    {self.request}",
            f"  expected:   {self.expected}",
            f"  received:   {self.received}",
        ]
        if self.trace:
            lines.append("  after:      " + "\n              ".join(self.trace))
        if self.reproduce:
            lines.append(f"  reproduce:  {self.reproduce}")
        return "\n".join(lines)


@dataclass
class Report:
    """Everything a check found, deduplicated, with what it could not exercise and why."""

    provider: str
    target: str
    seed: int
    secrets: list[str] = field(default_factory=list)
    findings: dict[tuple[str, str, str, str], Finding] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    requests_sent: int = 0
    unsent: int = 0  # generated cases the generator could not encode into a request
    created: list[tuple[str, str]] = field(default_factory=list)  # (resource, id) made outside the model's view
    not_cleaned: list[str] = field(default_factory=list)
    phases: list[str] = field(default_factory=list)
    exercised: Counter[tuple[str, int]] = field(default_factory=Counter)  # (operation, status) the model judged
    documented: set[tuple[str, int]] = field(default_factory=set)

    def add(self, finding: Finding) -> None:
        self.findings.setdefault(finding.key, finding)

    def skip(self, reason: str) -> None:
        if reason not in self.skipped:
            self.skipped.append(reason)

    @property
    def ok(self) -> bool:
        return not self.findings

    def render(self) -> str:
        lines = [f"esign-contracts check {self.provider} against {self.target} (seed {self.seed})"]
        lines += [f"  {phase}" for phase in self.phases]
        for finding in self.findings.values():
            lines += ["", finding.render()]
        if self.not_cleaned:
            lines += ["", "Created by this run and not deleted:"] + [f"  - {item}" for item in self.not_cleaned]
        if self.skipped:
            lines += ["", "Not exercised against this target:"] + [f"  - {s}" for s in self.skipped]
        if self.documented:
            reached = self.documented & set(self.exercised)
            missing = ", ".join(f"{op} {status}" for op, status in sorted(self.documented - reached))
            lines += ["", f"Documented statuses reached by the model: {len(reached)} of {len(self.documented)}"]
            if missing:
                lines.append(f"  not reached: {missing}")
        verdict = "conformant" if self.ok else f"{len(self.findings)} violation(s)"
        lines += ["", f"{self.requests_sent} requests, {verdict}."]
        return redact("\n".join(lines), self.secrets)

    def junit_xml(self) -> str:
        suite = ET.Element(
            "testsuite",
            name=f"esign-contracts.{self.provider}",
            tests=str(max(len(self.findings), 1) + len(self.skipped)),
            failures=str(len(self.findings)),
            skipped=str(len(self.skipped)),
        )
        if not self.findings:
            ET.SubElement(suite, "testcase", classname=self.provider, name="contract")
        for finding in self.findings.values():
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"{self.provider}.{finding.operation}",
                name=f"{finding.check}: {finding.rule}",
            )
            failure = ET.SubElement(
                case, "failure", message=f"expected {finding.expected}; received {finding.received}"
            )
            failure.text = finding.render()
        for reason in self.skipped:
            case = ET.SubElement(suite, "testcase", classname=self.provider, name=reason[:80])
            ET.SubElement(case, "skipped", message=reason)
        return redact(ET.tostring(suite, encoding="unicode"), self.secrets)
