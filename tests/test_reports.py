"""Reports as JSON and Markdown, the coverage table, and redaction of every output.

The reports are built by hand (findings, exercised and documented pairs, skipped reasons, secrets), so each
test states exactly what the report holds; one end-to-end test runs a short in-process check.
"""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET

import pytest

from esign_contracts.contracts.check import Budget, check
from esign_contracts.contracts.report import CoverageRow, Finding, Report, combined_json, combined_markdown

# Characters that JSON, XML and Markdown each escape, so a redaction done only after escaping would miss them.
SECRET = 'pa&ss|wo"rd<1>'
TOKEN = "eyJhbGciOi.tok3n.sig"
OTHER_SECRET = "another-provider-key-42"


def finding(operation: str, received: str, *, check: str = "status", rule: str = "Sign request must exist") -> Finding:
    return Finding(
        check=check,
        operation=operation,
        rule=rule,
        source="docs > Sign requests",
        request=f"POST /v1/sign_requests body={{}} Authorization: Bearer {TOKEN}",
        expected="404",
        received=received,
        reproduce="esign-contracts check stiply --seed 0",
    )


def stiply_report(**kwargs: object) -> Report:
    report = Report("stiply", "https://sandbox.example/v1", 7, secrets=[SECRET, TOKEN], **kwargs)  # type: ignore[arg-type]
    report.documented |= {
        ("createSigner", 200),
        ("createSigner", 403),
        ("createSigner", 404),
        ("sendSignRequest", 200),
        ("sendSignRequest", 403),
        ("getSignedDocument", 200),
    }
    report.exercised.update(
        {
            ("createSigner", 200): 5,
            ("createSigner", 404): 2,
            ("createSigner", 401): 1,
            ("sendSignRequest", 200): 3,
            ("sendSignRequest", 418): 1,
            ("control.sign", 0): 2,
        }
    )
    report.requests_sent = 14
    report.phases.append("model: 3 sequences of up to 10 steps, 14 requests")
    return report


def secret_report() -> Report:
    """A report whose findings carry the secrets everywhere a careless printer would show them."""
    report = stiply_report()
    report.add(
        Finding(
            check="status",
            operation="submitAjax",
            rule=f"the password {SECRET} is refused",
            source="docs > CustInfo",
            request=f"POST /sdd/b2b/SubmitAjax body=<CustInfo><UserId>u</UserId><Pswd>{SECRET}</Pswd></CustInfo>",
            expected=f"StatusCode 0 for {SECRET}",
            received=f"StatusCode 102 (<Pswd>{SECRET}</Pswd> refused)",
            reproduce=f"curl -X POST https://sandbox.example -H 'Authorization: Bearer {TOKEN}'\n  --data '{SECRET}'",
            trace=(f"GET /v1/ping?token={TOKEN} → 200",),
        )
    )
    report.skip(f"requests on existing resources: none given ({SECRET})")
    report.not_cleaned.append(f"sign_request {TOKEN} (500)")
    return report


def assert_hidden(text: str, *secrets: str) -> None:
    """Not in the text, nor in what a JSON, XML or Markdown reader makes of it."""
    readings = [text, html.unescape(text), html.unescape(text.replace("\\|", "|"))]
    for secret in secrets:
        for reading in readings:
            assert secret not in reading
        assert json.dumps(secret)[1:-1] not in text
        assert html.escape(secret) not in text


# -- JSON ------------------------------------------------------------------------------------------------------


def test_json_parses_and_has_every_field() -> None:
    report = stiply_report(remote=True, controls=["expire_term", "sign"])
    report.add(finding("createSigner", '200 {"data": {}}'))
    report.skip("control actions: not available against this remote target")
    report.not_cleaned.append("sign_request abc (500)")
    report.unsent = 2

    data = json.loads(report.json())

    assert data["provider"] == "stiply" and data["target"] == "https://sandbox.example/v1" and data["seed"] == 7
    assert data["ok"] is False and data["violations"] == 1 and data["remote"] is True
    assert data["requests_sent"] == 14 and data["unsent"] == 2
    assert data["phases"] == ["model: 3 sequences of up to 10 steps, 14 requests"]
    assert data["skipped"] == ["control actions: not available against this remote target"]
    assert data["not_cleaned"] == ["sign_request abc (500)"]
    assert data["controls"] == ["expire_term", "sign"]
    (found,) = data["findings"]
    assert set(found) == {
        "check",
        "operation",
        "rule",
        "source",
        "request",
        "expected",
        "received",
        "reproduce",
        "trace",
    }
    assert found["operation"] == "createSigner" and found["trace"] == []
    rows = {(row["operation"], row["status"]): row for row in data["coverage"]}
    assert set(rows) >= report.documented | set(report.exercised)
    assert set(rows[("createSigner", 200)]) == {"operation", "status", "exercised", "failed", "outcome", "reason"}
    assert data["coverage_summary"] == {"documented": 6, "reached": 3, "failed": 1}
    assert report.json().startswith('{\n  "provider"')  # indent 2


