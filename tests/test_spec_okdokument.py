"""specs/okdokument.yaml: its operations, its rule and codes, the callback, and each recorded erratum decision."""

from __future__ import annotations

from typing import Any

import pytest

from esign_contracts.specs import load_contract

from .test_specs import EXAMPLES as ALL_EXAMPLES
from .test_specs import _doc_blocks

CONTRACT = load_contract("okdokument")
EXAMPLES = ALL_EXAMPLES["okdokument"]
DOCS_ID = "1d58a59e-e8f7-4d07-bb99-d3fa39cb58a8"  # the signatureRequestId of the 3.3 examples

OPERATIONS = {
    "createSignatureRequest": ("POST", "/JSON/signatureRequest"),
    "updateSignatureRequest": ("PATCH", "/JSON/signatureRequest"),
    "deleteSignatureRequest": ("DELETE", "/JSON/signatureRequest/{signatureRequestId}"),
}


def errors(pointer: str, value: Any) -> list[str]:
    return [e.message for e in CONTRACT.validator(pointer).iter_errors(value)]


def test_the_three_operations_are_there_with_stable_ids_on_the_documented_host() -> None:
    assert {op.id: (op.method, op.path) for op in CONTRACT.operations} == OPERATIONS
    assert CONTRACT.base_url == "https://apidev.okdokument.com"


def test_every_request_needs_the_x_api_key_header_read_from_okdokument_api_key() -> None:
    scheme = CONTRACT.security_schemes()["apiKey"]
    assert {k: scheme[k] for k in ("type", "in", "name", "x-environment")} == {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
        "x-environment": ["OKDOKUMENT_API_KEY"],
    }
    assert list(CONTRACT.security_schemes()) == ["apiKey"]
    assert all(op.security == ("apiKey",) for op in CONTRACT.operations)


@pytest.mark.parametrize(
    ("operation_id", "statuses", "source"),
    [
        ("createSignatureRequest", {200, 400, 401}, "provider-notes > OKdokument > 2.2 Create"),
        ("updateSignatureRequest", {200, 400, 401, 403, 500}, "OKdokument API > 3.3 Update Signature Request ID"),
        ("deleteSignatureRequest", {200, 400, 401}, "provider-notes > OKdokument > 3.4 Delete"),
    ],
)
def test_each_operation_lists_its_statuses_and_traces_to_its_section(
    operation_id: str, statuses: set[int], source: str
) -> None:
    operation = CONTRACT.operation(operation_id)
    assert (set(operation.statuses), operation.source, operation.validation_status) == (statuses, source, 400)


def test_update_and_delete_refuse_an_unknown_id_with_400_and_the_documented_code() -> None:
    for operation_id in ("updateSignatureRequest", "deleteSignatureRequest"):
        (rule,) = CONTRACT.operation(operation_id).preconditions
        assert (rule.id, rule.status, rule.documented, rule.code) == (
            "signature_request_exists",
            400,
            True,
            "err.signature.request.not.exist",
        )
    assert CONTRACT.operation("createSignatureRequest").preconditions == ()


def test_create_says_where_its_identifiers_are() -> None:
    assert CONTRACT.operation("createSignatureRequest").identifiers == {
        "signature_request": "/result",
        "document": "/documentId",
    }
    assert CONTRACT.operation("deleteSignatureRequest").path_parameters == ["signatureRequestId"]


def documented(operation_id: str, status: str = "200") -> Any:
    media = CONTRACT.operation(operation_id).raw["responses"][status]["content"]["application/json"]
    return media["examples"]["documented"]["value"]


def test_the_success_bodies_carry_the_documented_message_keys() -> None:
    assert documented("createSignatureRequest")["message"] == "msg.signature.request.id.created"
    assert documented("updateSignatureRequest") == {
        "message": "msg.updated",
        "result": DOCS_ID,
        "url": f"https://apidev.okdokument.com/{DOCS_ID}",
    }
    assert documented("deleteSignatureRequest")["message"] == "msg.deleted"
    not_exist = CONTRACT.resolve("/components/responses/NotExist/content/application~1json/examples/documented")
    assert not_exist["value"] == {"message": "err.signature.request.not.exist", "value": "<id>"}


def test_both_docs_examples_are_carried_verbatim() -> None:
    blocks = [b for name, _, b in _doc_blocks() if name == "okdokument"]
    assert len(blocks) == 2  # the request body example and the response body example of 3.3
    request = CONTRACT.operation("updateSignatureRequest").raw["requestBody"]["content"]["application/json"]
    assert request["examples"]["documented"]["value"] == {
        "signatureRequestId": DOCS_ID,
        "sendInfoURL": "https://azure/sendInfo?arg=123456",
        "resulturl": "https://okdokument.com",
    }
    assert any("/responses/200/" in where for where, _, _ in EXAMPLES)


