"""The contracts as data: one OpenAPI document per REST provider, and the helpers that read them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from esign_contracts.specs.contract import Contract, Operation, Precondition, load_contract

__all__ = ["Contract", "Operation", "Precondition", "load_contract"]


def __getattr__(name: str) -> Any:
    # Lazy, so that importing esign_contracts.specs.providers (the pytest plugin does) stays cheap.
    if name in __all__:
        from esign_contracts.specs import contract

        return getattr(contract, name)
    raise AttributeError(name)