def test_a_conformant_report_is_ok_in_json() -> None:
    data = json.loads(stiply_report().json())
    assert data["ok"] is True and data["findings"] == [] and data["violations"] == 0


# -- redaction -------------------------------------------------------------------------------------------------


def test_no_secret_appears_in_any_output() -> None:
    report = secret_report()
    outputs = {
        "render": report.render(),
        "junit_xml": report.junit_xml(),
        "json": report.json(),
        "markdown": report.markdown(),
        "combined_json": combined_json([report]),
        "combined_markdown": combined_markdown([report]),
    }
    for name, text in outputs.items():
        assert "[redacted]" in text, name
        assert_hidden(text, SECRET, TOKEN)
    # What a reader parses out of each format holds no secret either.
    suite = ET.fromstring(outputs["junit_xml"])
    parsed_xml = " ".join(
        [*(e.text or "" for e in suite.iter()), *(v for e in suite.iter() for v in e.attrib.values())]
    )
    assert SECRET not in parsed_xml and TOKEN not in parsed_xml and "<Pswd>[redacted]</Pswd>" in parsed_xml
    parsed_json = json.dumps(json.loads(outputs["json"]), ensure_ascii=False)
    assert SECRET not in parsed_json and TOKEN not in parsed_json
    assert SECRET not in json.dumps(report.to_dict(), ensure_ascii=False)  # the dict itself is redacted too


def test_a_secret_cut_by_a_markdown_cell_limit_does_not_leak_in_part() -> None:
    report = stiply_report()
    long_secret = "S" * 20 + "-very-long-secret-value"
    report.secrets.append(long_secret)
    report.add(finding("createSigner", "404 " + "x" * 150 + long_secret))
    text = report.markdown()
    assert "SSSSSSSSSS" not in text and "very-long" not in text


# -- coverage --------------------------------------------------------------------------------------------------


def rows_of(report: Report) -> dict[tuple[str, int], CoverageRow]:
    return {(row.operation, row.status): row for row in report.coverage()}


def test_coverage_marks_exercised_failed_and_not_reached() -> None:
    report = stiply_report()
    report.add(finding("createSigner", '200 {"data": {"key": "k"}}'))
    report.add(finding("createSigner", '200 {"data": {"key": "k2"}}', rule="Sign request must not be sent"))
    rows = rows_of(report)

    assert set(rows) == report.documented | set(report.exercised)
    assert rows[("createSigner", 200)] == CoverageRow(
        "createSigner",
        200,
        5,
        2,
        "failed",
        "status: Sign request must exist; status: Sign request must not be sent",
    )
    assert rows[("createSigner", 404)] == CoverageRow("createSigner", 404, 2, 0, "exercised", "")
    assert rows[("sendSignRequest", 403)].outcome == "not reached"
    assert rows[("sendSignRequest", 403)].exercised == 0 and rows[("sendSignRequest", 403)].failed == 0
    assert rows[("getSignedDocument", 200)].outcome == "not reached"


def test_coverage_marks_what_the_docs_do_not_list() -> None:
    rows = rows_of(stiply_report())
    teapot = rows[("sendSignRequest", 418)]
    assert teapot.outcome == "exercised" and "not" in teapot.reason and "documented" in teapot.reason
    assert "401" in rows[("createSigner", 401)].reason
    control = rows[("control.sign", 0)]
    assert control.outcome == "exercised" and "control action" in control.reason
    assert list(rows)[-1] == ("control.sign", 0)  # control actions after the requests


