"""specs/ignisign.yaml: its operations, the documented order of its rules, the docs' schema exactly, its errata."""

from __future__ import annotations

import re
from typing import Any

import pytest

from esign_contracts.specs import load_contract

from .conftest import DOCS

CONTRACT = load_contract("ignisign")
DOCUMENT = CONTRACT.document
SCHEMAS = DOCUMENT["components"]["schemas"]
DOCS_TEXT = (DOCS / "ignisign-v3-update-signature-request.txt").read_text(encoding="utf-8")

OPERATIONS = {
    "authenticateApp": ("POST", "/v3/auth/app-api"),
    "listWebhooks": ("GET", "/v3/applications/{appId}/envs/{appEnv}/webhooks"),
    "initSignatureRequest": ("POST", "/v3/applications/{appId}/envs/{appEnv}/signature-requests"),
    "updateSignatureRequest": ("PUT", "/v3/signature-requests/{signatureRequestId}"),
    "publishSignatureRequest": ("POST", "/v3/signature-requests/{signatureRequestId}/publish"),
    "closeSignatureRequest": ("POST", "/v3/signature-requests/{signatureRequestId}/close"),
    "getSignatureRequestContext": ("GET", "/v3/signature-requests/{signatureRequestId}/context"),
}


def test_the_sdk_life_cycle_operations_are_there_with_stable_ids_on_the_sdk_default_host() -> None:
    assert {op.id: (op.method, op.path) for op in CONTRACT.operations} == OPERATIONS
    assert CONTRACT.base_url == "https://api.ignisign.io"


def test_only_the_update_comes_from_provider_docs_the_rest_from_provider_notes() -> None:
    for operation in CONTRACT.operations:
        expected = (
            "Ignisign API v3 > " if operation.id == "updateSignatureRequest" else "provider-notes > Ignisign (v3)"
        )
        assert operation.source.startswith(expected), operation.id
    assert DOCUMENT["x-source"][0].startswith("provider-docs/ignisign-v3-update-signature-request.txt")
    assert DOCUMENT["x-source"][1].startswith("provider-notes.md > Ignisign (v3)")


def test_the_token_operation_is_open_and_every_other_one_needs_the_bearer_jwt() -> None:
    for operation in CONTRACT.operations:
        if operation.id == "authenticateApp":
            assert operation.security == ()
            assert operation.identifiers == {"token": "/jwtToken"}
        else:
            assert operation.security == ("bearerAuth",) and 401 in operation.statuses
    assert CONTRACT.operation("initSignatureRequest").identifiers == {"signature_request": "/signatureRequestId"}


def test_close_is_how_check_cleans_up() -> None:
    assert [op.id for op in CONTRACT.operations if op.raw.get("x-cleanup")] == ["closeSignatureRequest"]


