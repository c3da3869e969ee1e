"""A Hypothesis state machine that drives a target through documented sequences, judged by the oracle."""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test

from esign_contracts.contracts.credentials import credential_path_values
from esign_contracts.contracts.envelopes import Envelopes
from esign_contracts.contracts.generate import RECENT, Bodies, Known, path_resource, path_values, pick
from esign_contracts.contracts.oracle import Oracle
from esign_contracts.mocks import ControlError
from esign_contracts.mocks.ids import MissingIdentifier, ShadowIds
from esign_contracts.specs import Operation
from esign_contracts.specs.contract import scheme_kind

CREATOR_WEIGHT = 3
ENVELOPE_WEIGHT = 8
MIN_STEPS = 20


def _creates(model: Any, control: str) -> bool:
    return bool(getattr(getattr(model, control), "_esign_creates", None))


def control_steps(model: Any, operations: Iterable[Operation]) -> list[str]:
    """The control actions a check run takes as steps (`model`: a provider model or its class): all but reset, and
    a seed (`@creates`) only where the API has no public way to create a resource (SIGNiX). Where it has one, the
    run makes its resources through the API it checks; seeds are for users setting up a test."""
    public_create = any(op.identifiers and not op.path_parameters for op in operations)
    return [c for c in model.controls if c != "reset" and not (public_create and _creates(model, c))]


class Sequences:
    """What the machine needs across examples: the oracle, the identifiers seen, the body strategies."""

    def __init__(self, oracle: Oracle, run_token: str) -> None:
        self.oracle = oracle
        self.run_token = run_token
        self.fresh = 0
        self.known = Known()
        self.bodies = Bodies(oracle.contract)
        # SIGNiX carries its requests inside an XML form field: they come from the XSD and JSON Schemas.
        self.envelopes = Envelopes(oracle.model, oracle.credentials) if "x-ajax" in oracle.contract.document else None
        self.operations = oracle.contract.operations
        self.roots = [op for op in self.operations if op.identifiers and not op.path_parameters]
        self.controls = control_steps(oracle.model, self.operations)
        self.creating_controls = [c for c in self.controls if _creates(oracle.model, c)]
        self.token_operations = {token["operationId"] for token in oracle.contract.token_schemes().values()}
        # Credential fields that are path parameters (Ignisign's appId, appEnv) are known from the start.
        for key, value in credential_path_values(oracle.contract, oracle.credentials).items():
            self.known.add(path_resource(key), value, {})
        for key, value in oracle.given:
            self.known.add(path_resource(key), value, {})

    def linked_creators(self, operation: Operation) -> list[Operation]:
        """Operations that create under `operation`'s result, following the spec's OpenAPI links."""
        links = [
            link.get("operationId")
            for status, response in operation.raw.get("responses", {}).items()
            if str(status).startswith("2")
            for link in (response.get("links") or {}).values()
        ]
        return [op for op in self.operations if op.id in links and op.identifiers]

    def remember(self, operation: Operation, params: dict[str, str], body: Any) -> None:
        """Record identifiers the target handed out (x-identifiers), with the path they belong under."""
        for resource in operation.identifiers:
            try:
                value = ShadowIds(body)(operation, resource)
            except MissingIdentifier:
                continue
            if value:
                self.known.add(resource, value, {path_resource(k): v for k, v in params.items()})

    def step(self, draw: Any, operation: Operation, broken: bool | None = None) -> None:
        params = path_values(draw, operation, self.known, self.oracle.model.live_identifiers)
        if broken is None:
            broken = draw(st.integers(0, 4)) == 0
        if self.envelopes is not None:
            recent = self.known.alive("transaction", self.oracle.model.live_identifiers("transaction_id"))[:RECENT]
            plan: Any = self.envelopes.draw(draw, broken, recent)
            if plan.transaction:
                self.known.touch("transaction", plan.transaction)
        else:
            plan = self.bodies.draw(
                draw, operation, self.known, broken, self._fresh_value, self.oracle.model.live_identifiers
            )
        path = operation.path
        for name, value in params.items():
            path = path.replace("{" + name + "}", value)
        authorized, token = self._credentials(draw, operation)
        request = self.oracle.request(
            operation.method, path, body=plan.body, content_type=plan.content_type, authorized=authorized, token=token
        )
        response = self.oracle.exchange(request)
        if response is not None and 200 <= response.status < 300:
            try:
                self.remember(operation, params, response.payload())
            except ValueError:
                return

    def _credentials(self, draw: Any, operation: Operation) -> tuple[bool, str | None]:
        """Mostly the run's own credentials; now and then none, a made-up token, or another token the target
        issued in this run (with other scopes), as clients get them wrong. Schemathesis probes no oauth2
        scheme, and never holds a second token."""
        choice = draw(st.integers(0, 19))
        if not operation.security or choice > 3:
            return True, None
        if choice == 0:
            return False, None
        schemes = self.oracle.contract.security_schemes()
        bearer = operation.id not in self.token_operations and any(
            scheme_kind(schemes[name]) == "bearer" for name in operation.security
        )
        if not bearer:
            return True, None
        if choice == 1:
            return True, "esign-contracts-made-up-token"
        # (not one near its expiry: whether the target still takes it then is a matter of whose clock is read)
        recent = [token for token in self.known.values("token")[:RECENT] if not self.oracle.token_in_doubt(token)]
        return True, pick(draw, recent)

    def _fresh_value(self) -> str:
        # A client-chosen unique value (Stiply's external_key) that no earlier run or other client has used.
        self.fresh += 1
        return f"{self.run_token}-{self.fresh}"

    def control(self, draw: Any, name: str) -> None:
        """A transition only the provider's UI or time can make, on the target and on the model alike."""
        controls = self.oracle.target.controls
        assert controls is not None
        action = getattr(self.oracle.model, name)
        required = [
            p.name for p in inspect.signature(action).parameters.values() if p.default is inspect.Parameter.empty
        ]
        # Each required argument from the most recently used live identifiers, starting at a drawn one; the
        # first combination the target accepts is used (a refused control action changes nothing).
        choices = {arg: self._recent_live(arg)[: RECENT * 2] for arg in required}
        starts = {arg: draw(st.integers(0, 2**16 - 1)) for arg in required}
        if not all(choices.values()):
            return
        for offset in range(RECENT * 2):
            args = {arg: values[(starts[arg] + offset) % len(values)] for arg, values in choices.items()}
            try:
                made = getattr(controls, name)(**args)
            except ControlError:
                continue
            if getattr(action, "_esign_creates", None) and isinstance(made, dict):
                # A control that creates (SIGNiX's add_transaction): the shadow model takes the target's ids.
                args = {**args, **{k: v for k, v in made.items() if k in inspect.signature(action).parameters}}
            try:
                action(**args)
            except ControlError as exc:
                # The target's state has left the model's (a server that made a transition the docs forbid, which
                # an earlier finding shows): the model cannot follow, so the run reports it and goes on.
                self.oracle.report_control_divergence(name, args, str(exc))
                return
            if getattr(action, "_esign_creates", None) and isinstance(made, dict):
                self.known.add(path_resource(action._esign_creates), str(made[action._esign_creates]), {})
            self.oracle.model.take_callbacks()  # the target delivers its own; the shadow model's go nowhere
            self.oracle.report.exercised[(f"control.{name}", 0)] += 1
            for arg, value in args.items():
                if isinstance(value, str):
                    self.known.touch(path_resource(arg), value)
            self.oracle.trace.append(
                f"control {name}({', '.join(str(v) for v in args.values() if isinstance(v, str))})"
            )
            return

    def _recent_live(self, parameter: str) -> list[str]:
        return self.known.alive(path_resource(parameter), self.oracle.model.live_identifiers(parameter))


