"""specs/stiply.yaml: it lints, it has every documented operation and rule, and every docs example is accounted for."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from openapi_spec_validator import validate

from esign_contracts.specs import load_contract
from esign_contracts.specs.contract import read_document

from .conftest import DOCS, ROOT

OPERATION_IDS = {
    "ping", "createSignRequest", "createSigner", "sendSignRequest", "getSignedDocument", "getProofDocument",
    "sendReminder", "extendTerm", "getSignRequestKey", "getSignRequest", "deleteSignRequest", "getSigner",
    "updateSigner", "deleteSigner",
}  # fmt: skip

CONTRACT = load_contract("stiply")


def test_the_spec_lints_clean_with_openapi_spec_validator() -> None:
    validate(read_document("stiply"))


def test_all_fourteen_documented_operations_are_there_with_stable_ids() -> None:
    assert {op.id for op in CONTRACT.operations} == OPERATION_IDS
    assert CONTRACT.base_url == "https://api.stiply.nl/v1"


@pytest.mark.parametrize("operation", CONTRACT.operations, ids=lambda op: op.id)
def test_every_operation_traces_to_the_docs_and_answers_401(operation: Any) -> None:
    assert operation.source.startswith("Stiply API v1 > ")
    assert 401 in operation.statuses
    assert operation.security == ("basicAuth",)


@pytest.mark.parametrize(
    "rule", [(op, p) for op in CONTRACT.operations for p in op.preconditions], ids=lambda r: f"{r[0].id}.{r[1].id}"
)
def test_every_precondition_has_a_status_the_operation_lists_and_undocumented_ones_say_why(rule: Any) -> None:
    operation, precondition = rule
    assert precondition.status in operation.statuses
    assert 400 <= precondition.status < 500
    if not precondition.documented:
        assert precondition.assumption, f"{operation.id}.{precondition.id} has no x-assumption"


def test_preconditions_follow_the_documented_order() -> None:
    def ids(operation_id: str) -> list[str]:
        return [p.id for p in CONTRACT.operation(operation_id).preconditions]

    assert ids("sendSignRequest") == ["sign_request_exists", "not_sent", "has_signer_with_signature_field"]
    assert ids("extendTerm") == ["sign_request_exists", "is_sent", "term_expired"]
    assert ids("deleteSigner") == ["sign_request_exists", "not_sent", "signer_exists"]
    assert ids("updateSigner") == ["sign_request_exists", "signer_exists", "signer_not_signed"]


def _examples(node: Any, pointer: str = "") -> list[tuple[str, Any, str]]:
    """(where, example value, pointer of the schema it must validate against) for every example in the spec."""
    found = []
    if isinstance(node, dict):
        if "schema" in node and isinstance(node.get("examples"), dict):
            for name, example in node["examples"].items():
                found.append((f"{pointer}/examples/{name}", example["value"], f"{pointer}/schema"))
        if "type" in node and isinstance(node.get("examples"), list):  # JSON Schema examples on a component
            for index, example in enumerate(node["examples"]):
                found.append((f"{pointer}/examples/{index}", example, pointer))
        for key, value in node.items():
            found += _examples(value, f"{pointer}/{key.replace('~', '~0').replace('/', '~1')}")
    return found


EXAMPLES = _examples(CONTRACT.document)


def test_the_spec_carries_the_documented_examples() -> None:
    documented = [where for where, _, _ in EXAMPLES if "/responses/200/" in where and where.endswith("/documented")]
    assert len(documented) == 14


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e[0])
def test_every_example_in_the_spec_validates_against_its_schema(example: Any) -> None:
    where, value, schema_pointer = example
    errors = list(CONTRACT.validator(schema_pointer).iter_errors(value))
    assert not errors, f"{where}: {errors[0].message}"


# -- every JSON example printed in the docs validates, or is a recorded erratum --------------------------------------


def _blocks(text: str) -> list[str]:
    """Top-level {...} blocks of the docs text."""
    blocks, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char == "{":
            depth, start = depth + 1, (index if depth == 0 else start)
        elif char == "}" and depth:
            depth -= 1
            if depth == 0:
                blocks.append(text[start : index + 1])
    return blocks


def _nodes(value: Any) -> list[Any]:
    nodes = [value]
    if isinstance(value, dict):
        for child in value.values():
            nodes += _nodes(child)
    elif isinstance(value, list):
        for child in value:
            nodes += _nodes(child)
    return nodes


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text.replace("\u00a0", " "))


DOCS_TEXT = (DOCS / "stiply-api-v1.txt").read_text(encoding="utf-8")
ERRATA = CONTRACT.document["x-errata"]
ERRATA_TEXT = [_squash(e["example_text"]) for e in ERRATA if "example_text" in e]
SPEC_NODES = [node for _, value, _ in EXAMPLES for node in _nodes(value)]
# {{signature1}} is a tag in a document and {sign_request_key} a placeholder in a URL, not JSON examples
DOC_BLOCKS = [b for b in _blocks(DOCS_TEXT) if not re.fullmatch(r"\{\{?\w+\}?\}", b)]


def test_the_docs_have_the_examples_we_expect_to_account_for() -> None:
    assert len(DOC_BLOCKS) >= 20


@pytest.mark.parametrize("block", DOC_BLOCKS, ids=lambda b: _squash(b)[:40])
def test_every_docs_example_is_in_the_spec_or_a_recorded_erratum(block: str) -> None:
    line = next(line for line in DOCS_TEXT.splitlines() if block.splitlines()[0] in line)
    try:
        value = json.loads(block.replace("\u00a0", " "))  # erratum response_examples_nbsp_indentation
    except json.JSONDecodeError:
        assert any(_squash(block) in text for text in ERRATA_TEXT), "invalid JSON in the docs with no erratum"
        return
    covered_by_erratum = any(_squash(line) in text for text in ERRATA_TEXT)
    assert value in SPEC_NODES or covered_by_erratum, "a docs example the spec does not carry"


@pytest.mark.parametrize("erratum", [e for e in ERRATA if "example_text" in e], ids=lambda e: e["id"])
def test_an_erratum_example_is_really_invalid_as_printed(erratum: dict[str, Any]) -> None:
    with pytest.raises(json.JSONDecodeError):
        json.loads(erratum["example_text"].replace("\u00a0", " "))


def test_the_string_width_erratum_is_accepted_as_the_docs_print_it() -> None:
    body = {"signer_email": "test@email.com", "signer_signature_fields": [{"name": "signature1", "width": "300"}]}
    assert not list(CONTRACT.validator("/components/schemas/CreateSignerRequest").iter_errors(body))


def test_the_vendored_docs_are_the_shared_docs_when_those_are_present() -> None:
    shared = ROOT.parent / "shared" / "provider-docs" / "stiply-api-v1.txt"
    if shared.exists():
        assert shared.read_text(encoding="utf-8") == DOCS_TEXT
    assert "Stiply API" in DOCS_TEXT
