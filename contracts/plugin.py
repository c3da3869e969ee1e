"""The pytest plugin: a `<provider>_mock` fixture per provider, and `--esign-check PROVIDER` (the contract as test
items, contracts/pytest_check.py). Imports nothing heavy until a fixture runs or the option is given."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from esign_contracts.specs.providers import PROVIDER_MODULES

if TYPE_CHECKING:
    import responses

    from esign_contracts.mocks import Mock
    from esign_contracts.mocks.journal import Violation

ALLOW_MARKER = "esign_allow_violations"
OPTIONS_MARKER = "esign_mock"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("esign-contracts", "check a server against an e-signature provider's contract")
    group.addoption(
        "--esign-check",
        action="append",
        default=[],
        metavar="PROVIDER",
        help=f"collect PROVIDER's contract as test items (one of: {', '.join(sorted(PROVIDER_MODULES))}); repeatable",
    )
    group.addoption("--esign-base-url", default=None, help="the server to check (default: the built-in mock)")
    group.addoption("--esign-live", action="store_true", help="allow a base URL that is not this machine")
    group.addoption("--esign-max-requests", type=int, default=None, help="stop after this many requests")
    group.addoption("--esign-rate", type=float, default=None, help="at most this many requests per second")
    group.addoption("--esign-seed", type=int, default=0, help="seed for the generated data (default 0)")
    group.addoption("--esign-examples", type=int, default=None, help="Schemathesis examples per operation and mode")
    group.addoption("--esign-sequences", type=int, default=None, help="state machine sequences to run")
    group.addoption("--esign-json", default=None, help="write the check's JSON report to this path")
    group.addoption("--esign-markdown", default=None, help="write the check's Markdown summary to this path")


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    providers = list(dict.fromkeys(config.getoption("esign_check") or []))
    if not providers:
        return  # the plugin costs a suite that does not ask for a check nothing
    unknown = [p for p in providers if p not in PROVIDER_MODULES]
    if unknown:
        raise pytest.UsageError(
            f"--esign-check: unknown provider {', '.join(unknown)}; known: {', '.join(sorted(PROVIDER_MODULES))}"
        )
    if config.getoption("esign_base_url") and len(providers) != 1:
        raise pytest.UsageError("--esign-base-url is one provider's server: give exactly one --esign-check")
    from esign_contracts.contracts import pytest_check

    items.extend(pytest_check.collect(session, providers))


def pytest_sessionfinish(session: pytest.Session) -> None:
    if session.config.getoption("esign_check", default=None):
        from esign_contracts.contracts import pytest_check

        pytest_check.write_reports(session.config)


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
        from esign_contracts.mocks import InProcess

        marker = request.node.get_closest_marker(OPTIONS_MARKER)
        options: dict[str, Any] = dict(marker.kwargs) if marker else {}
        unknown = sorted(set(options) - {"credentials", "seed"})
        if marker is not None and (marker.args or unknown):
            raise pytest.UsageError(
                f"@pytest.mark.{OPTIONS_MARKER} takes only the keyword options credentials= and seed=; "
                f"got {', '.join([*map(repr, marker.args), *unknown])}"
            )
        _refuse_bad_options(provider, options)
        mock = _fixture_mock_class()(provider, credentials=options.get("credentials"), seed=options.get("seed"))
        # One `responses` mock for all the provider fixtures of a test: each started its own, and the last one
        # started hid the others (a client of two providers could not be tested).
        shared: responses.RequestsMock = request.getfixturevalue("esign_responses")
        InProcess([mock], shared)
        mock.responses = shared  # type: ignore[attr-defined]
        yield mock
        violations = [*mock.cleared_violations, *mock.violations]
        if violations and request.node.get_closest_marker(ALLOW_MARKER) is None:
            listed = "\n".join(f"  - {v}" for v in violations)
            raise ContractViolated(
                f"the client sent {len(violations)} request(s) that break the {provider} contract:\n{listed}\n"
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


def _refuse_bad_options(provider: str, options: dict[str, Any]) -> None:
    """The marker's credentials in the form the contract declares, and a whole-number seed: a mistake there would
    otherwise show as a 401 (the defaults still in force) or a ValueError deep inside `responses`."""
    from esign_contracts.contracts.credentials import given_credentials_problem
    from esign_contracts.specs import load_contract

    seed = options.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise pytest.UsageError(f"@pytest.mark.{OPTIONS_MARKER}(seed=...) takes a whole number, got {seed!r}")
    credentials = options.get("credentials")
    problem = None if credentials is None else given_credentials_problem(load_contract(provider), credentials)
    if problem:
        raise pytest.UsageError(f"@pytest.mark.{OPTIONS_MARKER}(credentials=...) for {provider}_mock: {problem}")


@pytest.fixture
def esign_responses() -> Iterator[responses.RequestsMock]:
    """The `responses` mock that the provider fixtures of a test answer through; add your own stubs for other
    hosts to it (`esign_responses.add(...)`): a second `responses` mock started in the test would hide it."""
    import responses

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@functools.cache
def _fixture_mock_class() -> type[Mock]:
    """`Mock` that keeps the violations a `reset()` clears, so that the fixture still fails the test on them."""
    from esign_contracts.mocks import Mock

    class FixtureMock(Mock):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.cleared_violations: list[Violation] = []

        def reset(self) -> None:
            self.cleared_violations += self.violations
            super().reset()

    return FixtureMock


for _provider in PROVIDER_MODULES:
    globals()[f"{_provider}_mock"] = _mock_fixture(_provider)