def test_the_bearer_scheme_says_where_its_credentials_and_token_come_from() -> None:
    scheme = CONTRACT.security_schemes()["bearerAuth"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")
    assert scheme["x-environment"] == {
        "appId": "IGNISIGN_APP_ID",
        "appEnv": "IGNISIGN_APP_ENV",
        "secret": "IGNISIGN_SECRET",
    }
    # a JWT's expiry is its exp claim (RFC 7519); Ignisign documents no lifetime (x-assumptions token_lifetime)
    assert scheme["x-token"] == {"operationId": "authenticateApp", "pointer": "/jwtToken", "lifetime": "jwt:exp"}
    assert scheme["x-error-codes"] == {"missing": "AUTH_HEADER_NOT_BEARER", "invalid": "INVALID_AUTH_JWT_TOKEN"}
    # the environment mapping is exactly the token operation's required body
    body = CONTRACT.operation("authenticateApp").raw["requestBody"]["content"]["application/json"]["schema"]
    assert set(body["required"]) == set(scheme["x-environment"])


def _rules(operation_id: str) -> list[tuple[str, int, str | None]]:
    return [(p.id, p.status, p.code) for p in CONTRACT.operation(operation_id).preconditions]


def test_preconditions_follow_the_documented_order_with_the_documented_codes() -> None:
    exists = ("signature_request_exists", 404, "SIGNATURE_REQUEST_NOT_FOUND")
    draft = ("is_draft", 400, "SIGNATURE_REQUEST_BAD_STATUS")
    assert _rules("authenticateApp") == [("app_credentials_valid", 401, None)]
    assert _rules("listWebhooks") == _rules("initSignatureRequest") == [("application_matches_token", 403, None)]
    assert _rules("updateSignatureRequest") == [exists, draft]
    # "documentIds and signerIds ... must be globally provided to be able to PUBLISH": documents first
    assert _rules("publishSignatureRequest") == [
        exists,
        draft,
        ("has_documents", 400, None),
        ("has_signers", 400, "CANNOT_PUBLISH_SIGNATURE_REQUEST__NO_SIGNERS"),
    ]
    assert _rules("closeSignatureRequest") == [exists, ("not_ended", 400, "SIGNATURE_REQUEST_BAD_STATUS")]
    assert _rules("getSignatureRequestContext") == [exists]


DOCUMENTED_CODES = {
    "SIGNATURE_REQUEST_NOT_FOUND",
    "SIGNATURE_REQUEST_BAD_STATUS",
    "CANNOT_PUBLISH_SIGNATURE_REQUEST__NO_SIGNERS",
    "AUTH_HEADER_NOT_BEARER",
    "INVALID_AUTH_JWT_TOKEN",
}


def test_no_code_is_invented_and_no_status_of_a_code_is_claimed_as_documented() -> None:
    rules = [p for op in CONTRACT.operations for p in op.preconditions]
    assert {p.code for p in rules} - {None} <= DOCUMENTED_CODES
    assert all(not p.documented and p.assumption for p in rules)  # which status goes with which code is assumed
    assert "x-validation-code" not in DOCUMENT
    assert all(op.validation_code is None and op.validation_status == 400 for op in CONTRACT.operations)


def test_the_update_operation_documents_no_other_status_than_its_rules_imply() -> None:
    assert CONTRACT.operation("updateSignatureRequest").statuses == {200, 400, 401, 404}
    # the statuses the notes list for the init, publish and close pages
    for operation_id in ("initSignatureRequest", "publishSignatureRequest", "closeSignatureRequest"):
        assert {200, 400, 401, 403, 408, 500} <= CONTRACT.operation(operation_id).statuses


# -- the docs' schema, exactly --------------------------------------------------------------------------------------


def _enums(node: Any) -> list[list[str]]:
    found = []
    if isinstance(node, dict):
        if isinstance(node.get("enum"), list):
            found.append(node["enum"])
        for value in node.values():
            found += _enums(value)
    elif isinstance(node, list):
        for value in node:
            found += _enums(value)
    return found


DOCS_ENUMS = [
    [v.strip() for v in m.group(1).split(",")] for m in re.finditer(r"Possible values: \[([^\]]*)\]", DOCS_TEXT)
]


def test_the_docs_print_eighteen_distinct_enums() -> None:
    assert len(DOCS_ENUMS) == 30 and len({tuple(e) for e in DOCS_ENUMS}) == 18


@pytest.mark.parametrize("values", sorted({tuple(e) for e in DOCS_ENUMS}), ids=lambda v: v[0])
def test_every_enum_of_the_docs_is_in_the_spec_exactly(values: tuple[str, ...]) -> None:
    assert list(values) in _enums(DOCUMENT["components"]["schemas"])


def test_every_enum_in_the_spec_is_one_of_the_docs() -> None:
    documented = [list(e) for e in DOCS_ENUMS]
    assert all(enum in documented for enum in _enums(DOCUMENT))


def _resolved(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = CONTRACT.resolve(schema["$ref"][1:])
    return schema


def _shape(name: str) -> tuple[set[str], set[str]]:
    schema = SCHEMAS[name]
    return set(schema["properties"]), set(schema.get("required", []))


STATEMENT = {"_id", "appId", "appEnv", "signatureRequestId", "documentId", "target", "labelMd"}
UPDATE_FIELDS = {
    "title", "description", "expirationDate", "expirationDateIsActivated", "language", "documentIds", "externalId",
    "diffusionMode", "diffusionDate", "statements", "signerIds", "extendedAuthSessionEnabled",
    "initialSignatureRequestId", "signersAsApprover", "recipients",
}  # fmt: skip
CONTEXT_FIELDS = {
    "_id", "appId", "appEnv", "signatureProfileId", "title", "description", "expirationDate",
    "expirationDateIsActivated", "status", "language", "documentIds", "externalId", "diffusionMode", "diffusionDate",
    "signerIds", "signedBy", "_createdAt", "creatorId", "templateDisplayerId", "templateDisplayerVersion", "signers",
    "documents", "statements", "signatureProfile", "applicationMetadata", "signatureProofsUrl",
    "signatureProofStatus", "initialSignatureRequestId", "signersAsApprover", "recipients",
}  # fmt: skip
PROFILE_FIELDS = {
    "_id", "appId", "appEnv", "orgId", "name", "status", "integrationMode", "signatureMethodRef",
    "signatureRequestType", "idProofings", "authMethods", "documentTypes", "documentRequestActivated",
    "defaultLanguage", "languageCanBeChanged", "statementsEnabled", "templateDisplayerId", "createdByDefault",
    "extendedAuthSessionEnabled", "approverEnabled", "recipientEnabled", "individualizeRequests", "sharingRestricted",
    "applicationMetadata",
}  # fmt: skip
PROFILE_REQUIRED = {
    "appId", "appEnv", "orgId", "name", "status", "integrationMode", "signatureMethodRef", "idProofings",
    "authMethods", "documentTypes", "documentRequestActivated", "defaultLanguage", "languageCanBeChanged",
    "statementsEnabled", "extendedAuthSessionEnabled",
}  # fmt: skip
DOCUMENT_FIELDS = {
    "_id", "appId", "appEnv", "externalId", "documentNature", "fileName", "fileSize", "label", "description",
    "mimeType", "documentHash", "status", "documentRequestId", "signatureRequestId", "_createdAt", "statements",
    "documentRequest", "signatureSummaries",
}  # fmt: skip
PALETTE = {"50", "100", "200", "300", "400", "500", "600", "700", "800", "900", "A100", "A200", "A400", "A700"}


@pytest.mark.parametrize(
    ("name", "properties", "required"),
    [
        ("Statement", STATEMENT, {"appId", "appEnv", "signatureRequestId", "target"}),
        ("SignatureRequestUpdate", UPDATE_FIELDS, set()),
        ("SignatureRequestContext", CONTEXT_FIELDS,
         {"appId", "appEnv", "signatureProfileId", "status", "signers", "documents", "signatureProfile"}),
        ("SignerSummary", {"signerId", "externalId", "firstName", "lastName", "email", "status",
                           "alreadyProvidedInputs", "isRecurrent"}, set()),
        ("DocumentContext", DOCUMENT_FIELDS,
         {"appId", "appEnv", "documentNature", "documentHash", "status", "signatureRequestId", "signatureSummaries"}),
        ("DocumentRequest", {"_id", "appId", "appEnv", "signatureRequestId", "documentId", "target", "status",
                             "externalId", "user"},
         {"appId", "appEnv", "signatureRequestId", "documentId", "target", "status"}),
        ("DocumentRequestUser", {"firstName", "lastName", "email"}, {"email"}),
        ("SignatureSummary", {"signatureId", "signerId", "date"}, {"signatureId", "signerId", "date"}),
        ("SignatureProfile", PROFILE_FIELDS, PROFILE_REQUIRED),
        ("ApplicationMetadata", {"appName", "logoB64", "colors"}, {"appName"}),
        ("ColorPalette", PALETTE, PALETTE),
    ],
)  # fmt: skip
def test_every_documented_property_and_required_flag_is_in_the_spec_exactly(
    name: str, properties: set[str], required: set[str]
) -> None:
    assert _shape(name) == (properties, required)


def test_every_documented_property_name_of_the_docs_is_somewhere_in_the_spec() -> None:
    typed = r"^\s*(?:• )?(\w+) (?:string|boolean|number|date-time|appId|appEnv|IGNISIGN)"
    names = set(re.findall(typed, DOCS_TEXT, re.MULTILINE))
    objects = set(re.findall(r"^\s*(?:• )?(\w+)$", DOCS_TEXT, re.MULTILINE))
    names |= objects - {"Body", "Request", "Responses", "Schema", "object", "required"}
    spec = {key for schema in SCHEMAS.values() for key in schema.get("properties", {})}
    spec |= set(SCHEMAS["ApplicationMetadata"]["properties"]["colors"]["properties"])
    assert len(names) == 78 + 11
    assert names - spec == set()


def test_the_colour_palettes_are_required_inside_colors() -> None:
    colors = SCHEMAS["ApplicationMetadata"]["properties"]["colors"]
    assert set(colors["required"]) == set(colors["properties"]) == {"primary", "secondary"}


def test_dates_are_date_times_and_id_lists_string_arrays() -> None:
    for field in ("expirationDate", "diffusionDate"):
        assert SCHEMAS["SignatureRequestUpdate"]["properties"][field] == {"type": "string", "format": "date-time"}
        assert SCHEMAS["SignatureRequestContext"]["properties"][field] == {"type": "string", "format": "date-time"}
    assert _resolved(SCHEMAS["SignatureRequestUpdate"]["properties"]["signerIds"]) == {
        "type": "array",
        "items": {"type": "string"},
    }


UPDATE = CONTRACT.validator("/components/schemas/SignatureRequestUpdate")
CONTEXT = CONTRACT.validator("/components/schemas/SignatureRequestContext")
STATEMENT_BODY = {"appId": "a", "appEnv": "DEVELOPMENT", "signatureRequestId": "r", "target": "DOCUMENT"}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"title": "t", "language": "FR", "diffusionMode": "SCHEDULED", "diffusionDate": "2030-01-01T00:00:00Z"},
        {"statements": [STATEMENT_BODY], "documentIds": ["d"], "signerIds": ["s"], "unknown": 1},
    ],
)
def test_a_partial_update_body_needs_no_field(body: dict[str, Any]) -> None:
    assert list(UPDATE.iter_errors(body)) == []


