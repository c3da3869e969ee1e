"""A provider's mock as a user holds it: the engine, its control actions, its journal and violations."""

from __future__ import annotations

import datetime as dt
import functools
import importlib
from collections.abc import Callable
from typing import Any

from esign_contracts.mocks.callbacks import Courier
from esign_contracts.mocks.engine import Engine
from esign_contracts.mocks.faults import Faults
from esign_contracts.mocks.http import Request, Response
from esign_contracts.mocks.ids import RandomIds
from esign_contracts.mocks.journal import Journal, Violation
from esign_contracts.mocks.provider import Provider, UnknownProvider, check_control_arguments, registered
from esign_contracts.specs.providers import PROVIDER_MODULES


def provider_class(name: str) -> type[Provider]:
    module = PROVIDER_MODULES.get(name)
    if module is None:
        raise UnknownProvider(f"unknown provider {name!r}; known providers: {', '.join(sorted(PROVIDER_MODULES))}")
    importlib.import_module(module)
    return registered()[name]


class Controls:
    """The model's control actions, run under the engine's lock and journaled."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def __dir__(self) -> list[str]:
        return list(self._engine.provider.controls)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        provider = self._engine.provider
        if name not in provider.controls:
            raise AttributeError(
                f"{provider.name} has no control action {name!r}; available: {', '.join(provider.controls)}"
            )
        action = getattr(provider, name)

        @functools.wraps(action)
        def run(*args: Any, **kwargs: Any) -> Any:
            check_control_arguments(name, action, *args, **kwargs)
            with self._engine.lock:
                result = action(*args, **kwargs)
                callbacks = provider.take_callbacks()
                self._engine.journal.record(
                    provider=provider.name,
                    operation=f"control.{name}",
                    method="CONTROL",
                    path=" ".join([*map(str, args), *(f"{k}={v}" for k, v in kwargs.items())]),
                    status=0,
                    outcome="control",
                )
            self._engine.courier.deliver(callbacks)
            return result

        return run


class Mock:
    """A stateful fake of one provider, independent of any transport."""

    def __init__(
        self,
        provider: str | Provider,
        *,
        credentials: dict[str, Any] | None = None,
        seed: int | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        send_callbacks: bool = True,
    ) -> None:
        # A model instance is accepted too (a subclass that changes a rule, in tests of the oracle).
        model = provider if isinstance(provider, Provider) else provider_class(provider)(clock=clock)
        model.seed_random(seed)
        self.engine = Engine(model, credentials=credentials, ids=RandomIds(seed))
        if not send_callbacks:  # journaled as "not sent": a check run generates the URLs, nothing may leave
            self.engine.courier = Courier(self.engine.journal, self.name, send=None)
        self.control = Controls(self.engine)

    @property
    def name(self) -> str:
        return self.engine.name

    @property
    def model(self) -> Provider:
        """The model's state, for reading. Change it through `control`, so the journal sees it."""
        return self.engine.provider

    @property
    def base_url(self) -> str:
        return self.engine.contract.base_url

    @property
    def credentials(self) -> dict[str, Any]:
        return self.engine.credentials

    @property
    def faults(self) -> Faults:
        """Injected faults: `mock.faults.add("createSigner", status=403, times=1)`; also latency_ms, drop, share."""
        return self.engine.faults

    @property
    def journal(self) -> Journal:
        return self.engine.journal

    @property
    def violations(self) -> list[Violation]:
        return self.engine.journal.violations

    def journaled_operations(self) -> set[str]:
        """The operation names this mock's journal entries can carry: the contract's operations, `control.<action>`
        for a control action and `callback.<name>` for a callback the contract declares (the `""` of a request that
        matched no operation aside)."""
        operations = self.engine.contract.operations
        callbacks = {name for operation in operations for name in operation.raw.get("callbacks", {})}
        return (
            {operation.id for operation in operations}
            | {f"control.{action}" for action in self.model.controls}
            | {f"callback.{name}" for name in callbacks}
        )

    def handle(self, request: Request) -> Response:
        return self.engine.handle(request)

    def deliver_callbacks_in_background(self) -> None:
        """Send callbacks from a worker thread with retries (served); by default they go out at once (in-process)."""
        courier = self.engine.courier
        if not courier.background and courier.send is not None:
            self.engine.courier = Courier(self.engine.journal, self.name, background=True)

    def reset(self) -> None:
        """Forget all state and the journal."""
        with self.engine.lock:
            self.engine.provider.reset()
            self.engine.provider.take_callbacks()
            self.engine.faults.clear()
            self.engine.journal.clear()
