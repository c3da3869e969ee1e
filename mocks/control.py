"""The control API over HTTP, under the reserved prefix `/__control`: the same objects a Python user holds.

Every route calls what `Mock` offers in Python (`control.<action>`, `reset`, `journal`, `violations`, `faults`),
so there is one implementation and two ways in. JSON in, JSON out; a mistake gets a 4xx naming what was wrong.

    GET    /__control                                   providers, their control actions and parameters
    POST   /__control/reset                             reset every provider (state, journal, faults)
    POST   /__control/{provider}/reset                  reset one
    POST   /__control/{provider}/actions/{action}       run a control action; the body holds its arguments
    GET    /__control/journal?provider=&operation=&outcome=&after=   journal entries (after: a seq number)
    GET    /__control/violations?provider=&operation=   what clients got wrong
    GET    /__control/{provider}/faults                 injected faults
    POST   /__control/{provider}/faults                 inject {operation, status|latency_ms|drop, times|share}
    DELETE /__control/{provider}/faults[/{id}]          remove all / one
"""

from __future__ import annotations

import dataclasses
import inspect
import json
from collections.abc import Iterable
from typing import Any

from esign_contracts.mocks.faults import FaultError
from esign_contracts.mocks.http import Request, Response
from esign_contracts.mocks.mock import Mock
from esign_contracts.mocks.provider import ControlError, parameters_text

PREFIX = "/__control"