UPDATE = "/components/schemas/UpdateSignatureRequest"
CREATE = "/components/schemas/CreateSignatureRequest"


def test_the_spelling_erratum_is_recorded_and_both_spellings_are_accepted_on_update_and_create() -> None:
    (erratum,) = [e for e in CONTRACT.document["x-errata"] if e["id"] == "send_info_url_spelling"]
    assert "sendInfoUrl" in erratum["docs_say"] and "sendInfoURL wins" in erratum["we_do"]
    for schema in (UPDATE, CREATE):
        for spelling in ("sendInfoURL", "sendInfoUrl"):
            body = {"signatureRequestId": DOCS_ID, spelling: "https://client.example/hook"}
            assert errors(schema, body) == []
    both = {"signatureRequestId": DOCS_ID, "sendInfoURL": "https://a.example", "sendInfoUrl": "https://b.example"}
    assert errors(UPDATE, both) == []  # not refused: the model prefers sendInfoURL


def test_update_needs_only_the_id_and_checks_the_types_it_documents() -> None:
    assert errors(UPDATE, {"signatureRequestId": DOCS_ID}) == []
    assert errors(UPDATE, {"signatureRequestId": DOCS_ID, "unknown": 1}) == []  # additionalProperties open
    assert errors(UPDATE, {"sendInfoURL": "https://a.example"}) == ["'signatureRequestId' is a required property"]
    assert errors(UPDATE, {"signatureRequestId": 5}) == ["5 is not of type 'string'"]
    assert errors(UPDATE, {"signatureRequestId": DOCS_ID, "resulturl": None}) == ["None is not of type 'string'"]


def test_create_takes_any_json_object() -> None:
    assert errors(CREATE, {}) == [] and errors(CREATE, {"document": "whatever", "signers": []}) == []
    assert errors(CREATE, []) == ["[] is not of type 'object'"]
    assert CONTRACT.operation("createSignatureRequest").raw["requestBody"]["required"] is True


@pytest.mark.parametrize("operation_id", ["createSignatureRequest", "updateSignatureRequest"])
def test_the_send_info_callback_is_declared_on_the_operations_that_register_its_url(operation_id: str) -> None:
    callbacks = CONTRACT.operation(operation_id).raw["callbacks"]
    assert list(callbacks) == ["sendInfo"]
    (expression, item) = next(iter(callbacks["sendInfo"].items()))
    assert expression == "{$request.body#/sendInfoURL}"
    post = item["post"]
    assert post["security"] == [] and list(post["responses"]) == ["200"]
    media = post["requestBody"]["content"]["application/json"]
    assert media["examples"]["documented"]["value"]["state"] == "signed"


def test_the_send_info_body_needs_state_id_and_signature_request_id() -> None:
    schema = "/components/schemas/SendInfo"
    assert errors(schema, {"state": "signed", "id": "doc-1", "signatureRequestId": DOCS_ID}) == []
    assert errors(schema, {"state": "signed", "id": 42, "signatureRequestId": DOCS_ID}) == []  # <docId> unquoted
    assert errors(schema, {"state": "signed", "id": "doc-1"}) == ["'signatureRequestId' is a required property"]


def test_the_assumptions_the_model_relies_on_are_written_down() -> None:
    ids = {a["id"] for a in CONTRACT.document["x-assumptions"]}
    assert {
        "error_body",
        "not_exist_body_on_update",
        "bad_credentials",
        "create_request_body",
        "update_fields_optional",
        "empty_send_info_url",
        "url_shapes",
        "send_info_callback",
        "signed_request_lifecycle",
        "preflight_delete",
    } <= ids


def test_only_the_documented_error_body_is_checked_the_others_are_open() -> None:
    documented_body = {"message": "err.signature.request.not.exist", "value": "<id>"}
    assert errors("/components/schemas/Error", documented_body) == []
    assert errors("/components/schemas/Error", {"message": "err.signature.request.not.exist"}) == [
        "'value' is a required property"
    ]
    responses = {op.id: op.raw["responses"] for op in CONTRACT.operations}
    assert responses["deleteSignatureRequest"]["400"] == {"$ref": "#/components/responses/NotExist"}
    for name in ("NotExistOrBadRequest", "BadRequest", "Unauthorized", "Forbidden", "ServerError"):
        schema = CONTRACT.resolve(f"/components/responses/{name}/content/application~1json/schema")
        assert schema == {"$ref": "#/components/schemas/AnyError"}, name
    assert errors("/components/schemas/AnyError", "<html>Forbidden</html>") == []
