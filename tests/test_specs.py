"""Every spec in specs/: it lints, every rule traces to the docs, and every docs example is accounted for.

A provider's own expectations (its operations, its documented order of rules) are in test_spec_<provider>.py.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from openapi_spec_validator import validate

from esign_contracts.specs import load_contract
from esign_contracts.specs.contract import deref, read_document

from .conftest import DOCS, ROOT

# specs/<name>.yaml, or specs/<name>/<name>.yaml for a provider with several files (SIGNiX)
SPECS = sorted(
    [path.stem for path in (ROOT / "specs").glob("*.yaml")]
    + [path.stem for path in (ROOT / "specs").glob("*/*.yaml") if path.stem == path.parent.name]
)


def test_there_is_a_spec_per_provider_at_least_stiply() -> None:
    assert "stiply" in SPECS


@pytest.mark.parametrize("name", SPECS)
def test_the_spec_lints_clean_with_openapi_spec_validator(name: str) -> None:
    validate(read_document(name))


@pytest.mark.parametrize("name", SPECS)
def test_the_spec_records_its_sources_assumptions_and_errata(name: str) -> None:
    document = load_contract(name).document
    assert document.get("x-source"), "no x-source at document level"
    for key in ("x-assumptions", "x-errata"):
        for item in document.get(key, []):
            assert item.get("id"), f"{key} entry without an id"
    for erratum in document.get("x-errata", []):
        assert {"where", "docs_say", "we_do", "why"} <= set(erratum), f"erratum {erratum['id']} is incomplete"
    ids = [item["id"] for key in ("x-assumptions", "x-errata") for item in document.get(key, [])]
    assert len(ids) == len(set(ids)), "two assumptions or errata share an id"


def _operations() -> list[tuple[str, Any]]:
    return [(name, op) for name in SPECS for op in load_contract(name).operations]


@pytest.mark.parametrize("item", _operations(), ids=lambda i: f"{i[0]}.{i[1].id}")
def test_every_operation_traces_to_the_docs_and_documents_its_statuses(item: Any) -> None:
    _, operation = item
    assert operation.source, f"{operation.id} has no x-source"
    assert any(200 <= s < 300 for s in operation.statuses), f"{operation.id} documents no success"
    if operation.security:
        assert 401 in operation.statuses, f"{operation.id} needs credentials but lists no 401"


def _rules() -> list[tuple[str, Any, Any]]:
    return [(name, op, p) for name, op in _operations() for p in op.preconditions]


@pytest.mark.parametrize("rule", _rules(), ids=lambda r: f"{r[0]}.{r[1].id}.{r[2].id}")
def test_every_precondition_has_a_status_the_operation_lists_and_undocumented_ones_say_why(rule: Any) -> None:
    _, operation, precondition = rule
    assert precondition.status in operation.statuses
    assert 400 <= precondition.status < 500
    if not precondition.documented:
        assert precondition.assumption, f"{operation.id}.{precondition.id} has no x-assumption"


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


EXAMPLES = {name: _examples(load_contract(name).document) for name in SPECS}


@pytest.mark.parametrize(
    "example", [(name, e) for name in SPECS for e in EXAMPLES[name]], ids=lambda e: f"{e[0]}:{e[1][0]}"
)
def test_every_example_in_the_spec_validates_against_its_schema(example: Any) -> None:
    name, (where, value, schema_pointer) = example
    errors = list(load_contract(name).validator(schema_pointer).iter_errors(value))
    assert not errors, f"{where}: {errors[0].message}"


# -- every JSON example printed in the docs validates, or is a recorded erratum --------------------------------------


def _blocks(text: str) -> list[str]:
    """Top-level {...} blocks of the docs text that hold a key: value pair (not a {placeholder})."""
    blocks, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char == "{":
            depth, start = depth + 1, (index if depth == 0 else start)
        elif char == "}" and depth:
            depth -= 1
            if depth == 0:
                blocks.append(text[start : index + 1])
    return [b for b in blocks if ":" in b and not re.fullmatch(r"\{\{?\w+\}?\}", b)]


def _nodes(value: Any) -> list[Any]:
    nodes = [value]
    if isinstance(value, dict):
        for child in value.values():
            nodes += _nodes(child)
    elif isinstance(value, list):
        for child in value:
            nodes += _nodes(child)
    return nodes


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text.replace("\u00a0", " "))


def docs_files(name: str) -> list[str]:
    """The files of provider-docs/ a spec names in its x-source (vendored in tests/data/provider-docs/)."""
    sources = load_contract(name).document.get("x-source", [])
    sources = sources if isinstance(sources, list) else [sources]
    return [m.group(1) for s in sources for m in [re.match(r"provider-docs/(\S+)", str(s))] if m]


def _doc_blocks() -> list[tuple[str, str, str]]:
    # SIGNiX's JSON requests are printed inside XML envelopes: tests/test_spec_signix.py accounts for each one
    # against its JSON Schema and the XSD.
    return [
        (name, file, block)
        for name in SPECS
        if "x-ajax" not in load_contract(name).document
        for file in docs_files(name)
        for block in _blocks((DOCS / file).read_text(encoding="utf-8"))
    ]


@pytest.mark.parametrize("name", SPECS)
def test_every_spec_is_built_from_vendored_docs_equal_to_the_shared_ones(name: str) -> None:
    files = docs_files(name)
    assert files, f"{name}: x-source names no provider-docs/ file"
    for file in files:
        text = (DOCS / file).read_text(encoding="utf-8")
        shared = ROOT.parent / "shared" / "provider-docs" / file
        if shared.exists():
            assert shared.read_text(encoding="utf-8") == text, f"{file} differs from ../shared"


@pytest.mark.parametrize("item", _doc_blocks(), ids=lambda i: f"{i[0]}:{squash(i[2])[:40]}")
def test_every_docs_example_is_in_the_spec_or_a_recorded_erratum(item: tuple[str, str, str]) -> None:
    name, file, block = item
    document = load_contract(name).document
    errata = [squash(e["example_text"]) for e in document.get("x-errata", []) if "example_text" in e]
    text = (DOCS / file).read_text(encoding="utf-8")
    line = next(line for line in text.splitlines() if block.splitlines()[0] in line)
    try:
        value = json.loads(block.replace("\u00a0", " "))
    except json.JSONDecodeError:
        assert any(squash(block) in erratum for erratum in errata), "invalid JSON in the docs with no erratum"
        return
    nodes = [node for _, example, _ in EXAMPLES[name] for node in _nodes(example)]
    covered_by_erratum = any(squash(line) in erratum for erratum in errata)
    assert value in nodes or covered_by_erratum, "a docs example the spec does not carry"


@pytest.mark.parametrize(
    "erratum",
    [(name, e) for name in SPECS for e in load_contract(name).document.get("x-errata", []) if "example_text" in e],
    ids=lambda e: f"{e[0]}.{e[1]['id']}",
)
def test_an_erratum_example_is_really_invalid_or_differs_from_the_spec(erratum: tuple[str, dict[str, Any]]) -> None:
    name, entry = erratum
    try:
        value = json.loads(entry["example_text"].replace("\u00a0", " "))
    except json.JSONDecodeError:
        return
    nodes = [node for _, example, _ in EXAMPLES[name] for node in _nodes(example)]
    assert value not in nodes, f"{entry['id']}: the example is valid and carried by the spec, so it is no erratum"


def _token_schemes() -> list[tuple[str, str, dict[str, Any]]]:
    return [(name, scheme, spec) for name in SPECS for scheme, spec in load_contract(name).token_schemes().items()]


@pytest.mark.parametrize("item", _token_schemes(), ids=lambda i: f"{i[0]}.{i[1]}")
def test_a_token_lifetime_is_the_jwt_exp_or_a_number_the_token_answer_documents(
    item: tuple[str, str, dict[str, Any]],
) -> None:
    """x-token.lifetime (specs/CONVENTIONS.md) points at a field the token operation's 2xx answer declares a
    number, or names a JWT's exp claim on a scheme whose bearerFormat is JWT."""
    name, scheme, spec = item
    contract = load_contract(name)
    lifetime = spec.get("lifetime")
    if lifetime is None:
        return
    if lifetime == "jwt:exp":
        assert contract.security_schemes()[scheme].get("bearerFormat") == "JWT"
        return
    operation = contract.operation(spec["operationId"])
    schemas = [
        media["schema"]
        for status, response in operation.raw["responses"].items()
        if str(status).startswith("2")
        for media in deref(contract.document, response).get("content", {}).values()
    ]
    assert schemas, f"{operation.id} documents no 2xx body"
    for schema in schemas:
        node = deref(contract.document, schema)
        for part in lifetime.strip("/").split("/"):
            node = deref(contract.document, node["properties"][part])
        assert node["type"] in ("integer", "number"), f"{lifetime} in {operation.id}'s answer is not a number"
