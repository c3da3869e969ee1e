"""Safelayer TrustedX eSignSP v2 as a state machine: document signature processes and their result.

Every rule here is declared in specs/trustedx.yaml (x-preconditions); this module only implements them.
Behaviour the sources leave open is marked "assumption" and listed in the spec's x-assumptions.
Tokens are the core's business: `requestToken` issues one, the core's auth checks it and its scopes.
"""

from __future__ import annotations

from typing import Any

from esign_contracts.mocks.provider import Call, ControlError, Provider, Reply, control, creates, effect, precondition

STATUSES = ("finished", "failed", "failed_documents", "canceled")  # docs: the values of status
TOKEN_LIFETIME = 600  # provider-notes: "expires_in": 600 (assumption token_lifetime)


def _result(body: dict[str, Any]) -> dict[str, Any]:
    """The documented fields of a result (assumption result_representation)."""
    kept: dict[str, Any] = {"status": body["status"]}
    if isinstance(body.get("details"), dict):
        kept["details"] = {k: v for k, v in body["details"].items() if k == "message"}
    return kept


def _check_status(status: Any) -> None:
    if status not in STATUSES:
        raise ControlError(f"status {status!r} is not a documented result status; one of {', '.join(STATUSES)}")


class TrustedX(Provider, name="trustedx", spec="trustedx"):
    """The TrustedX eSignSP v2 model. Control actions: add_signature_process, finish, reset."""

    default_credentials = {"clientBasic": ("trustedx-client", "trustedx-secret"), "bearerToken": "trustedx-token"}
    # An unknown process's result is documented as 410, so 404 still means a wrong URL and 401/403 bad
    # credentials; unlike requestToken it also works with TRUSTEDX_TOKEN alone (no client credentials).
    preflight = "getSignerProcessResult"
    # Determined by the documented effects: the id (shadowed), the result, the granted token type and scope.
    # Not expires_in: an installation may configure another lifetime (assumption token_lifetime).
    compared_fields = frozenset({"id", "status", "message", "token_type", "scope"})
    compared_lists: frozenset[str] = frozenset()
    token_lifetime = TOKEN_LIFETIME  # seconds (a test models an installation that configures another)

    def reset(self) -> None:
        # signature_process_id -> its result (None until established)
        self.processes: dict[str, dict[str, Any] | None] = {}

    def error_body(self, status: int, message: str, code: str | None = None, call: Call | None = None) -> Any:
        # assumptions error_body / token_error_body: OAuth field names; "error" only where the rule has a code.
        return {"error": code, "error_description": message} if code else {"error_description": message}

    def live_identifiers(self, parameter: str) -> list[str]:
        return list(self.processes) if parameter == "signature_process_id" else []

    def _id(self, call: Call) -> str:
        return call.params.get("signature_process_id", "")

    def _existing(self, signature_process_id: str) -> dict[str, Any] | None:
        if signature_process_id not in self.processes:
            known = ", ".join(self.processes) or "none"
            raise ControlError(f"trustedx has no signature process {signature_process_id!r}; known: {known}")
        return self.processes[signature_process_id]

    # -- preconditions (ids from x-preconditions) ---------------------------------------------------
    @precondition("grant_type_supported")
    def grant_type_supported(self, call: Call) -> bool:
        grant_type = call.field("grant_type")
        return grant_type is None or grant_type == "client_credentials"

    @precondition("process_exists")
    def process_exists(self, call: Call) -> bool:
        return self._id(call) in self.processes

    @precondition("result_established")
    def result_established(self, call: Call) -> bool:
        return self.processes.get(self._id(call), {}) is not None

    # -- effects (operationIds) ---------------------------------------------------------------------
    @effect("requestToken")
    def request_token(self, call: Call) -> Reply:
        token, scope = call.new_id("token"), call.field("scope")
        # assumption token_grants_requested_scope: exactly the scopes asked for (RFC 6749 3.3: space-separated)
        scopes = tuple(scope.split()) if isinstance(scope, str) else ()
        self.issue_token(token, scopes=scopes, expires_in=self.token_lifetime)
        answer: dict[str, Any] = {"access_token": token, "token_type": "Bearer", "expires_in": self.token_lifetime}
        if scopes:
            answer["scope"] = " ".join(scopes)
        return Reply(answer)

    @effect("createSignerProcess")
    def create_signer_process(self, call: Call) -> Reply:
        # assumptions create_request, create_status, create_answer_id: no field kept; 201 {"id": ...}
        signature_process_id = call.new_id("signature_process")
        self._new_process(signature_process_id)
        return Reply({"id": signature_process_id}, status=201)

    def _new_process(self, signature_process_id: str) -> None:
        self.processes[signature_process_id] = None  # no result until one is established

    @effect("getSignerProcess")
    def get_signer_process(self, call: Call) -> Reply:
        return Reply({"id": self._id(call)})  # assumption process_representation

    @effect("deleteSignerProcess")
    def delete_signer_process(self, call: Call) -> Reply:
        del self.processes[self._id(call)]  # assumption delete_in_any_state
        return Reply(b"", status=204)

    @effect("setSignerProcessResult")
    def set_signer_process_result(self, call: Call) -> Reply:
        # assumption result_set_twice: a new result replaces the old one
        self.processes[self._id(call)] = _result(call.body)
        return Reply(call.body)  # docs: "the body of the response contains the JSON object included in the request"

    @effect("getSignerProcessResult")
    def get_signer_process_result(self, call: Call) -> Reply:
        return Reply(self.processes[self._id(call)])

    # -- control: a signature process seeded, in one call (a mock convenience) ----------------------
    @control
    @creates("signature_process_id")
    def add_signature_process(self, status: str | None = None, signature_process_id: str = "") -> dict[str, Any]:
        """Seed a signature process, without a result or finished with `status`; returns its fields.

        Made as Create makes it; with `status`, finished as `finish` does. A refused seed changes nothing.
        """
        if status is not None:
            _check_status(status)
        signature_process_id = self.seed_id(
            signature_process_id, "signature_process_id", self.processes, "createSignerProcess", "signature_process"
        )
        self._new_process(signature_process_id)
        if status is not None:
            self.finish(signature_process_id, status)
        return {
            "signature_process_id": signature_process_id,
            "status": status,
            "id": signature_process_id,  # what Create answers
            "result": self.processes[signature_process_id],  # what the result GET answers, once established
        }

    # -- control: what only the platform can do ------------------------------------------------------
    @control
    def finish(self, signature_process_id: str, status: str = "finished") -> None:
        """The signing ends outside the API and the platform establishes the process's result."""
        _check_status(status)
        if self._existing(signature_process_id) is not None:
            raise ControlError(f"signature process {signature_process_id!r} has a result already")
        self.processes[signature_process_id] = {"status": status}