@pytest.mark.parametrize(
    "body",
    [
        {"language": "ES"},
        {"diffusionMode": "NOW"},
        {"statements": [{k: v for k, v in STATEMENT_BODY.items() if k != "target"}]},
        {"statements": [{**STATEMENT_BODY, "appEnv": "TEST"}]},
        {"expirationDate": "next week"},
        {"title": "x" * 1025},
        {"description": "x" * 4097},
        {"signerIds": "s1"},
    ],
)
def test_an_update_body_outside_the_documented_schema_is_refused(body: dict[str, Any]) -> None:
    assert list(UPDATE.iter_errors(body)) != []


def test_a_document_request_for_a_user_needs_the_user() -> None:
    request = CONTRACT.validator("/components/schemas/DocumentRequest")
    base = {"appId": "a", "appEnv": "STAGING", "signatureRequestId": "r", "documentId": "d", "status": "CREATED"}
    assert list(request.iter_errors({**base, "target": "APPLICATION"})) == []
    assert list(request.iter_errors({**base, "target": "USER"})) != []
    assert list(request.iter_errors({**base, "target": "USER", "user": {"email": "u@example.com"}})) == []


# -- errata decisions -----------------------------------------------------------------------------------------------

ERRATA = {e["id"]: e for e in DOCUMENT["x-errata"]}
ASSUMPTIONS = {a["id"] for a in DOCUMENT["x-assumptions"]}


