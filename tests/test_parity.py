"""The spec declares, the model implements: no rule in one without the other."""

from __future__ import annotations

import pytest

from esign_contracts.mocks import provider_class
from esign_contracts.specs import load_contract
from esign_contracts.specs.providers import PROVIDER_MODULES


def _ajax_rule_ids(document: dict) -> set[str]:
    """SIGNiX's rules live in x-ajax (the envelope's, every request's, each request type's), not on an operation."""
    ajax = document.get("x-ajax", {})
    rules = [*ajax.get("envelope-rules", []), *ajax.get("request-rules", [])]
    rules += [rule for spec in ajax.get("requests", {}).values() for rule in spec.get("rules", [])]
    return {rule["id"] for rule in rules}


def test_signix_declares_its_rules_in_x_ajax() -> None:
    assert {"xml_valid_against_xsd", "suspend_not_suspended", "deltas_parties_exist"} <= _ajax_rule_ids(
        load_contract("signix").document
    )


@pytest.mark.parametrize("provider", sorted(PROVIDER_MODULES))
def test_every_declared_precondition_is_implemented_and_every_implemented_one_declared(provider: str) -> None:
    contract, model = load_contract(provider), provider_class(provider)
    declared = {p.id for op in contract.operations for p in op.preconditions} | _ajax_rule_ids(contract.document)
    assert declared - set(model.preconditions) == set(), "declared in the spec, not implemented by the model"
    assert set(model.preconditions) - declared == set(), "implemented by the model, not declared in the spec"


@pytest.mark.parametrize("provider", sorted(PROVIDER_MODULES))
def test_every_operation_has_an_effect_and_every_effect_an_operation(provider: str) -> None:
    contract, model = load_contract(provider), provider_class(provider)
    operations = {op.id for op in contract.operations}
    assert operations - set(model.effects) == set(), "operations without a documented effect in the model"
    assert set(model.effects) - operations == set(), "effects for operations the spec does not have"


@pytest.mark.parametrize("provider", sorted(PROVIDER_MODULES))
def test_a_precondition_id_means_one_rule_wherever_it_is_used(provider: str) -> None:
    rules: dict[str, set[str]] = {}
    for operation in load_contract(provider).operations:
        for precondition in operation.preconditions:
            rules.setdefault(precondition.id, set()).add(precondition.rule)
    assert {k: v for k, v in rules.items() if len(v) > 1} == {}
