"""The pytest plugin: a `<provider>_mock` fixture per provider. Imports nothing heavy until a fixture runs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from esign_contracts.specs.providers import PROVIDER_MODULES

if TYPE_CHECKING:
    from esign_contracts.mocks import Mock

ALLOW_MARKER = "esign_allow_violations"
OPTIONS_MARKER = "esign_mock"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{ALLOW_MARKER}: do not fail the test when the client sent requests that break a provider's contract",
    )
    config.addinivalue_line(
        "markers", f"{OPTIONS_MARKER}(credentials=None, seed=None): options for the <provider>_mock fixtures"
    )


class ContractViolated(AssertionError):
    """The client under test sent requests that the provider's documentation does not allow."""


def _mock_fixture(provider: str) -> Callable[[pytest.FixtureRequest], Iterator[Mock]]:
    def fixture(request: pytest.FixtureRequest) -> Iterator[Mock]:
        from esign_contracts.mocks import InProcess, Mock

        marker = request.node.get_closest_marker(OPTIONS_MARKER)
        options: dict[str, Any] = dict(marker.kwargs) if marker else {}
        unknown = sorted(set(options) - {"credentials", "seed"})
        if marker is not None and (marker.args or unknown):
            raise pytest.UsageError(
                f"@pytest.mark.{OPTIONS_MARKER} takes only the keyword options credentials= and seed=; "
                f"got {', '.join([*map(repr, marker.args), *unknown])}"
            )
        mock = Mock(provider, credentials=options.get("credentials"), seed=options.get("seed"))
        with InProcess([mock]) as adapter:
            mock.responses = adapter.responses  # type: ignore[attr-defined]
            yield mock
        if mock.violations and request.node.get_closest_marker(ALLOW_MARKER) is None:
            listed = "\n".join(f"  - {v}" for v in mock.violations)
            raise ContractViolated(
                f"the client sent {len(mock.violations)} request(s) that break the {provider} contract:\n{listed}\n"
                f"(mark the test with @pytest.mark.{ALLOW_MARKER} if that is what it tests)"
            )

    fixture.__name__ = f"{provider}_mock"
    fixture.__doc__ = (
        f"The in-process {provider} mock: requests-based calls to its host are answered by the model. "
        "Exposes .control, .journal, .violations, .credentials, .base_url, .responses; fails the test at "
        f"teardown if the client broke the contract (opt out with @pytest.mark.{ALLOW_MARKER}; "
        f"options with @pytest.mark.{OPTIONS_MARKER}(credentials=..., seed=...))."
    )
    return pytest.fixture(name=f"{provider}_mock")(fixture)


for _provider in PROVIDER_MODULES:
    globals()[f"{_provider}_mock"] = _mock_fixture(_provider)