def test_the_errata_are_the_ones_we_decided() -> None:
    assert set(ERRATA) == {"path_parameter_says_closed", "nesting_lost_after_signature_profile",
                           "status_children_generated"}  # fmt: skip
    assert "to be closed" in DOCS_TEXT and "to be closed" in ERRATA["path_parameter_says_closed"]["docs_say"]


def test_the_path_parameter_is_the_request_to_update_not_to_close() -> None:
    parameter = DOCUMENT["components"]["parameters"]["SignatureRequestId"]
    assert "to be closed" not in parameter["description"] and "path_parameter_says_closed" in parameter["description"]


def test_application_metadata_is_accepted_in_the_profile_and_in_the_context() -> None:
    metadata = {"$ref": "#/components/schemas/ApplicationMetadata"}
    assert SCHEMAS["SignatureProfile"]["properties"]["applicationMetadata"] == metadata
    assert SCHEMAS["SignatureRequestContext"]["properties"]["applicationMetadata"] == metadata
    for field in ("signatureProofsUrl", "signatureProofStatus", "initialSignatureRequestId", "recipients"):
        assert field in SCHEMAS["SignatureRequestContext"]["properties"]
        assert field not in SCHEMAS["SignatureProfile"]["properties"]


def test_the_status_enum_is_the_docs_ten_values_without_the_public_models_extra_one() -> None:
    enum = SCHEMAS["SignatureRequestStatus"]["enum"]
    assert len(enum) == 10 and "CHILDREN_GERENATED" not in enum and enum[0] == "DRAFT"


def test_the_max_lengths_come_from_the_public_models_in_provider_notes() -> None:
    properties = SCHEMAS["SignatureRequestUpdate"]["properties"]
    assert (properties["title"]["maxLength"], properties["description"]["maxLength"]) == (1024, 4096)
    assert "provider-notes" in properties["title"]["x-source"]


def test_every_assumption_a_rule_or_response_names_is_recorded() -> None:
    named: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "x-assumption" and isinstance(value, str):
                    named.update(re.findall(r"\b[a-z]+(?:_[a-z0-9]+)+\b", value))
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(DOCUMENT["paths"])
    walk(DOCUMENT["components"])
    assert named and named - ASSUMPTIONS - set(ERRATA) == set()


def test_the_documented_context_example_of_the_mock_validates_and_carries_both_palettes() -> None:
    example = DOCUMENT["paths"]["/v3/signature-requests/{signatureRequestId}"]["put"]["responses"]["200"]["content"][
        "application/json"
    ]["examples"]["mock"]["value"]
    assert list(CONTEXT.iter_errors(example)) == []
    colors = example["signatureProfile"]["applicationMetadata"]["colors"]
    assert set(colors["primary"]) == set(colors["secondary"]) == PALETTE


def test_the_docs_have_no_json_example_to_account_for() -> None:
    from .test_specs import _doc_blocks

    assert [b for name, _, b in _doc_blocks() if name == "ignisign"] == []