def machine_for(sequences: Sequences) -> type[RuleBasedStateMachine]:
    """One rule per documented operation and per control action, so Hypothesis' swarm testing varies the mix."""

    def __init__(self: RuleBasedStateMachine) -> None:
        RuleBasedStateMachine.__init__(self)
        sequences.oracle.start_sequence()

    def operation_rule(operation: Operation, name: str) -> Any:
        def call(self: RuleBasedStateMachine, data: Any) -> None:
            sequences.step(data.draw, operation)

        call.__name__ = name
        return rule(data=st.data())(call)

    def control_rule(name: str) -> Any:
        def act(self: RuleBasedStateMachine, data: Any) -> None:
            sequences.control(data.draw, name)

        act.__name__ = f"control_{name}"
        return rule(data=st.data())(act)

    def setup_rule(operation: Operation) -> Any:
        def create(self: RuleBasedStateMachine, data: Any) -> None:
            sequences.step(data.draw, operation, broken=False)
            for child in sequences.linked_creators(operation):  # e.g. a signer for the new sign request
                sequences.step(data.draw, child, broken=False)

        create.__name__ = f"start_with_{operation.id}"
        return initialize(data=st.data())(create)

    def seed_rule(name: str) -> Any:
        def seed(self: RuleBasedStateMachine, data: Any) -> None:
            sequences.control(data.draw, name)

        seed.__name__ = f"start_with_{name}"
        return initialize(data=st.data())(seed)

    namespace: dict[str, Any] = {"__init__": __init__}
    for op in sequences.operations:
        # Operations that create under a parent are drawn more often (a rule per copy): they feed the other
        # rules. Roots need no extra weight: every sequence starts by creating one.
        weight = CREATOR_WEIGHT if op.identifiers and op.path_parameters else 1
        if sequences.envelopes is not None:  # SIGNiX's one operation carries every request: outweigh the controls
            weight = ENVELOPE_WEIGHT
        for copy in range(weight):
            name = op.id if copy == 0 else f"{op.id}_{copy}"
            namespace[name] = operation_rule(op, name)
    # Every sequence starts as the documented flow does: create what needs no parent (a sign request), then
    # what its links say is created under it (a signer).
    namespace.update({f"start_with_{op.id}": setup_rule(op) for op in sequences.roots})
    if sequences.oracle.target.controls is not None:
        # What only the control API creates (a SIGNiX transaction) starts a sequence the same way.
        namespace.update({f"start_with_{name}": seed_rule(name) for name in sequences.creating_controls})
    if sequences.oracle.target.controls is not None:
        namespace.update({f"control_{name}": control_rule(name) for name in sequences.controls})
    return type(f"{sequences.oracle.model.name.title()}Contract", (RuleBasedStateMachine,), namespace)


def run_sequences(oracle: Oracle, *, seed: int, examples: int, steps: int, run_token: str) -> Sequences:
    sequences = Sequences(oracle, run_token)
    if oracle.target.controls is None and sequences.controls:
        made = "; ".join(
            f"{name}: {(inspect.getdoc(getattr(oracle.model, name)) or '').splitlines()[0]}"
            for name in sequences.controls
        )
        oracle.report.skip(
            f"control actions ({made}): states only the provider's UI or time can make, which the public API cannot "
            "reach; the documented rules that need them were not exercised against this remote target"
        )
    machine = hypothesis_seed(seed)(machine_for(sequences))
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
        ),
        # Hypothesis ends most sequences early; documented flows need several steps to reach deep states.
        _min_steps=min(steps, MIN_STEPS),
    )
    return sequences