class ControlProblem(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _parameters(action: Any) -> list[dict[str, Any]]:
    described = []
    for parameter in inspect.signature(action).parameters.values():
        item: dict[str, Any] = {"name": parameter.name, "required": parameter.default is inspect.Parameter.empty}
        if not item["required"]:
            item["default"] = parameter.default
        described.append(item)
    return described


class ControlAPI:
    """Answers requests under `/__control` for a set of served mocks."""

    def __init__(self, mocks: Iterable[Mock]) -> None:
        self.mocks = {mock.name: mock for mock in mocks}

    def handle(self, request: Request) -> Response:
        try:
            return self._route(request)
        except ControlProblem as problem:
            return Response.json(problem.status, {"message": str(problem)})

    # -- routing ------------------------------------------------------------------------------------------------
    def _route(self, request: Request) -> Response:
        parts = [p for p in request.path[len(PREFIX) :].split("/") if p]
        method = request.method
        if not parts:
            self._allow(method, "GET")
            return Response.json(200, self.index())
        if parts == ["reset"]:
            self._allow(method, "POST")
            for mock in self.mocks.values():
                mock.reset()
            return Response.json(200, {"reset": sorted(self.mocks)})
        if parts == ["journal"]:
            self._allow(method, "GET")
            return Response.json(200, self.journal(request.query))
        if parts == ["violations"]:
            self._allow(method, "GET")
            return Response.json(200, self.violations(request.query))
        mock = self._mock(parts[0])
        rest = parts[1:]
        if rest == ["reset"]:
            self._allow(method, "POST")
            mock.reset()
            return Response.json(200, {"reset": [mock.name]})
        if len(rest) == 2 and rest[0] == "actions":
            self._allow(method, "POST")
            return Response.json(200, {"result": self.act(mock, rest[1], self._body(request))})
        if rest and rest[0] == "faults":
            return self._faults(mock, method, rest[1:], request)
        raise ControlProblem(404, f"no control route {request.path}; see GET {PREFIX} and the README")

    @staticmethod
    def _allow(method: str, allowed: str) -> None:
        if method != allowed:
            raise ControlProblem(405, f"use {allowed} here, not {method}")

    def _mock(self, name: str) -> Mock:
        if name not in self.mocks:
            raise ControlProblem(404, f"{name!r} is not served here; served: {', '.join(sorted(self.mocks))}")
        return self.mocks[name]

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        if not request.body.strip():
            return {}
        try:
            body = json.loads(request.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ControlProblem(400, f"the body is not JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise ControlProblem(400, "the body must be a JSON object of named arguments")
        return body

    # -- what each route does -------------------------------------------------------------------------------------
    def index(self) -> dict[str, Any]:
        providers = {}
        for name, mock in self.mocks.items():
            model = mock.model
            actions = {
                action: {
                    "doc": (inspect.getdoc(getattr(model, action)) or "").split("\n")[0],
                    "parameters": _parameters(getattr(model, action)),
                }
                for action in model.controls
            }
            providers[name] = {"base_path": mock.engine.contract.base_path, "actions": actions}
        return {"providers": providers}

    def act(self, mock: Mock, action: str, arguments: dict[str, Any]) -> Any:
        if action not in mock.model.controls:
            raise ControlProblem(
                404, f"{mock.name} has no control action {action!r}; available: {', '.join(mock.model.controls)}"
            )
        try:
            inspect.signature(getattr(mock.model, action)).bind(**arguments)
        except TypeError as exc:
            raise ControlProblem(400, f"{action} takes {parameters_text(getattr(mock.model, action))}; {exc}") from exc
        try:
            return getattr(mock.control, action)(**arguments)
        except ControlError as exc:
            raise ControlProblem(409, str(exc)) from exc

    def _selected(self, query: dict[str, list[str]]) -> list[Mock]:
        wanted = query.get("provider", [])
        return [self._mock(name) for name in wanted] if wanted else list(self.mocks.values())

    def _operation(self, query: dict[str, list[str]]) -> str | None:
        """The `operation` filter, refused when no selected provider journals it: a typo would read as "nothing
        happened". A name already in a journal is taken as it stands (an unrouted request's, for one); an empty one
        is left as it was (an unreadable request that matched no operation)."""
        operation = (query.get("operation") or [None])[0]
        if not operation:
            return operation
        selected = self._selected(query)
        known = {name for mock in selected for name in mock.journaled_operations()}
        if operation not in known and not any(mock.journal.entries(operation=operation) for mock in selected):
            raise ControlProblem(
                400, f"operation {operation!r} is not journaled here; known: {', '.join(sorted(known))}"
            )
        return operation

    def journal(self, query: dict[str, list[str]]) -> dict[str, Any]:
        operation = self._operation(query)
        outcome = (query.get("outcome") or [None])[0]
        try:
            after = int((query.get("after") or ["0"])[0])
        except ValueError as exc:
            raise ControlProblem(400, "after must be a journal sequence number") from exc
        try:  # the journal refuses an outcome it does not know (naming those it does)
            entries = [
                {k: v for k, v in dataclasses.asdict(entry).items() if k != "violations"}
                for mock in self._selected(query)
                for entry in mock.journal.entries(operation=operation, outcome=outcome, after=after)
            ]
        except ValueError as exc:
            raise ControlProblem(400, str(exc)) from exc
        dropped = sum(mock.journal.dropped for mock in self._selected(query))
        return {"entries": sorted(entries, key=lambda e: e["at"]), "dropped": dropped}

    def violations(self, query: dict[str, list[str]]) -> dict[str, Any]:
        operation = self._operation(query)
        return {
            "violations": [
                dataclasses.asdict(v)
                for mock in self._selected(query)
                for v in mock.violations
                if operation is None or v.operation == operation
            ]
        }

    def _faults(self, mock: Mock, method: str, rest: list[str], request: Request) -> Response:
        if not rest and method == "GET":
            return Response.json(200, {"faults": [f.describe() for f in mock.faults.list()]})
        if not rest and method == "POST":
            body = self._body(request)
            unknown = set(body) - {"operation", "status", "latency_ms", "drop", "times", "share", "retry_after"}
            if "operation" not in body or unknown:
                raise ControlProblem(
                    400,
                    "a fault is {operation, status | latency_ms | drop, times | share, retry_after (with 429/503)}"
                    + (f"; unknown: {', '.join(sorted(unknown))}" if unknown else ""),
                )
            try:
                fault = mock.faults.add(body.pop("operation"), **body)
            except FaultError as exc:
                raise ControlProblem(400, str(exc)) from exc
            return Response.json(201, fault.describe())
        if not rest and method == "DELETE":
            mock.faults.clear()
            return Response.json(200, {"faults": []})
        if len(rest) == 1 and method == "DELETE":
            if not rest[0].isdigit() or not mock.faults.remove(int(rest[0])):
                raise ControlProblem(404, f"{mock.name} has no fault {rest[0]!r}")
            return Response.json(200, {"removed": int(rest[0])})
        raise ControlProblem(405, f"faults take GET, POST and DELETE; got {method} {request.path}")
