"""Findings of a check, each printed once, with the rule, its source, the request and a way to reproduce it.

A report prints as text (`render`), JUnit XML, JSON and Markdown (for a CI job summary); every one of them is
redacted: no credential, token or encoding of one appears in any output. A finding is redacted and escaped
(`printable`) once, as it is added, so no output holds a control or other unprintable character it quoted.
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from esign_contracts.contracts.credentials import redact
from esign_contracts.mocks.ids import MissingIdentifier, ShadowIds

if TYPE_CHECKING:
    from esign_contracts.specs import Operation

Outcome = Literal["exercised", "failed", "not reached"]
CELL_LIMIT = 160  # characters per Markdown table cell
# A status at the start of a finding's `received`: the oracle's "404 {...}", SIGNiX's "StatusCode 2 (...)" or
# "responseCode 1 (...)" (an outcome inside the XML body, named in the coverage by objectType or "SubmitAjax").
_LEADING_STATUS = re.compile(r"\s*(?:(StatusCode|responseCode)\s+)?(\d+)\b")
# Schemathesis names the status it judged inside some of its messages; the oracle's schema check in its rule.
_NAMED_STATUS = re.compile(r"(?:status code|Received:|Got|returned)\s+(\d{3})\b")
_DOCUMENTED_RESPONSE = re.compile(r"^the documented (\d{3}) response$")
_NO_ANSWER = "no answer"


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
    remote: bool = False  # the target is a server over HTTP, not the built-in mock in-process
    controls: list[str] = field(default_factory=list)  # the model's control actions, e.g. ["expire_term", "sign"]
    tokens_renewed: int = 0  # bearer tokens fetched again before the lifetime the target gave them ran out
    stopped: str = ""  # why the run ended before its budget of sequences (--max-requests, Ctrl-C), if it did
    # (operation, model state, status): the state is the precondition the model found unmet (its id), or
    # ALL_RULES_HOLD; `states` counts the answers judged in each, `documented_states` lists what the spec defines.
    states: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    documented_states: set[tuple[str, str, int]] = field(default_factory=set)

    def add(self, finding: Finding) -> None:
        """Keep `finding` (the first of its key), redacted and then escaped: every output shows it the same way."""
        shown = _shown(finding, hidden_forms(self.secrets))
        self.findings.setdefault(shown.key, shown)

    def remember_created(self, operation: Operation, body: Any) -> None:
        """Identifiers an answer carries for what its request created, outside the model's view, so that the run
        deletes them at the end."""
        for resource in operation.identifiers:
            try:
                value = ShadowIds(body)(operation, resource)
            except MissingIdentifier:
                continue
            if value and (resource, value) not in self.created:
                self.created.append((resource, value))

    def skip(self, reason: str) -> None:
        # A reason may quote the target (an exception's text), and the JUnit file names each one.
        shown = printable(redact(reason, hidden_forms(self.secrets)))
        if shown not in self.skipped:
            self.skipped.append(shown)

    @property
    def ok(self) -> bool:
        """No finding, and the run was not interrupted (a run cut short proves nothing about what it skipped)."""
        return not self.findings and not self.stopped.startswith("interrupted")

    def render(self) -> str:
        lines = [f"esign-contracts check {self.provider} against {self.target} (seed {self.seed})"]
        lines += [f"  {phase}" for phase in self.phases]
        if self.tokens_renewed:
            lines.append(f"  bearer tokens fetched again before they expired: {self.tokens_renewed}")
        if self.stopped:
            lines.append(f"  {self.stopped}")
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
        return redact("\n".join(lines), hidden_forms(self.secrets))

    def junit_xml(self) -> str:
        # Each text is redacted before the tree escapes it (a secret holding `&` or `"` would otherwise leave
        # the final pass unmatched), and the whole document again after.
        hidden = hidden_forms(self.secrets)
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
                classname=redact(f"{self.provider}.{finding.operation}", hidden),
                name=redact(f"{finding.check}: {finding.rule}", hidden),
            )
            failure = ET.SubElement(
                case, "failure", message=redact(f"expected {finding.expected}; received {finding.received}", hidden)
            )
            failure.text = redact(finding.render(), hidden)
        for reason in self.skipped:
            case = ET.SubElement(suite, "testcase", classname=self.provider, name=redact(reason, hidden)[:80])
            ET.SubElement(case, "skipped", message=redact(reason, hidden))
        return redact(ET.tostring(suite, encoding="unicode"), hidden)

    # -- coverage -------------------------------------------------------------------------------------------

    def coverage(self) -> list[CoverageRow]:
        """One row per documented (operation, status), then each exercised pair the docs do not list.

        `exercised` counts the answers the model judged (the model phase; the Schemathesis phase's requests are
        not counted per status). For SIGNiX the rows are also (objectType or "SubmitAjax", code): the outcomes
        inside its XML answer.

        `failed` counts the findings at that status: a finding's status is the leading one of its `received`
        ("404 {...}", "StatusCode 2 (...)", "responseCode 1 (...)"), else the one Schemathesis names in its
        message ("status code 200"), else the one in the rule of a response schema finding ("the documented 200
        response"). A finding of the model phase that names no status (a body that disagrees with the model, a
        missing identifier) comes from an answer the model accepted, so it is counted under its operation's most
        exercised 2xx status (its most exercised status when none is 2xx), which may not be the very answer it was
        found in. A Schemathesis finding that names no status (its "Server error" says none), and one with no
        answer at all, is in no row: no status would be more than a guess. The findings list has every finding.

        The model state a status needs is not tracked per request, so there is no state column: for a row not
        reached, the reason says which states it may have needed (those only control actions make) and why they
        were not available.
        """
        failures: dict[tuple[str, int], list[Finding]] = {}
        for finding in self.findings.values():
            key = self._row_of(finding)
            if key is not None:
                failures.setdefault(key, []).append(finding)
        keys = self.documented | set(self.exercised) | set(failures)
        rows = []
        for key in sorted(keys, key=lambda k: (k[0].startswith("control."), k[0], k[1])):
            operation, status = key
            found = failures.get(key, [])
            exercised = self.exercised.get(key, 0)
            outcome: Outcome = "failed" if found else "exercised" if exercised else "not reached"
            notes = []
            if operation.startswith("control."):
                notes.append("control action run through the mock's control API, not a documented request")
            elif key not in self.documented:
                refused = status == 401
                notes.append("credentials refused (401): not counted as coverage" if refused else "not documented")
            if found:
                notes.append("; ".join(dict.fromkeys(f"{f.check}: {f.rule}" for f in found)))
            elif not exercised:
                notes.append(self._unreached_reason())
            rows.append(CoverageRow(operation, status, exercised, len(found), outcome, "; ".join(notes)))
        return rows

    def state_coverage(self) -> list[StateRow]:
        """Operation x model state x documented status: one row per precondition (the state in which it fails,
        with its documented status) and per success (every rule holds). A row fails when a finding names its rule
        (or, for success, names none of the operation's rules at that status)."""
        rows = []
        for operation, state, status in sorted(self.documented_states):
            exercised = self.states.get((operation, state, status), 0)
            found = [
                f
                for f in self.findings.values()
                if f.operation == operation
                and (state in f.rule or (state == ALL_RULES_HOLD and self._row_of(f) == (operation, status)))
            ]
            outcome: Outcome = "failed" if found else "exercised" if exercised else "not reached"
            other = sum(n for (op, st, _), n in self.states.items() if op == operation and st == state)
            reason = (
                "; ".join(dict.fromkeys(f"{f.check}: {f.rule}" for f in found))
                if found
                else ""
                if exercised
                else f"reached, but answered another status {other} time(s)"
                if other
                else self._unreached_reason()
            )
            rows.append(StateRow(operation, state, status, exercised, outcome, reason))
        return rows

    def _unreached_reason(self) -> str:
        budget = "not drawn within this run's budget (raise --sequences)"
        if self.remote and self.controls:
            return (
                "may need a state only the provider's UI or time can make "
                f"(control actions: {', '.join(self.controls)}), not available against this target; "
                f"otherwise {budget}"
            )
        return budget

    def _row_of(self, finding: Finding) -> tuple[str, int] | None:
        """The (operation, status) row a finding is counted in, as `coverage` documents; None for none."""
        if finding.check.endswith(_NO_ANSWER):
            return None
        keys = self.documented | set(self.exercised)
        leading = _LEADING_STATUS.match(finding.received)
        status: int | None = None
        if leading and leading.group(1):  # an outcome inside the body (SIGNiX)
            status = int(leading.group(2))
            # A responseCode belongs to one request of the batch, named in the rule: "request 2 (GetTransactionList)";
            # a StatusCode to the whole answer, whose row differs from the operation only in case ("SubmitAjax").
            names = [finding.operation]
            if leading.group(1) == "responseCode":
                names = re.findall(r"\((\w+)\)", finding.rule) + names
            for name in names:
                for candidate in sorted({op for op, _ in keys}):
                    if candidate.lower() == name.lower() and (candidate, status) in keys:
                        return (candidate, status)
            return (finding.operation, status)
        if leading and not finding.check.startswith("schemathesis") and 100 <= int(leading.group(2)) <= 599:
            status = int(leading.group(2))
        elif named := _NAMED_STATUS.search(finding.received):
            status = int(named.group(1))
        elif documented := _DOCUMENTED_RESPONSE.match(finding.rule):
            status = int(documented.group(1))
        if status is not None:
            return (finding.operation, status)
        if finding.check.startswith("schemathesis"):
            return None
        seen = sorted(
            ((count, s) for (op, s), count in self.exercised.items() if op == finding.operation),
            key=lambda pair: (-pair[0], pair[1]),
        )
        success = [s for _, s in seen if 200 <= s < 300]
        if success or seen:
            return (finding.operation, (success or [s for _, s in seen])[0])
        return None

    # -- JSON and Markdown ----------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Everything a CI job reads, as plain data; every string is already redacted."""
        rows = self.coverage()
        documented = [r for r in rows if (r.operation, r.status) in self.documented]
        data = {
            "provider": self.provider,
            "target": self.target,
            "seed": self.seed,
            "ok": self.ok,
            "violations": len(self.findings),
            "remote": self.remote,
            "requests_sent": self.requests_sent,
            "stopped": self.stopped,
            "unsent": self.unsent,
            "phases": list(self.phases),
            "findings": [{**asdict(f), "trace": list(f.trace)} for f in self.findings.values()],
            "skipped": list(self.skipped),
            "not_cleaned": list(self.not_cleaned),
            "controls": list(self.controls),
            "coverage_summary": {
                "documented": len(documented),
                "reached": sum(1 for r in documented if r.exercised),
                "failed": sum(1 for r in rows if r.failed),
            },
            "coverage": [asdict(row) for row in rows],
            "state_coverage": [asdict(row) for row in self.state_coverage()],
        }
        return _redacted(data, hidden_forms(self.secrets))

    def json(self) -> str:
        return redact(json.dumps(self.to_dict(), indent=2, ensure_ascii=False), hidden_forms(self.secrets))

    def markdown(self) -> str:
        """A GitHub-flavoured Markdown summary, fit for `$GITHUB_STEP_SUMMARY`."""
        hidden = hidden_forms(self.secrets)

        def cell(value: object, limit: int = CELL_LIMIT) -> str:
            return _cell(redact(str(value), hidden), limit)

        verdict = "conformant" if self.ok else f"{len(self.findings)} violation(s)"
        lines = [
            f"### esign-contracts check {self.provider} — {verdict}",
            "",
            f"Target: {cell(self.target)} · seed {self.seed} · {self.requests_sent} requests",
        ]
        if self.phases or self.stopped:
            lines += [""] + [f"- {cell(phase)}" for phase in [*self.phases, *filter(None, [self.stopped])]]
        if self.findings:
            lines += ["", "| operation | check | rule | expected | received |", "| --- | --- | --- | --- | --- |"]
            lines += [
                f"| {cell(f.operation)} | {cell(f.check)} | {cell(f.rule)} | {cell(f.expected)} | {cell(f.received)} |"
                for f in self.findings.values()
            ]
        rows = self.coverage()
        if rows:
            documented = [r for r in rows if (r.operation, r.status) in self.documented]
            reached = sum(1 for r in documented if r.exercised)
            lines += [
                "",
                "<details><summary>Coverage: "
                f"{reached} of {len(documented)} documented outcomes reached by the model</summary>",
                "",
                "| operation | status | exercised | outcome | reason |",
                "| --- | --- | --- | --- | --- |",
            ]
            # The reason is this module's own text (plus a finding's rule): it gets more room than a body excerpt.
            lines += [
                f"| {cell(r.operation)} | {'—' if r.operation.startswith('control.') else r.status} | {r.exercised} "
                f"| {r.outcome} | {cell(r.reason, 2 * CELL_LIMIT)} |"
                for r in rows
            ]
            lines += ["", "</details>"]
        states = self.state_coverage()
        if states:
            reached = sum(1 for r in states if r.exercised)
            lines += [
                "",
                f"<details><summary>By model state: {reached} of {len(states)} documented states reached</summary>",
                "",
                "| operation | model state | status | exercised | outcome | reason |",
                "| --- | --- | --- | --- | --- | --- |",
            ]
            lines += [
                f"| {cell(r.operation)} | {cell(r.state)} | {r.status} | {r.exercised} | {r.outcome} "
                f"| {cell(r.reason, 2 * CELL_LIMIT)} |"
                for r in states
            ]
            lines += ["", "</details>"]
        if self.skipped:
            lines += ["", "**Not exercised against this target:**", ""]
            lines += [f"- {cell(reason)}" for reason in self.skipped]
        if self.not_cleaned:
            lines += ["", "**Created by this run and not deleted:**", ""]
            lines += [f"- {cell(item)}" for item in self.not_cleaned]
        first = next(iter(self.findings.values()), None)
        if first is not None and first.reproduce:
            text = "\n".join(line.strip() for line in redact(first.reproduce, hidden).splitlines())
            fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", text)), default=0))
            lines += ["", "Reproduce the first finding:", "", f"{fence}sh", text, fence]
        return redact("\n".join(lines) + "\n", hidden)


ALL_RULES_HOLD = "every rule holds"


@dataclass(frozen=True)
class StateRow:
    """One (operation, model state, documented status): the state is a precondition's id (it fails there) or
    ALL_RULES_HOLD (the documented success)."""

    operation: str
    state: str
    status: int
    exercised: int
    outcome: Outcome
    reason: str


@dataclass(frozen=True)
class CoverageRow:
    """One (operation, status) of a report's coverage: how often the model saw it, and what came of it."""

    operation: str
    status: int
    exercised: int
    failed: int
    outcome: Outcome
    reason: str


def combined_json(reports: list[Report]) -> str:
    """Several providers' reports as one JSON document: {"ok": ..., "reports": [...]}."""
    hidden = hidden_forms([s for report in reports for s in report.secrets])
    data = {"ok": all(report.ok for report in reports), "reports": [report.to_dict() for report in reports]}
    return redact(json.dumps(_redacted(data, hidden), indent=2, ensure_ascii=False), hidden)


def combined_markdown(reports: list[Report]) -> str:
    """Several providers' Markdown summaries, one after the other."""
    hidden = hidden_forms([s for report in reports for s in report.secrets])
    return redact("\n".join(report.markdown() for report in reports), hidden)


def hidden_forms(secrets: list[str]) -> list[str]:
    """The secrets and the forms JSON, XML and Markdown escaping give them, longest first, never empty.

    Each secret's `printable` form too, and its forms: a secret the run learns after a finding that holds it was
    added is in that finding only escaped.
    """
    forms = set()
    for secret in secrets:
        for shown in {secret, printable(secret)} - {""}:
            forms |= {
                shown,
                json.dumps(shown)[1:-1],
                json.dumps(shown, ensure_ascii=False)[1:-1],
                html.escape(shown),
                html.escape(shown, quote=False),
                _escape_cell(shown),
            }
    return sorted(forms, key=len, reverse=True)


def printable(text: str) -> str:
    """`text` with each character that is not printable escaped as Python writes it (`\\x00`, `\\u200b`), newlines
    kept: a report's text must not hold what a terminal acts on or an XML 1.0 document cannot hold (a NUL, a lone
    surrogate, U+FFFE), and the report's own lines, and those of what it quotes, are laid out with newlines."""
    if text.isprintable():  # nearly every text: nothing to look at one by one
        return text
    return "".join(char if char.isprintable() or char == "\n" else _escaped(char) for char in text)


def _escaped(char: str) -> str:
    return char.encode("unicode_escape").decode("ascii")


def _shown(finding: Finding, hidden: list[str]) -> Finding:
    """`finding` as every output shows it: each text redacted first (an escape inside a secret would hide it from
    redaction), then `printable`."""

    def shown(text: str) -> str:
        return printable(redact(text, hidden))

    # Every field, so that one added later is not shown raw: each is a text or a tuple of texts (`trace`).
    texts: dict[str, Any] = {
        name: shown(value) if isinstance(value, str) else tuple(shown(line) for line in value)
        for name, value in asdict(finding).items()
    }
    return Finding(**texts)


def _redacted(value: Any, hidden: list[str]) -> Any:
    if isinstance(value, str):
        return redact(value, hidden)
    if isinstance(value, dict):
        return {key: _redacted(item, hidden) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(item, hidden) for item in value]
    return value


def _escape_cell(text: str) -> str:
    return html.escape(text, quote=False).replace("|", "\\|")


def _cell(text: str, limit: int = CELL_LIMIT) -> str:
    """One Markdown table cell: on one line, at most `limit` characters, `|` and HTML escaped."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return _escape_cell(text)
