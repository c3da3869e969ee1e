"""A Hypothesis state machine that drives a target through documented sequences, judged by the oracle."""

from __future__ import annotations

import inspect
from typing import Any

from esign_contracts.contracts.generate import Bodies, Known, path_resource, path_values, pick
from esign_contracts.contracts.oracle import Oracle
from esign_contracts.mocks import ControlError
from esign_contracts.mocks.ids import MissingIdentifier, ShadowIds
from esign_contracts.specs import Operation
from hypothesis import HealthCheck, Phase, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test


class Sequences:
    """What the machine needs across examples: the oracle, the identifiers seen, the body strategies."""

    def __init__(self, oracle: Oracle, run_token: str) -> None:
        self.oracle = oracle
        self.run_token = run_token
        self.fresh = 0
        self.known = Known()
        self.bodies = Bodies(oracle.contract)
        self.operations = oracle.contract.operations
        self.controls = [c for c in oracle.model.controls if c != "reset"]

    def remember(self, operation: Operation, params: dict[str, str], body: Any) -> None:
        """Record identifiers the target handed out (x-identifiers), with the path they belong under."""
        for resource in operation.identifiers:
            try:
                value = ShadowIds(body)(operation, resource)
            except MissingIdentifier:
                continue
            if value:
                self.known.add(resource, value, {path_resource(k): v for k, v in params.items()})

    def step(self, draw: Any, operation: Operation) -> None:
        params = path_values(draw, operation, self.known)
        broken = draw(st.integers(0, 9)) == 0
        plan = self.bodies.draw(draw, operation, self.known, broken, self._fresh_value)
        path = operation.path
        for name, value in params.items():
            path = path.replace("{" + name + "}", value)
        request = self.oracle.request(operation.method, path, body=plan.body, content_type=plan.content_type)
        response = self.oracle.exchange(request)
        if response is not None and 200 <= response.status < 300:
            try:
                self.remember(operation, params, response.payload())
            except ValueError:
                return

    def _fresh_value(self) -> str:
        # A client-chosen unique value (Stiply's external_key) that no earlier run or other client has used.
        self.fresh += 1
        return f"{self.run_token}-{self.fresh}"

    def control(self, draw: Any, name: str) -> None:
        controls = self.oracle.target.controls
        assert controls is not None
        action = getattr(self.oracle.model, name)
        required = [
            p.name for p in inspect.signature(action).parameters.values() if p.default is inspect.Parameter.empty
        ]
        args = {name_: pick(draw, self.known.values(path_resource(name_))) for name_ in required}
        if None in args.values():
            return
        try:
            getattr(controls, name)(**args)
        except ControlError:
            return
        action(**args)
        self.oracle.trace.append(f"control {name}({', '.join(args.values())})")


def machine_for(sequences: Sequences) -> type[RuleBasedStateMachine]:
    """One rule per documented operation and per control action, so Hypothesis' swarm testing varies the mix."""

    def __init__(self: RuleBasedStateMachine) -> None:
        RuleBasedStateMachine.__init__(self)
        sequences.oracle.start_sequence()

    def operation_rule(operation: Operation) -> Any:
        def call(self: RuleBasedStateMachine, data: Any) -> None:
            sequences.step(data.draw, operation)

        call.__name__ = operation.id
        return rule(data=st.data())(call)

    def control_rule(name: str) -> Any:
        def act(self: RuleBasedStateMachine, data: Any) -> None:
            sequences.control(data.draw, name)

        act.__name__ = f"control_{name}"
        return rule(data=st.data())(act)

    namespace: dict[str, Any] = {"__init__": __init__}
    namespace.update({op.id: operation_rule(op) for op in sequences.operations})
    if sequences.oracle.target.controls is not None:
        namespace.update({f"control_{name}": control_rule(name) for name in sequences.controls})
    return type(f"{sequences.oracle.model.name.title()}Contract", (RuleBasedStateMachine,), namespace)


def run_sequences(oracle: Oracle, *, seed: int, examples: int, steps: int, run_token: str) -> Sequences:
    sequences = Sequences(oracle, run_token)
    if oracle.target.controls is None and sequences.controls:
        oracle.report.skip(
            f"control actions {', '.join(sequences.controls)}: the states they make (a signer signs, a term expires) "
            "cannot be reached through the public API, so the rules that need them were not exercised against a "
            "remote target"
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
    )
    return sequences
