"""What a finding quotes from a target or a generator (a NUL, a zero-width space, bytes that are not UTF-8) shows
escaped in every output, the JUnit file always parses, and the reproduce line is exact and pasteable for any body.
"""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from esign_contracts.contracts.oracle import Oracle
from esign_contracts.contracts.report import Finding, Report
from esign_contracts.contracts.stateless import _finding
from esign_contracts.contracts.target import HttpTarget
from esign_contracts.mocks import Request

UNPRINTABLE = "\x00\x1b[31m\x7f\u200b\ufffe\ud800\r\t\x0c"
ESCAPED = "\\x00\\x1b[31m\\x7f\\u200b\\ufffe\\ud800\\r\\t\\x0c"
# A shell `curl` that prints the bytes it would send: its stdin for `--data-binary @-`, else the argument.
FAKE_CURL = (
    'curl() { while [ "$#" -gt 0 ]; do if [ "$1" = --data-binary ]; then '
    'if [ "$2" = @- ]; then cat; else printf %s "$2"; fi; fi; shift; done; }\n'
)


def quoting(text: str, reproduce: str = "esign-contracts check trustedx --seed 0") -> Finding:
    return Finding(
        check="server error",
        operation="createSignerProcess",
        rule=f"rule {text}",
        source="docs",
        request=f"POST /signer_processes body={text}",
        expected="401",
        received=f"503 {text}",
        reproduce=reproduce,
        trace=(f"GET /x{text} → 200",),
    )


def outputs(report: Report) -> dict[str, str]:
    return {"text": report.render(), "markdown": report.markdown(), "json": report.json(), "junit": report.junit_xml()}


def assert_only_printable(text: str) -> None:
    assert all(char.isprintable() or char == "\n" for char in text), ascii(text)


def test_every_output_escapes_what_a_finding_quotes_and_keeps_the_reproduce_lines() -> None:
    report = Report("trustedx", "http://127.0.0.1:1", 0)
    report.add(quoting(UNPRINTABLE, reproduce="esign-contracts check trustedx\n              curl -X POST x"))
    report.skip(f"a reason quoting the target: {UNPRINTABLE}")

    for name, text in outputs(report).items():
        assert_only_printable(text)
        assert "\\x00" in text and "\\u200b" in text, name
    assert f"received:   503 {ESCAPED}\n" in report.render()
    assert "reproduce:  esign-contracts check trustedx\n              curl -X POST x" in report.render()
    assert "```sh\nesign-contracts check trustedx\ncurl -X POST x\n```" in report.markdown()
    (found,) = json.loads(report.json())["findings"]
    assert found["received"] == f"503 {ESCAPED}" and found["trace"] == [f"GET /x{ESCAPED} → 200"]
    failure = ET.fromstring(report.junit_xml()).find("testcase/failure")
    assert failure is not None and f"received 503 {ESCAPED}" in failure.attrib["message"]


@given(st.text(), st.text())
def test_the_junit_file_parses_whatever_a_finding_and_a_reason_quote(quoted: str, reason: str) -> None:
    report = Report("trustedx", "http://127.0.0.1:1", 0)
    report.add(quoting(quoted))
    report.skip(reason)
    ET.fromstring(report.junit_xml())
    for text in outputs(report).values():
        assert_only_printable(text)


def test_a_secret_holding_unprintable_characters_is_redacted_before_it_is_escaped() -> None:
    secret = "pa\x00ss\u200bword"
    report = Report("trustedx", "http://127.0.0.1:1", 0, secrets=[secret])
    report.add(quoting(f"{secret} \x00"))
    late = "late\x1btoken"  # a secret the run learns after a finding that quotes it was added
    report.add(quoting(late))
    report.secrets.append(late)
    for name, text in outputs(report).items():
        read = text.replace("\\\\", "\\") if name == "json" else text  # (JSON doubles each backslash)
        assert "[redacted] \\x00" in read, name  # the rest is escaped
        for part in ("pa\\x00ss", "ss\\u200bwo", "late\\x1b", "x1btoken"):
            assert part not in read, (name, part)


def test_a_schemathesis_body_is_redacted_before_it_is_cut() -> None:
    secret = "S3cret-" + "x" * 40
    case = SimpleNamespace(method="POST", formatted_path="/p", body={"k": "a" * 180 + secret})  # straddles the cut
    operation = SimpleNamespace(id="op", source="docs")
    found = _finding(operation, "Server error", case, "boom", "", [secret])  # type: ignore[arg-type]
    assert "S3cret" not in found.request and "[redacted]" in found.request


def test_a_model_finding_redacts_the_request_body_before_it_is_cut() -> None:
    """`Request.describe` shows the first 300 characters of a body: a secret across that cut, redacted only after,
    left its first part in the report."""
    secret = "S3cret-" + "x" * 40
    report = Report("trustedx", "http://127.0.0.1:1", 0, secrets=[secret])
    oracle = Oracle("trustedx", HttpTarget("http://127.0.0.1:1", "/trustedx-resources"), {}, report)
    body = json.dumps({"k": "a" * 250, "details": secret}).encode()  # the secret runs from 272 to 319
    request = Request.from_url("PUT", "/trustedx-resources/esignsp/v2/signer_processes/p/result", body=body)
    request.headers["Content-Type"] = "application/json"
    oracle._find(oracle.engine.evaluate(request), "status", "rule", "200", "500")
    (finding,) = report.findings.values()
    assert "S3cret" not in finding.request and "[redacted]" in finding.request


# -- the reproduce line --------------------------------------------------------------------------------------


def reproduce_line(body: bytes, secrets: list[str] | None = None) -> str:
    report = Report("trustedx", "http://127.0.0.1:1", 0, secrets=secrets or [])
    oracle = Oracle("trustedx", HttpTarget("http://127.0.0.1:1", "/trustedx-resources"), {}, report)
    request = Request.from_url("POST", "/trustedx-resources/esignsp/v2/signer_processes", body=body)
    request.headers["Content-Type"] = "application/json"
    return oracle._reproduce(request)


def sent_by(line: str) -> bytes:
    """The bytes the line gives curl to send, with `curl` a shell function: no network."""
    return subprocess.run(["sh", "-c", FAKE_CURL + line], capture_output=True, check=True, timeout=10).stdout


@given(st.binary(min_size=1))
def test_the_reproduce_line_sends_exactly_the_body(body: bytes) -> None:
    line = reproduce_line(body)
    assert "\n" not in line and "\x00" not in line
    assert sent_by(line) == body


def test_a_body_that_is_not_plain_text_is_piped_from_printf() -> None:
    line = reproduce_line(b"-\x00%s\\n'1\xff")
    assert line.startswith("printf '\\055\\000%%s\\\\n\\0471\\377' | curl -X POST ")
    assert line.endswith(" --data-binary @-")
    assert reproduce_line(b"@/etc/passwd").startswith("printf '@/etc/passwd' | curl ")  # not a file for curl


def test_a_plain_text_body_keeps_its_argument_with_a_secret_redacted_before_it_is_quoted() -> None:
    line = reproduce_line(b'{"name": "it\'s", "password": "it\'s-s3cret"}', ["it's-s3cret"])
    assert line.startswith("curl -X POST ")
    assert line.endswith(""" --data-binary '{"name": "it'"'"'s", "password": "[redacted]"}'""")


def test_a_secret_in_a_piped_body_is_redacted_not_escaped_out_of_sight() -> None:
    secret = "pä%'ss"
    line = reproduce_line(b"\x00" + secret.encode() + b"\xff", [secret])
    assert sent_by(line) == b"\x00[redacted]\xff"
