"""specs/trustedx.yaml: the documented operation and the lifecycle from the notes, their rules, and each decision."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from esign_contracts.specs import load_contract

from .conftest import DOCS
from .test_specs import EXAMPLES as ALL_EXAMPLES
from .test_specs import _blocks, squash

CONTRACT = load_contract("trustedx")
DOCUMENT = CONTRACT.document
SCOPE = "urn:safelayer:eidas:sign:process:document"
PROCESSES = "/trustedx-resources/esignsp/v2/signer_processes"
OPERATIONS = {
    "requestToken": ("POST", "/trustedx-authserver/oauth/main-as/token"),
    "createSignerProcess": ("POST", PROCESSES),
    "getSignerProcess": ("GET", PROCESSES + "/{signature_process_id}"),
    "deleteSignerProcess": ("DELETE", PROCESSES + "/{signature_process_id}"),
    "setSignerProcessResult": ("PUT", PROCESSES + "/{signature_process_id}/result"),
    "getSignerProcessResult": ("GET", PROCESSES + "/{signature_process_id}/result"),
}
SIGNER_PROCESS_OPERATIONS = sorted(set(OPERATIONS) - {"requestToken"})


def rules(operation_id: str) -> list[tuple[str, int, bool, str | None]]:
    return [(p.id, p.status, p.documented, p.code) for p in CONTRACT.operation(operation_id).preconditions]


def test_the_operations_have_stable_ids_methods_and_full_paths() -> None:
    assert {op.id: (op.method, op.path) for op in CONTRACT.operations} == OPERATIONS


def test_the_host_is_a_server_variable_with_a_reserved_example_default() -> None:
    (server,) = DOCUMENT["servers"]
    assert server["url"] == "https://{host}"
    assert server["variables"]["host"]["default"] == "trustedx.example"
    assert CONTRACT.base_url == "https://trustedx.example"
    assert "host" in {a["id"] for a in DOCUMENT["x-assumptions"]}


def test_the_documented_put_traces_to_the_docs_and_the_rest_to_the_notes() -> None:
    assert CONTRACT.operation("setSignerProcessResult").source == "TrustedX eSignSP v2 > SignerProcessResultUpdate"
    for operation in CONTRACT.operations:
        if operation.id != "setSignerProcessResult":
            assert operation.source.startswith("provider-notes > Safelayer TrustedX eSignSP (v2) > "), operation.id


@pytest.mark.parametrize("operation_id", SIGNER_PROCESS_OPERATIONS)
def test_signer_process_operations_need_a_token_with_the_documented_scope(operation_id: str) -> None:
    operation = CONTRACT.operation(operation_id)
    assert operation.scopes == {"bearerToken": (SCOPE,)}
    assert {401, 403} <= operation.statuses
    for status in ("401", "403"):
        response = operation.raw["responses"][status]
        response = CONTRACT.resolve(response["$ref"][1:]) if "$ref" in response else response
        assert "WWW-Authenticate" in response["headers"], f"{operation_id} {status}"


def test_the_token_endpoint_takes_the_client_by_basic_and_a_client_credentials_form() -> None:
    operation = CONTRACT.operation("requestToken")
    assert operation.scopes == {"clientBasic": ()}
    assert operation.identifiers == {"token": "/access_token"}
    assert operation.validation_code == "invalid_request"
    form = operation.raw["requestBody"]["content"]["application/x-www-form-urlencoded"]
    assert form["examples"]["documented"]["value"] == {"grant_type": "client_credentials", "scope": SCOPE}


def test_the_security_schemes_name_their_environment_token_operation_and_rfc_error_codes() -> None:
    schemes = CONTRACT.security_schemes()
    bearer, basic = schemes["bearerToken"], schemes["clientBasic"]
    assert bearer["type"] == "oauth2"
    flow = bearer["flows"]["clientCredentials"]
    assert (flow["tokenUrl"], list(flow["scopes"])) == (OPERATIONS["requestToken"][1], [SCOPE])
    assert bearer["x-environment"] == ["TRUSTEDX_TOKEN"]
    assert bearer["x-token"] == {
        "operationId": "requestToken",
        "pointer": "/access_token",
        "lifetime": "/expires_in",  # RFC 6749 5.1; the documented answer's "expires_in": 600
        "form": {"grant_type": "client_credentials", "scope": SCOPE},
    }
    # RFC 6750 3.1: no error code when the request carries no authentication at all
    assert bearer["x-error-codes"] == {"invalid": "invalid_token", "insufficient_scope": "insufficient_scope"}
    assert (basic["type"], basic["scheme"]) == ("http", "basic")
    assert basic["x-environment"] == ["TRUSTEDX_CLIENT_ID", "TRUSTEDX_CLIENT_SECRET"]
    assert basic["x-error-codes"] == {"missing": "invalid_client", "invalid": "invalid_client"}


def test_preconditions_follow_the_documented_order_and_statuses() -> None:
    assert rules("getSignerProcessResult") == [
        ("process_exists", 410, True, None),  # notes: "410 = process does not exist"
        ("result_established", 404, True, None),  # notes: "404 = not finished yet"
    ]
    assert rules("deleteSignerProcess") == [("process_exists", 404, True, None)]
    assert rules("requestToken") == [("grant_type_supported", 400, False, "unsupported_grant_type")]
    assert rules("createSignerProcess") == []


def test_an_unknown_process_on_the_put_and_the_get_is_a_recorded_assumption() -> None:
    assert rules("setSignerProcessResult") == [("process_exists", 410, False, None)]  # as GET of the same URL
    assert rules("getSignerProcess") == [("process_exists", 404, False, None)]  # as DELETE of the same URL
    for operation_id in ("setSignerProcessResult", "getSignerProcess"):
        (rule,) = CONTRACT.operation(operation_id).preconditions
        assert rule.assumption and "oracle accepts any 4xx" in rule.assumption


def test_the_result_status_enum_is_exactly_as_documented_and_only_status_is_required() -> None:
    schema = DOCUMENT["components"]["schemas"]["SignerProcessResult"]
    assert schema["properties"]["status"]["enum"] == ["finished", "failed", "failed_documents", "canceled"]
    assert schema["required"] == ["status"]
    assert schema["properties"]["details"]["properties"]["message"]["type"] == "string"
    assert "additionalProperties" not in schema  # the docs do not close the body
    validator = CONTRACT.validator("/components/schemas/SignerProcessResult")
    assert validator.is_valid({"status": "failed_documents", "details": {"message": "2 of 3"}, "extra": 1})
    assert not validator.is_valid({"status": "done"})
    assert not validator.is_valid({"details": {"message": "no status"}})


def test_the_put_answers_with_the_result_schema_and_the_get_result_too() -> None:
    pointer = "#/components/schemas/SignerProcessResult"
    put = CONTRACT.operation("setSignerProcessResult").raw
    assert put["requestBody"]["content"]["application/json"]["schema"]["$ref"] == pointer
    assert put["responses"]["200"]["content"]["application/json"]["schema"]["$ref"] == pointer
    get = CONTRACT.operation("getSignerProcessResult").raw
    assert get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"] == pointer


def test_create_accepts_either_undocumented_success_status_and_answers_the_id() -> None:
    operation = CONTRACT.operation("createSignerProcess")
    assert {200, 201} <= operation.statuses
    assert operation.identifiers == {"signature_process": "/id"}
    assert operation.raw["requestBody"]["required"] is False
    assert CONTRACT.operation("deleteSignerProcess").statuses & {200, 201, 202, 204} == {204}


def test_the_body_template_erratum_carries_the_docs_text_verbatim() -> None:
    (erratum,) = [e for e in DOCUMENT["x-errata"] if e["id"] == "result_body_template"]
    text = (DOCS / "trustedx-esignsp-v2-signer-process-result.txt").read_text(encoding="utf-8")
    blocks = _blocks(text)
    assert len(blocks) == 2  # the request body and the response body
    for block in blocks:
        assert squash(block) == squash(erratum["example_text"])
    with pytest.raises(json.JSONDecodeError):
        json.loads(erratum["example_text"])


def test_the_filled_template_examples_use_documented_status_values() -> None:
    examples = [value for where, value, _ in ALL_EXAMPLES["trustedx"] if "filled_template" in where]
    assert len(examples) == 3
    assert {e["status"] for e in examples} <= {"finished", "failed", "failed_documents", "canceled"}


def _strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for value in node.values() for s in _strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in _strings(value)]
    return [node] if isinstance(node, str) else []


def test_every_assumption_the_spec_refers_to_is_recorded() -> None:
    recorded = {item["id"] for item in DOCUMENT["x-assumptions"]}
    texts = _strings(DOCUMENT)
    # "error_body (see x-assumptions)", "a and b (see x-assumptions)", "(x-assumptions host)"
    referred = {
        name
        for text in texts
        for group in re.findall(r"([\w, ]+?) \(see x-assumptions", text)
        for name in re.split(r",? and |, ", group)
    } | {name for text in texts for name in re.findall(r"x-assumptions (\w+)", text)}
    assert {"error_body", "host", "create_request"} <= referred, "the patterns no longer match the spec"
    assert referred <= recorded