def test_not_reached_against_a_remote_target_with_control_actions_names_them_and_hedges() -> None:
    report = stiply_report(remote=True, controls=["expire_term", "sign"])
    reason = rows_of(report)[("getSignedDocument", 200)].reason
    assert reason.startswith("may need a state only the provider's UI or time can make")
    assert "(control actions: expire_term, sign)" in reason
    assert "not available against this target" in reason
    assert "raise --sequences" in reason  # it may also just not have been drawn


@pytest.mark.parametrize(
    "remote, controls", [(False, ["expire_term", "sign"]), (True, []), (False, [])], ids=["mock", "no-controls", "bare"]
)
def test_not_reached_in_process_or_without_control_actions_is_the_budget(remote: bool, controls: list[str]) -> None:
    report = stiply_report(remote=remote, controls=controls)
    reason = rows_of(report)[("getSignedDocument", 200)].reason
    assert reason == "not drawn within this run's budget (raise --sequences)"


def test_findings_are_counted_under_the_status_they_name() -> None:
    report = stiply_report()
    report.exercised.update({("SubmitAjax", 2): 3, ("Transaction_Suspend", 1): 1, ("submitAjax", 200): 4})
    report.documented |= {("SubmitAjax", 0), ("SubmitAjax", 2), ("Transaction_Suspend", 1), ("submitAjax", 200)}
    # SIGNiX: the whole answer's StatusCode, and one request's responseCode, named in the rule.
    report.add(finding("submitAjax", "StatusCode 2 (Invalid request)", rule="Transaction must exist"))
    report.add(finding("submitAjax", "responseCode 1 (warning)", rule="request 2 (Transaction_Suspend)"))
    # No status named: a model finding goes under the most exercised 2xx of its operation.
    report.add(finding("sendSignRequest", "body['data']['status']: 'sent' != 'open'", check="model", rule="effects"))
    # Schemathesis names a status in some messages, none in others; a request with no answer has none.
    report.add(finding("createSigner", "Received: 500 Documented: 200, 404", check="schemathesis: Undocumented"))
    report.add(finding("createSigner", "", check="schemathesis: Server error", rule="Server error"))
    report.add(finding("createSigner", "connection refused", check="no answer", rule="the target answers"))
    # The oracle's response schema check names the status in its rule.
    report.add(
        finding("createSigner", "1 is not a string", check="response schema", rule="the documented 404 response")
    )

    rows = rows_of(report)

    assert rows[("SubmitAjax", 2)].failed == 1 and rows[("SubmitAjax", 2)].outcome == "failed"
    assert rows[("Transaction_Suspend", 1)].failed == 1
    assert rows[("submitAjax", 200)].failed == 0
    assert rows[("sendSignRequest", 200)].failed == 1 and "model: effects" in rows[("sendSignRequest", 200)].reason
    undocumented = rows[("createSigner", 500)]
    assert (undocumented.exercised, undocumented.failed, undocumented.outcome) == (0, 1, "failed")
    assert "documented" in undocumented.reason
    assert rows[("createSigner", 404)].failed == 1
    assert rows[("createSigner", 200)].failed == 0  # neither the Server error nor the missing answer is guessed
    assert sum(row.failed for row in rows.values()) == len(report.findings) - 2


# -- Markdown --------------------------------------------------------------------------------------------------


def test_markdown_has_the_heading_findings_coverage_skipped_and_reproduce_line() -> None:
    report = stiply_report(remote=True, controls=["sign"])
    report.add(finding("createSigner", '200 {"data": {}}'))
    report.skip("control actions (sign): not available against this remote target")
    text = report.markdown()

    assert text.startswith("### esign-contracts check stiply — 1 violation(s)\n")
    assert "https://sandbox.example/v1 · seed 7" in text
    assert "| operation | check | rule | expected | received |" in text
    assert "| createSigner | status | Sign request must exist | 404 |" in text
    assert "| operation | status | exercised | outcome | reason |" in text
    assert "| createSigner | 200 | 5 | failed | status: Sign request must exist |" in text
    assert "| getSignedDocument | 200 | 0 | not reached | may need a state" in text
    assert "(control actions: sign), not available against this target; otherwise not drawn within this run's " in text
    assert "budget (raise --sequences) |" in text  # the reason is not cut short
    assert "| control.sign | — | 2 | exercised |" in text
    assert "- control actions (sign): not available against this remote target" in text
    assert "```sh\nesign-contracts check stiply --seed 0\n```" in text
    assert stiply_report().markdown().startswith("### esign-contracts check stiply — conformant\n")


