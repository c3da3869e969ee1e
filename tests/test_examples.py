"""The CI examples in examples/: they parse, their `esign-contracts check` lines are accepted by the real
command-line parser, they keep the reports whatever the outcome, and they hold no credential."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from esign_contracts.contracts.cli import _parser
from esign_contracts.specs.providers import PROVIDER_MODULES

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
GITHUB, GITLAB = EXAMPLES / "github-actions.yml", EXAMPLES / "gitlab-ci.yml"
FILES = [GITHUB, GITLAB]
# The credential variables of the providers the examples check (README section 2); a base URL and
# SIGNIX_TRANSACTIONS are not secret.
CREDENTIAL = re.compile(r"^(STIPLY_(USERNAME|PASSWORD)|SIGNIX_(SPONSOR|CLIENT|USER_ID|PASSWORD))$")
CREDENTIAL_WORD = re.compile(r"\b(?:STIPLY_(?:USERNAME|PASSWORD)|SIGNIX_(?:SPONSOR|CLIENT|USER_ID|PASSWORD))\b")
SHELL_OPERATORS = {"||", "&&", ";", "|", ">", ">>", "2>&1"}


def from_secrets(name: str) -> str:
    return "${{ secrets." + name + " }}"


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from strings(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)


def mappings(node: Any) -> Iterator[tuple[Any, Any]]:
    """Every (key, value) of every mapping in the document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from mappings(value)
    elif isinstance(node, list):
        for item in node:
            yield from mappings(item)


def substitute(line: str) -> str:
    """Shell and CI variables replaced by values of their kind, as the runner would."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return "https://sandbox.example/v1" if name.endswith("BASE_URL") else "value"

    line = re.sub(r"\$\{\{\s*[\w.]+\s*\}\}", "value", line)  # GitHub expressions
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, line)


def check_commands(path: Path) -> list[list[str]]:
    """Each `esign-contracts check` command in the file's scripts, as the words after `esign-contracts`."""
    commands = []
    for text in strings(load(path)):
        script = re.sub(r"\\\n\s*", " ", text)  # line continuations
        for line in script.splitlines():
            line = line.strip()
            if not line.startswith("esign-contracts check"):
                continue
            words = shlex.split(substitute(line))
            end = next((i for i, word in enumerate(words) if word in SHELL_OPERATORS), len(words))
            commands.append(words[1:end])
    return commands


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_example_parses_as_yaml(path: Path) -> None:
    assert isinstance(load(path), dict)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_check_line_is_accepted_by_the_real_parser(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commands = check_commands(path)
    assert len(commands) >= 2, "a Stiply job and a second provider's"
    providers = set()
    for words in commands:
        try:
            args = _parser().parse_args(words)
        except SystemExit:
            pytest.fail(f"{path.name}: esign-contracts {' '.join(words)}\n{capsys.readouterr().err}")
        assert args.command == "check"
        (provider,) = args.provider
        assert provider in PROVIDER_MODULES
        providers.add(provider)
        assert args.base_url == "https://sandbox.example/v1"
        for flag in ("live", "max_requests", "rate", "junit_xml", "json", "markdown"):
            assert getattr(args, flag, None), f"{path.name}: {provider} without --{flag.replace('_', '-')}"
        for report, suffix in ((args.junit_xml, ".xml"), (args.json, ".json"), (args.markdown, ".md")):
            assert str(report) == f"reports/{provider}{suffix}"
    assert {"stiply", "signix"} <= providers


def test_the_stiply_line_is_the_documented_one() -> None:
    expected = (
        'esign-contracts check stiply --base-url "$STIPLY_BASE_URL" --live --max-requests 300 --rate 2 '
        "--junit-xml reports/stiply.xml --json reports/stiply.json --markdown reports/stiply.md"
    )
    for path in FILES:
        assert expected in path.read_text(encoding="utf-8"), path.name


def test_github_takes_credentials_from_secrets_and_keeps_reports_whatever_the_outcome() -> None:
    workflow = load(GITHUB)
    jobs = workflow["jobs"]
    assert set(jobs) >= {"stiply", "signix"}
    for name, job in jobs.items():
        env = {**workflow.get("env", {}), **job.get("env", {})}
        needed = [key for key in env if CREDENTIAL.match(key)]
        assert len(needed) >= 2, name
        steps = job["steps"]
        check = next(i for i, step in enumerate(steps) if "esign-contracts check" in step.get("run", ""))
        after = steps[check + 1 :]
        summary = [s for s in after if "$GITHUB_STEP_SUMMARY" in s.get("run", "")]
        upload = [s for s in after if str(s.get("uses", "")).startswith("actions/upload-artifact@")]
        assert summary and all(s.get("if") == "always()" for s in summary), name
        assert upload and all(s.get("if") == "always()" for s in upload), name
        assert upload[0]["with"]["path"] == "reports/"
        # the check step's script ends with the tool's own exit code: 1 and 2 fail the job
        assert steps[check]["run"].rstrip().endswith('exit "$status"')


def test_gitlab_keeps_reports_and_junit_whatever_the_outcome() -> None:
    pipeline = load(GITLAB)
    jobs = {name: job for name, job in pipeline.items() if isinstance(job, dict) and "script" in job}
    assert set(jobs) >= {"stiply-contract", "signix-contract"}
    template = pipeline[".esign-contracts"]
    for name, job in jobs.items():
        artifacts = {**template["artifacts"], **job.get("artifacts", {})}
        assert artifacts["when"] == "always", name
        assert artifacts["reports"]["junit"] == "reports/*.xml"
        assert "reports/" in artifacts["paths"]
        assert job["extends"] == ".esign-contracts"
        assert "".join(job["script"]).rstrip().endswith('exit "$status"')


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_no_credential_is_written_in_the_example(path: Path) -> None:
    document = load(path)
    for key, value in mappings(document):
        if isinstance(key, str) and CREDENTIAL.match(key):
            # GitHub: only from the secret store; GitLab: CI/CD variables reach the job without being named.
            assert path == GITHUB and value == from_secrets(key), f"{path.name}: {key}: {value!r}"
    text = path.read_text(encoding="utf-8")
    for line in text.splitlines():
        code = line.split(" #", 1)[0] if not line.lstrip().startswith("#") else ""
        for match in CREDENTIAL_WORD.finditer(code):
            rest = code[match.end() :]
            assignment = re.match(r"\s*(=|:)\s*(\S.*)?$", rest)
            if assignment and assignment.group(2):
                assert assignment.group(2) == from_secrets(match.group(0)), f"{path.name}: {line.strip()}"
    # no secrets in the command line either: credentials go through the environment, never as arguments
    for words in check_commands(path):
        assert not any(CREDENTIAL_WORD.search(word) for word in words)
