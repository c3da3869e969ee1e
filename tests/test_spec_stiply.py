"""specs/stiply.yaml: it lints, it has every documented operation and rule, and every docs example is accounted for."""

from __future__ import annotations

from typing import Any

import pytest

from esign_contracts.specs import load_contract

OPERATION_IDS = {
    "ping", "createSignRequest", "createSigner", "sendSignRequest", "getSignedDocument", "getProofDocument",
    "sendReminder", "extendTerm", "getSignRequestKey", "getSignRequest", "deleteSignRequest", "getSigner",
    "updateSigner", "deleteSigner",
}  # fmt: skip

CONTRACT = load_contract("stiply")


def test_all_fourteen_documented_operations_are_there_with_stable_ids() -> None:
    assert {op.id for op in CONTRACT.operations} == OPERATION_IDS
    assert CONTRACT.base_url == "https://api.stiply.nl/v1"


@pytest.mark.parametrize("operation", CONTRACT.operations, ids=lambda op: op.id)
def test_every_operation_traces_to_the_docs_and_answers_401(operation: Any) -> None:
    assert operation.source.startswith("Stiply API v1 > ")
    assert 401 in operation.statuses
    assert operation.security == ("basicAuth",)


def test_preconditions_follow_the_documented_order() -> None:
    def ids(operation_id: str) -> list[str]:
        return [p.id for p in CONTRACT.operation(operation_id).preconditions]

    assert ids("sendSignRequest") == ["sign_request_exists", "not_sent", "has_signer_with_signature_field"]
    assert ids("extendTerm") == ["sign_request_exists", "is_sent", "term_expired"]
    assert ids("deleteSigner") == ["sign_request_exists", "not_sent", "signer_exists"]
    assert ids("updateSigner") == ["sign_request_exists", "signer_exists", "signer_not_signed"]


from .test_specs import EXAMPLES as ALL_EXAMPLES  # noqa: E402

EXAMPLES = ALL_EXAMPLES["stiply"]


def test_the_spec_carries_the_documented_examples() -> None:
    documented = [where for where, _, _ in EXAMPLES if "/responses/200/" in where and where.endswith("/documented")]
    assert len(documented) == 14


def test_the_string_width_erratum_is_accepted_as_the_docs_print_it() -> None:
    body = {"signer_email": "test@email.com", "signer_signature_fields": [{"name": "signature1", "width": "300"}]}
    assert not list(CONTRACT.validator("/components/schemas/CreateSignerRequest").iter_errors(body))


def test_the_docs_have_the_examples_we_expect_to_account_for() -> None:
    from .test_specs import _doc_blocks

    assert len([b for name, _, b in _doc_blocks() if name == "stiply"]) >= 20