def test_markdown_escapes_pipes_and_newlines_and_truncates_long_cells() -> None:
    report = stiply_report()
    report.add(finding("createSigner", "404 " + "y" * 400, rule="one | two\nthree"))
    text = report.markdown()
    row = next(line for line in text.splitlines() if line.startswith("| createSigner | status"))
    assert "one \\| two three" in row
    assert row.count(" | ") == 4  # five cells: no stray separator from the rule
    received = row.rsplit(" | ", 1)[1].rstrip(" |")
    assert received.endswith("…") and len(received) == 160


def test_markdown_fences_a_reproduce_line_that_holds_backticks() -> None:
    report = stiply_report()
    report.add(
        Finding("status", "ping", "r", "s", "GET /ping", "200", "404 {}", reproduce="echo ```nested```\n  curl x")
    )
    text = report.markdown()
    assert "````sh\necho ```nested```\ncurl x\n````" in text


# -- several providers -----------------------------------------------------------------------------------------


def test_combined_json_and_markdown_cover_several_reports() -> None:
    failing = secret_report()
    other = Report("okdokument", "https://apidev.example", 7, secrets=[OTHER_SECRET])
    other.documented.add(("createSignatureRequest", 200))
    other.exercised[("createSignatureRequest", 200)] = 1
    other.phases.append(f"schemathesis: key {OTHER_SECRET}")

    data = json.loads(combined_json([failing, other]))
    assert data["ok"] is False
    assert [r["provider"] for r in data["reports"]] == ["stiply", "okdokument"]
    assert data["reports"][1]["ok"] is True and data["reports"][1]["coverage"][0]["outcome"] == "exercised"
    assert json.loads(combined_json([other]))["ok"] is True

    text = combined_markdown([failing, other])
    assert "### esign-contracts check stiply — 1 violation(s)" in text
    assert "### esign-contracts check okdokument — conformant" in text
    assert text.index("check stiply") < text.index("check okdokument")
    for output in (combined_json([failing, other]), text):
        assert_hidden(output, SECRET, TOKEN, OTHER_SECRET)


# -- end to end ------------------------------------------------------------------------------------------------


def test_a_real_check_gives_json_markdown_and_a_row_for_every_documented_outcome() -> None:
    report = check("okdokument", seed=0, budget=Budget(examples=2, sequences=3, steps=10))

    data = json.loads(report.json())
    assert data["provider"] == "okdokument" and data["ok"] is report.ok
    assert data["requests_sent"] == report.requests_sent > 0
    rows = {(row["operation"], row["status"]) for row in data["coverage"]}
    assert report.documented and rows >= report.documented
    assert {(r.operation, r.status) for r in report.coverage()} >= report.documented
    reached = [r for r in report.coverage() if r.outcome == "exercised"]
    assert reached and all(r.exercised > 0 for r in reached)
    text = report.markdown()
    assert text.startswith("### esign-contracts check okdokument — ")
    assert "| operation | status | exercised | outcome | reason |" in text
    for operation, status in report.documented:
        assert f"| {operation} | {status} |" in text
    assert_hidden(report.json() + text, *report.secrets)


def test_the_coverage_has_a_row_per_operation_model_state_and_documented_status() -> None:
    from esign_contracts.contracts.check import Budget, check
    from esign_contracts.specs import load_contract

    report = check("stiply", seed=0, budget=Budget(examples=2, sequences=10, steps=30))
    rows = {(r.operation, r.state, r.status): r for r in report.state_coverage()}
    for operation in load_contract("stiply").operations:
        for precondition in operation.preconditions:
            assert (operation.id, precondition.id, precondition.status) in rows
    # a precondition the model phase certainly reaches: a signer added after the sign request was sent
    assert rows[("createSigner", "not_sent", 403)].outcome == "exercised"
    assert rows[("createSignRequest", "every rule holds", 200)].exercised > 0
    data = json.loads(report.json())
    assert {"operation", "state", "status", "outcome", "reason"} <= set(data["state_coverage"][0])
    assert "| model state |" in report.markdown()
