"""Robustness of the served mock: hostile bodies, Schemathesis negative data, concurrent clients.

Over real HTTP, every provider on one port, on both servers (cheroot in this process with `Running`, and
`esign-contracts serve --server granian` in its own):

- every documented operation gets malformed bodies and lying framing (bad JSON, a wrong content type,
  invalid UTF-8, 10,000-deep nesting, a body at and just over the size limit, an empty body, multipart
  without a boundary, Content-Length huge, negative or not a number, broken chunked encoding), with a
  live and an unknown id: never a 5xx, a documented status (413 above the body limit), a JSON answer,
  and the server still answers a correct request afterwards;
- a body shorter than its Content-Length, and Content-Length -1, end with the server's request timeout
  at the latest, while other clients are served;
- Schemathesis negative data for every operation, judged by `not_a_server_error` alone;
- 4 clients x 1,000 Stiply operations on shared sign requests: the model ends in the state the journal
  and the answers say (no lost update).

Every client call has a timeout: a hang fails the test instead of stalling the run. Nothing here times
anything beyond that guard.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import http.client
import json
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from esign_contracts.contracts import serve as serve_module
from esign_contracts.contracts.ports import free_port
from esign_contracts.contracts.serve import REQUEST_TIMEOUT_SECONDS, Running
from esign_contracts.mocks import Mock
from esign_contracts.mocks import wsgi as wsgi_module
from esign_contracts.specs import Operation, load_contract

PROVIDERS = ("stiply", "ignisign", "okdokument", "trustedx")
CONTRACTS = {name: load_contract(name) for name in PROVIDERS}
SHIPPED_LIMIT = wsgi_module.MAX_BODY_BYTES  # 32 MiB; one test sends a body just over it
LIMIT = 64 * 1024  # the body limit of this module's server, lowered so "just over it" is quick to send
TIMEOUT = 10  # seconds: the hang guard on every client call
STALL_SECONDS = 2  # the request timeout of the server that is sent requests which stall
DEPTH = 10_000
UNKNOWN = "unknown-robustness-id"
PDF = b"%PDF-1.4\n%robustness\n%%EOF\n"
IGNISIGN_APP = {"appId": "ignisign-app", "appEnv": "DEVELOPMENT", "secret": "ignisign-secret"}


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# -- the served mocks ---------------------------------------------------------------------------------


@dataclass
class Served:
    port: int
    mocks: dict[str, Mock]
    jwt: str
    server: str = "cheroot"
    counter: collections.Counter = field(default_factory=collections.Counter)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def credentials(self, operation: Operation) -> dict[str, str]:
        """The headers that authenticate `operation`, so hostile bodies reach validation."""
        headers: dict[str, str] = {}
        for scheme in operation.security:
            if scheme == "basicAuth":
                headers["Authorization"] = _basic("stiply-user", "stiply-password")
            elif scheme == "bearerAuth":
                headers["Authorization"] = f"Bearer {self.jwt}"
            elif scheme == "apiKey":
                headers["x-api-key"] = "okdokument-api-key"
            elif scheme == "clientBasic":
                headers["Authorization"] = _basic("trustedx-client", "trustedx-secret")
            elif scheme == "bearerToken":
                headers["Authorization"] = "Bearer trustedx-token"
        return headers

    def unique(self, prefix: str) -> str:
        self.counter[prefix] += 1
        return f"{prefix}-{self.counter[prefix]}"


def _ignisign_token(port: int) -> str:
    answer = requests.post(f"http://127.0.0.1:{port}/v3/auth/app-api", json=IGNISIGN_APP, timeout=TIMEOUT)
    assert answer.status_code == 200, answer.text
    return answer.json()["jwtToken"]


@contextlib.contextmanager
def serving(timeout: int = REQUEST_TIMEOUT_SECONDS) -> Iterator[Served]:
    """All four mocks on one port (cheroot, in this process), the body limit lowered to LIMIT."""
    with pytest.MonkeyPatch.context() as patch:
        # make_server copies the timeout into cheroot; the app reads its limit at call time
        patch.setattr(wsgi_module, "MAX_BODY_BYTES", LIMIT)
        patch.setattr(serve_module, "REQUEST_TIMEOUT_SECONDS", timeout)
        mocks = {name: Mock(name, seed=index) for index, name in enumerate(PROVIDERS)}
        with Running(list(mocks.values())) as running:
            # the limit is the app's (a JSON 413); cheroot's own is off so that it does not answer first
            assert (running.server.max_request_body_size, running.server.timeout) == (0, timeout)
            yield Served(running.port, mocks, _ignisign_token(running.port))


@contextlib.contextmanager
def serving_on_granian(timeout: int = REQUEST_TIMEOUT_SECONDS) -> Iterator[Served]:
    """All four mocks served by `esign-contracts serve --server granian` in its own process, the limit at LIMIT.

    Its state lives in granian's worker, so `Served.mocks` is empty: what these tests judge goes over HTTP.
    """
    port = free_port("127.0.0.1")
    command = [
        *[sys.executable, "-m", "esign_contracts.contracts.cli", "serve", *PROVIDERS],
        *["--server", "granian", "--port", str(port), "--max-body-bytes", str(LIMIT)],
        *["--request-timeout", str(timeout)],
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until_answering(process, port)
        yield Served(port, {}, _ignisign_token(port), server="granian")
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=3 * TIMEOUT)
    assert process.returncode == 0, out + err
    assert "stopped." in out, out + err
    assert "Traceback" not in err, err


def wait_until_answering(process: subprocess.Popen, port: int) -> None:
    """Poll the control API until the served process answers (a guard against a hang, not a timing assumption)."""
    for _ in range(300):
        if process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(f"serve exited with {process.returncode}: {out}{err}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/__control", timeout=TIMEOUT).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"nothing answered on port {port}")


@pytest.fixture(scope="module", params=["cheroot", "granian"])
def served(request: pytest.FixtureRequest) -> Iterator[Served]:
    """The product's two servers: cheroot (the default) and granian (`--server granian`)."""
    with serving() if request.param == "cheroot" else serving_on_granian() as served:
        yield served


@pytest.fixture(params=["cheroot", "granian"])
def impatient(request: pytest.FixtureRequest) -> Iterator[Served]:
    """A server whose request timeout is STALL_SECONDS instead of the shipped 10 s, for the requests that stall."""
    if request.param == "cheroot":
        with serving(timeout=STALL_SECONDS) as served:
            yield served
    else:
        with serving_on_granian(timeout=STALL_SECONDS) as served:
            yield served


# -- live resources, and a correct request per provider ------------------------------------------------


def _ok(answer: requests.Response) -> Any:
    assert 200 <= answer.status_code < 300, f"{answer.request.method} {answer.url}: {answer.status_code} {answer.text}"
    return answer.json()


def _stiply_sign_request(served: Served) -> tuple[str, str]:
    external = served.unique("external")
    answer = requests.post(
        served.url("/v1/sign_requests"),
        files={"file": ("contract.pdf", PDF, "application/pdf")},
        data={"term": "2w", "external_key": external},
        headers={"Authorization": _basic("stiply-user", "stiply-password")},
        timeout=TIMEOUT,
    )
    return _ok(answer)["data"]["sign_request"]["key"], external


def _stiply_signer(served: Served, key: str) -> str:
    answer = requests.post(
        served.url(f"/v1/sign_requests/{key}/signers"),
        json={"signer_email": "signer@example.com", "signer_signature_fields": [{"name": "signature1"}]},
        headers={"Authorization": _basic("stiply-user", "stiply-password")},
        timeout=TIMEOUT,
    )
    return _ok(answer)["data"]["key"]


def live_parameters(served: Served, provider: str, operation: Operation) -> dict[str, str]:
    """Path parameters naming resources that exist now (created for this request alone)."""
    names = set(operation.path_parameters)
    values: dict[str, str] = {}
    if provider == "stiply" and names & {"sign_request_key", "external_key", "signer_key"}:
        key, external = _stiply_sign_request(served)
        values.update(sign_request_key=key, external_key=external)
        if "signer_key" in names:
            values["signer_key"] = _stiply_signer(served, key)
    elif provider == "ignisign":
        values.update(appId=IGNISIGN_APP["appId"], appEnv=IGNISIGN_APP["appEnv"])
        if "signatureRequestId" in names:
            answer = requests.post(
                served.url("/v3/applications/ignisign-app/envs/DEVELOPMENT/signature-requests"),
                json={"signatureProfileId": "profile-1"},
                headers={"Authorization": f"Bearer {served.jwt}"},
                timeout=TIMEOUT,
            )
            values["signatureRequestId"] = _ok(answer)["signatureRequestId"]
    elif provider == "okdokument" and "signatureRequestId" in names:
        answer = requests.post(
            served.url("/JSON/signatureRequest"), json={}, headers={"x-api-key": "okdokument-api-key"}, timeout=TIMEOUT
        )
        values["signatureRequestId"] = str(_ok(answer)["result"])
    elif provider == "trustedx" and "signature_process_id" in names:
        answer = requests.post(
            served.url("/trustedx-resources/esignsp/v2/signer_processes"),
            json={},
            headers={"Authorization": "Bearer trustedx-token"},
            timeout=TIMEOUT,
        )
        values["signature_process_id"] = _ok(answer)["id"]
    return {name: values[name] for name in names}


def unknown_parameters(operation: Operation) -> dict[str, str]:
    return {name: UNKNOWN for name in operation.path_parameters}


def path_of(provider: str, operation: Operation, parameters: dict[str, str]) -> str:
    path = CONTRACTS[provider].base_path + operation.path
    for name, value in parameters.items():
        path = path.replace("{" + name + "}", value)
    return path


def answers_a_correct_request(served: Served, provider: str) -> None:
    """The server still works: a correct request of this provider gets its documented success."""
    if provider == "stiply":
        answer = requests.post(
            served.url("/v1/actions/ping"),
            json={"ping_value": "pong"},
            headers={"Authorization": _basic("stiply-user", "stiply-password")},
            timeout=TIMEOUT,
        )
        assert _ok(answer) == {"ping_value": "pong", "status_code": "200"}
    elif provider == "ignisign":
        answer = requests.get(
            served.url("/v3/applications/ignisign-app/envs/DEVELOPMENT/webhooks"),
            headers={"Authorization": f"Bearer {served.jwt}"},
            timeout=TIMEOUT,
        )
        assert isinstance(_ok(answer), list)
    elif provider == "okdokument":
        answer = requests.post(
            served.url("/JSON/signatureRequest"), json={}, headers={"x-api-key": "okdokument-api-key"}, timeout=TIMEOUT
        )
        assert _ok(answer)["message"] == "msg.signature.request.id.created"
    else:
        answer = requests.post(
            served.url("/trustedx-authserver/oauth/main-as/token"),
            data={"grant_type": "client_credentials", "scope": "urn:safelayer:eidas:sign:process:document"},
            auth=("trustedx-client", "trustedx-secret"),
            timeout=TIMEOUT,
        )
        assert _ok(answer)["token_type"] == "Bearer"


# -- raw HTTP: bytes exactly as written, framing included ----------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    send_error: str  # the server closed the connection while the body was still being sent (413 before reading)

    def json(self) -> Any:
        return json.loads(self.body)


def exchange(
    port: int,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
    content_length: str | None = None,
    timeout: float = TIMEOUT,
) -> Answer:
    """Send one request over a fresh connection and read the answer; a socket timeout is a hang."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if content_length == "chunked":
        lines.append("Transfer-Encoding: chunked")
    else:
        lines.append(f"Content-Length: {len(body) if content_length is None else content_length}")
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        send_error = ""
        try:
            sock.sendall(raw)
        except (BrokenPipeError, ConnectionResetError) as exc:  # answered (and closed) before the body was read
            send_error = repr(exc)
        response = http.client.HTTPResponse(sock, method=method)
        try:
            response.begin()
            data = response.read()
        finally:
            response.close()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data, send_error)


# -- the hostile requests -------------------------------------------------------------------------------


def media_type(operation: Operation) -> str:
    content = (operation.raw.get("requestBody") or {}).get("content") or {"application/json": {}}
    media = next(iter(content))
    return f"{media}; boundary=robustness" if media == "multipart/form-data" else media


def _sized(operation: Operation, size: int) -> bytes:
    """A body of exactly `size` bytes in the operation's media type (well-formed JSON or form; padded multipart)."""
    media = media_type(operation)
    if media == "application/x-www-form-urlencoded":
        return (b"grant_type=" + b"a" * size)[:size]
    if media.startswith("multipart/"):
        head = b'--robustness\r\nContent-Disposition: form-data; name="term"\r\n\r\n'
        tail = b"\r\n--robustness--\r\n"
        return head + b"a" * (size - len(head) - len(tail)) + tail
    return b'{"x":"' + b"a" * (size - 8) + b'"}'


def _invalid_utf8(operation: Operation) -> bytes:
    media = media_type(operation)
    if media == "application/x-www-form-urlencoded":
        return b"grant_type=\xff\xfe\xc3\x28&scope=%ff%fe"
    if media.startswith("multipart/"):
        return (
            b'--robustness\r\nContent-Disposition: form-data; name="\xff\xfe"\r\n\r\n\xc3\x28\r\n'
            b'--robustness\r\nContent-Disposition: form-data; name="file"; filename="\xff.pdf"\r\n'
            b"Content-Type: application/pdf\r\n\r\n\xff\xfe\r\n--robustness--\r\n"
        )
    return b'{"\xff\xfe": "\xc3\x28", "signer_email": "\xed\xa0\x80@example.com"}'


@dataclass(frozen=True)
class Hostile:
    """One malformed request body (or framing), and the statuses it may get beyond the documented ones."""

    name: str
    content_type: Callable[[Operation], str]
    body: Callable[[Operation], bytes]
    content_length: str | None = None  # None: the body's true length; "chunked": Transfer-Encoding instead
    also: frozenset[int] = frozenset()  # transport statuses: 413 above the limit, 400 for broken framing
    malformed: bool = True  # False: a well-formed body the operation may accept (the one at the limit)
    # the servers that refuse this framing themselves, before the mock sees the request, with a plain 4xx
    refused_by: frozenset[str] = frozenset()
    # the servers that hand the app what arrived before the framing broke, as if the body ended there (granian
    # with broken chunks: contracts/serve_granian.py): the mock judges that shorter body, which may be valid
    cut_by: frozenset[str] = frozenset()


JSON = "application/json"
GRANIAN, BOTH = frozenset({"granian"}), frozenset({"cheroot", "granian"})
HOSTILE = (
    Hostile("bad-json", lambda op: JSON, lambda op: b'{"signer_email": "a@example.com",, [}'),
    Hostile("wrong-content-type", lambda op: "application/xml", lambda op: b"<signer><email>a@b.c</email></signer>"),
    Hostile("invalid-utf8", media_type, _invalid_utf8),
    Hostile("deep-array", lambda op: JSON, lambda op: b"[" * DEPTH + b"]" * DEPTH),
    Hostile("deep-object", lambda op: JSON, lambda op: b'{"a":' * DEPTH + b"1" + b"}" * DEPTH),
    Hostile("at-limit", media_type, lambda op: _sized(op, LIMIT), malformed=False),
    Hostile("over-limit", media_type, lambda op: _sized(op, LIMIT + 1), also=frozenset({413})),
    Hostile("empty", media_type, lambda op: b""),
    Hostile(
        "multipart-no-boundary",
        lambda op: "multipart/form-data",
        lambda op: b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF\r\n--b--\r\n',
    ),
    Hostile("huge-content-length", media_type, lambda op: b"{}", str(10**12), frozenset({413})),
    # -1 is in its own test below: it makes the server read to the end of the stream (a 10 s stall each time)
    Hostile("negative-content-length", media_type, lambda op: b"{}", "-5", frozenset({400}), refused_by=GRANIAN),
    Hostile("malformed-content-length", media_type, lambda op: b"{}", "12abc", frozenset({400}), refused_by=BOTH),
    Hostile(
        "broken-chunks", media_type, lambda op: b"zz\r\n{}\r\n0\r\n\r\n", "chunked", frozenset({400}), cut_by=GRANIAN
    ),
)

OPERATIONS = [(provider, operation) for provider in PROVIDERS for operation in CONTRACTS[provider].operations]


def _judge(answer: Answer, operation: Operation, hostile: Hostile, request: str, server: str) -> None:
    seen = f"{request} -> {answer.status} {answer.headers.get('content-type')} {answer.body[:300]!r}"
    seen += f" (sending the body failed: {answer.send_error})" if answer.send_error else ""
    assert answer.status < 500, f"5xx: {seen}"
    allowed = operation.statuses | hostile.also
    assert answer.status in allowed, f"undocumented status (allowed {sorted(allowed)}): {seen}"
    body = operation.raw.get("requestBody")
    cut = server in hostile.cut_by
    if hostile.malformed and not cut and body is not None and (hostile.name != "empty" or body.get("required")):
        assert 400 <= answer.status < 500, f"a malformed body was accepted: {seen}"
    if answer.status == 204:
        assert answer.body == b"", f"204 with a body: {seen}"
        return
    if server in hostile.refused_by:
        return
    assert answer.headers.get("content-type", "").split(";")[0] == JSON, f"not a JSON answer: {seen}"
    answer.json()


@pytest.mark.parametrize("hostile", HOSTILE, ids=[h.name for h in HOSTILE])
@pytest.mark.parametrize(("provider", "operation"), OPERATIONS, ids=[f"{p}.{o.id}" for p, o in OPERATIONS])
def test_a_hostile_body_gets_a_documented_json_4xx_and_the_server_goes_on(
    served: Served, provider: str, operation: Operation, hostile: Hostile
) -> None:
    for parameters in (live_parameters(served, provider, operation), unknown_parameters(operation)):
        path = path_of(provider, operation, parameters)
        headers = {**served.credentials(operation), "Content-Type": hostile.content_type(operation)}
        body = hostile.body(operation)
        sent = f"{operation.method} {path} Content-Type={headers['Content-Type']!r} "
        sent += f"Content-Length={hostile.content_length or len(body)} body={body[:60]!r}"
        answer = exchange(served.port, operation.method, path, headers, body, hostile.content_length)
        _judge(answer, operation, hostile, sent, served.server)
        answers_a_correct_request(served, provider)


def test_a_body_just_over_the_shipped_limit_gets_413(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real 32 MiB limit, not this module's lowered one: 413 as soon as the headers are read."""
    monkeypatch.setattr(wsgi_module, "MAX_BODY_BYTES", SHIPPED_LIMIT)
    with Running([Mock("stiply")]) as running:
        headers = {"Authorization": _basic("stiply-user", "stiply-password"), "Content-Type": JSON}
        body = b'{"ping_value":"' + b"a" * (SHIPPED_LIMIT + 1 - 17) + b'"}'
        assert len(body) == SHIPPED_LIMIT + 1
        answer = exchange(running.port, "POST", "/v1/actions/ping", headers, body)
        seen = f"{answer.status} {answer.headers.get('content-type')} {answer.body[:200]!r}"
        assert answer.status == 413, seen
        assert answer.headers.get("content-type", "").split(";")[0] == JSON, f"not a JSON answer: {seen}"
        ping = requests.post(
            f"http://127.0.0.1:{running.port}/v1/actions/ping",
            json={"ping_value": "pong"},
            headers={"Authorization": headers["Authorization"]},
            timeout=TIMEOUT,
        )
        assert ping.status_code == 200


def test_a_body_shorter_than_its_content_length_times_out_without_blocking_others(impatient: Served) -> None:
    """A client that promises more bytes than it sends is cut off by the server's request timeout; others go on."""
    headers = {"Authorization": _basic("stiply-user", "stiply-password"), "Content-Type": JSON}
    result: dict[str, Any] = {}

    def stall() -> None:
        try:
            result["answer"] = exchange(
                impatient.port, "POST", "/v1/actions/ping", headers, b"{}", "1000", timeout=TIMEOUT
            )
        except Exception as exc:  # reported below, with the request
            result["error"] = exc

    stalled = threading.Thread(target=stall)
    stalled.start()
    for provider in PROVIDERS:  # served while the stalled request waits for its missing bytes
        answers_a_correct_request(impatient, provider)
    stalled.join(timeout=2 * TIMEOUT)
    assert not stalled.is_alive(), "POST /v1/actions/ping Content-Length: 1000 with a 2-byte body never ended"
    assert "error" not in result, f"POST /v1/actions/ping Content-Length: 1000, 2 bytes sent: {result.get('error')!r}"
    answer = result["answer"]
    seen = f"{answer.status} {answer.headers.get('content-type')} {answer.body[:200]!r}"
    # The request timeout answers: cheroot's own (an empty 408, the mock never saw a request) or granian's adapter
    # (a JSON 408 in the provider's form, journaled as unreadable).
    assert answer.status in (400, 408), seen
    answers_a_correct_request(impatient, "stiply")


@pytest.mark.parametrize("server", ["cheroot", "granian"])
def test_a_body_cut_short_by_its_client_hanging_up_is_never_answered_as_if_whole(server: str) -> None:
    """Three clients stall in their bodies and then hang up: others are served meanwhile, and the mock is never
    handed a partial body as if it were the whole request (it is journaled as unreadable)."""
    headers = {"Authorization": _basic("stiply-user", "stiply-password"), "Content-Type": JSON}
    with serving() if server == "cheroot" else serving_on_granian() as served:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        stalled = []
        for _ in range(3):
            connection = socket.create_connection(("127.0.0.1", served.port), timeout=TIMEOUT)
            connection.sendall(
                f"POST /v1/actions/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}Content-Length: 1000\r\n\r\n".encode()
                + b'{"ping_value":"cut"}'
            )
            stalled.append(connection)
        for provider in PROVIDERS:  # served while three requests wait for their missing bytes
            answers_a_correct_request(served, provider)
        for connection in stalled:
            connection.close()
        journal = served.url("/__control/journal?provider=stiply&operation=ping")
        unreadable: list[dict[str, Any]] = []
        for _ in range(100):  # a guard against a hang: the hang-ups are journaled once the worker reads them
            entries = requests.get(journal, timeout=TIMEOUT).json()["entries"]
            unreadable = [e for e in entries if e["outcome"] == "unreadable"]
            if len(unreadable) == 3:
                break
            time.sleep(0.1)
        assert [(e["status"], e["rule"]) for e in unreadable] == [(400, "request body")] * 3, entries
        assert "ended" in unreadable[0]["message"] and "Content-Length's 1000 bytes" in unreadable[0]["message"]
        # the cut-off pings were never answered as if whole: the only ping that succeeded is the correct one
        assert [e["status"] for e in entries if e["outcome"] == "ok"] == [200], entries
        answers_a_correct_request(served, "stiply")


def test_content_length_minus_one_is_refused_not_read_to_the_end_of_the_stream(impatient: Served) -> None:
    """Content-Length: -1 is malformed framing: a 4xx at once, not a read that waits for the client to hang up."""
    headers = {"Authorization": _basic("stiply-user", "stiply-password"), "Content-Type": JSON}
    # The guard is longer than the server's request timeout, so the server's own answer is what is judged.
    answer = exchange(impatient.port, "POST", "/v1/actions/ping", headers, b"{}", "-1")
    seen = f"POST /v1/actions/ping Content-Length: -1 -> {answer.status} {answer.headers.get('content-type')} "
    seen += repr(answer.body[:200])
    assert answer.status == 400, seen
    if impatient.server == "cheroot":  # granian's HTTP layer (hyper) refuses it itself, with an empty 400
        assert answer.headers.get("content-type", "").split(";")[0] == JSON, f"not a JSON answer: {seen}"
    answers_a_correct_request(impatient, "stiply")


# -- Schemathesis negative data ---------------------------------------------------------------------------

EXAMPLES = 10


def _schemathesis_schema(served: Served, provider: str, credentials: str) -> Any:
    import schemathesis
    from schemathesis.config._auth import OpenAPIAuthConfig

    contract = CONTRACTS[provider]
    schema = schemathesis.openapi.from_dict(contract.document)
    schema.config.update(base_url=served.url(contract.base_path))
    schemes = {
        "stiply": {"basicAuth": {"username": "stiply-user", "password": "stiply-password"}},
        "ignisign": {"bearerAuth": {"bearer": served.jwt}},
        "okdokument": {"apiKey": {"api_key": "okdokument-api-key"}},
        "trustedx": {
            "bearerToken": {"bearer": "trustedx-token"},
            "clientBasic": {"username": "trustedx-client", "password": "trustedx-secret"},
        },
    }[provider]
    schema.config.auth.openapi = OpenAPIAuthConfig(schemes=schemes)
    # "kept": the credentials above on every case, so negative data reaches the parameters and body;
    # "mutated": Schemathesis also generates the security headers (missing, malformed credentials).
    schema.config.generation.update(with_security_parameters=credentials == "mutated")
    return schema


FREE_STRING = {"type": "string", "minLength": 1}  # its only negative value, "", cannot be put in a path


def has_negative_data(provider: str, operation: Operation, credentials: str) -> bool:
    """Whether Schemathesis can break any input: a body, a constrained parameter, or (mutated) the credentials.

    Schemathesis generates security parameters for http and apiKey schemes, not for oauth2 (TrustedX bearerToken).
    """
    if operation.raw.get("requestBody") or any(p.get("schema") != FREE_STRING for p in operation.parameters):
        return True
    schemes = CONTRACTS[provider].security_schemes()
    return credentials == "mutated" and any(schemes[name]["type"] in ("http", "apiKey") for name in operation.security)


# Operations with nothing negative data can break (a free string path parameter, TrustedX's oauth2 bearer) are not
# listed: Hypothesis would only report them Unsatisfiable. The hostile bodies above cover them.
NEGATIVE = [
    (provider, operation, credentials)
    for provider, operation in OPERATIONS
    for credentials in ("kept", "mutated")
    if has_negative_data(provider, operation, credentials)
]


@pytest.mark.parametrize(
    ("provider", "operation", "credentials"), NEGATIVE, ids=[f"{p}.{o.id}-{c}" for p, o, c in NEGATIVE]
)
def test_schemathesis_negative_data_never_gets_a_server_error(
    served: Served, provider: str, operation: Operation, credentials: str
) -> None:
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.core.errors import SerializationError

    schema = _schemathesis_schema(served, provider, credentials)
    strategy = schema.find_operation_by_id(operation.id).as_strategy(generation_mode=GenerationMode.NEGATIVE)
    sent: list[int] = []

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def exercise(case: Any) -> None:
        try:
            response = case.call(timeout=TIMEOUT)
        except SerializationError:
            return  # Schemathesis cannot encode this case (a file part of a type it has no serializer for)
        sent.append(response.status_code)
        case.validate_response(response, checks=[not_a_server_error])

    exercise()
    assert sent and all(status < 500 for status in sent), sent
    answers_a_correct_request(served, provider)


# -- concurrency: 4 clients x 1,000 operations on shared sign requests -------------------------------------

CLIENTS = 4
OPERATIONS_PER_CLIENT = 1_000
SHARED_REQUESTS = 3


@dataclass(frozen=True)
class Sent:
    """What one client sent and got: enough to rebuild the state without reading the model."""

    operation: str
    method: str
    path: str
    status: int
    sign_request: str
    signer: str = ""  # the signer the request named, or the one a createSigner answer created
    email: str = ""  # the email a 2xx createSigner/updateSigner answer carries


def _client(
    port: int, number: int, requests_: list[str], pool: dict[str, list[str]], lock: threading.Lock
) -> list[Sent]:
    rng = random.Random(1_000 + number)
    session = requests.Session()
    session.auth = ("stiply-user", "stiply-password")
    done: list[Sent] = []
    try:
        for step in range(OPERATIONS_PER_CLIENT):
            sign_request = rng.choice(requests_)
            with lock:
                known = list(pool[sign_request])
            kind = rng.choices(["create", "delete", "update", "get", "read"], weights=[35, 25, 25, 10, 5])[0]
            if kind != "create" and not known:
                kind = "create"
            if kind == "create":
                path = f"/v1/sign_requests/{sign_request}/signers"
                email = f"c{number}-{step}@example.com"
                answer = session.post(
                    f"http://127.0.0.1:{port}{path}",
                    json={"signer_email": email, "signer_signature_fields": [{"name": "signature1"}]},
                    timeout=TIMEOUT,
                )
                signer = answer.json()["data"]["key"] if answer.status_code == 200 else ""
                if signer:
                    with lock:
                        pool[sign_request].append(signer)
                done.append(Sent("createSigner", "POST", path, answer.status_code, sign_request, signer, email))
                continue
            if kind == "read":
                path = f"/v1/sign_requests/{sign_request}"
                answer = session.get(f"http://127.0.0.1:{port}{path}", timeout=TIMEOUT)
                done.append(Sent("getSignRequest", "GET", path, answer.status_code, sign_request))
                continue
            signer = rng.choice(known)
            path = f"/v1/sign_requests/{sign_request}/signers/{signer}"
            url = f"http://127.0.0.1:{port}{path}"
            if kind == "delete":
                answer = session.delete(url, timeout=TIMEOUT)
                if answer.status_code == 200:
                    with lock:
                        if signer in pool[sign_request]:
                            pool[sign_request].remove(signer)
                done.append(Sent("deleteSigner", "DELETE", path, answer.status_code, sign_request, signer))
            elif kind == "update":
                email = f"u{number}-{step}@example.com"
                answer = session.put(url, json={"new_email": email}, timeout=TIMEOUT)
                if answer.status_code == 200:
                    assert answer.json()["data"][0]["email"] == email
                kept = email if answer.status_code == 200 else ""
                done.append(Sent("updateSigner", "PUT", path, answer.status_code, sign_request, signer, kept))
            else:
                answer = session.get(url, timeout=TIMEOUT)
                done.append(Sent("getSigner", "GET", path, answer.status_code, sign_request, signer))
    finally:
        session.close()
    return done


def _run_clients(port: int, journal_length: Callable[[], int]) -> tuple[list[str], dict[str, list[str]], list[Sent]]:
    """Three shared sign requests with two signers each, then 4 clients x 1,000 operations on them at once."""
    served = Served(port, {}, jwt="")
    requests_ = [_stiply_sign_request(served)[0] for _ in range(SHARED_REQUESTS)]
    initial = {key: [_stiply_signer(served, key), _stiply_signer(served, key)] for key in requests_}
    pool = {key: list(signers) for key, signers in initial.items()}
    assert journal_length() == SHARED_REQUESTS * 3

    lock = threading.Lock()
    results: dict[int, list[Sent]] = {}
    errors: dict[int, BaseException] = {}
    barrier = threading.Barrier(CLIENTS)

    def run(number: int) -> None:
        try:
            barrier.wait(timeout=TIMEOUT)
            results[number] = _client(port, number, requests_, pool, lock)
        except BaseException as exc:  # reported with its client below
            errors[number] = exc

    threads = [threading.Thread(target=run, args=(n,), name=f"client-{n}") for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=OPERATIONS_PER_CLIENT * TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a client never finished"
    assert not errors, f"clients failed: {errors!r}"
    return requests_, initial, [item for number in range(CLIENTS) for item in results[number]]


def _judge_clients(
    requests_: list[str],
    initial: dict[str, list[str]],
    sent: list[Sent],
    entries: list[dict[str, Any]],
    dropped: int,
    signers: dict[str, dict[str, str]],
) -> None:
    """The final state (sign request -> signer key -> email) is what the journal and the answers say happened."""
    setup = SHARED_REQUESTS * 3
    assert len(sent) == CLIENTS * OPERATIONS_PER_CLIENT
    assert all(item.status < 500 for item in sent), collections.Counter(i.status for i in sent if i.status >= 500)

    # The journal holds exactly the setup plus every client request, each with the status its client got.
    assert dropped == 0
    assert len(entries) == setup + CLIENTS * OPERATIONS_PER_CLIENT
    traffic = entries[setup:]
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert collections.Counter((e["operation"], e["method"], e["path"], e["status"]) for e in traffic) == (
        collections.Counter((s.operation, s.method, s.path, s.status) for s in sent)
    )
    assert {e["outcome"] for e in traffic} <= {"ok", "refused"}, collections.Counter(e["outcome"] for e in traffic)

    # The state the journal and the answers describe: initial signers, plus each one a 2xx createSigner
    # answer named, minus each one a 2xx deleteSigner entry names.
    created = [s for s in sent if s.operation == "createSigner" and s.status == 200]
    assert len({s.signer for s in created}) == len(created), "a signer key was handed out twice"
    deleted = [e["path"].rsplit("/", 1)[1] for e in traffic if e["operation"] == "deleteSigner" and e["status"] == 200]
    assert len(set(deleted)) == len(deleted), "a signer was deleted twice"
    for key in requests_:
        path = f"/v1/sign_requests/{key}/signers"
        journal_created = [
            e for e in traffic if e["operation"] == "createSigner" and e["status"] == 200 and e["path"] == path
        ]
        mine = [s.signer for s in created if s.sign_request == key]
        assert len(journal_created) == len(mine)
        gone = {
            e["path"].rsplit("/", 1)[1]
            for e in traffic
            if e["operation"] == "deleteSigner" and e["status"] == 200 and e["path"].startswith(path + "/")
        }
        expected = (set(initial[key]) | set(mine)) - gone
        assert set(signers[key]) == expected, key
        # each surviving signer carries the email of a successful update to it, or its own if none succeeded
        for signer_key, email in signers[key].items():
            updates = {
                s.email for s in sent if s.operation == "updateSigner" and s.status == 200 and s.signer == signer_key
            }
            original = next((s.email for s in created if s.signer == signer_key), "signer@example.com")
            assert email in (updates or {original}), (signer_key, email)
    assert sum(len(found) for found in signers.values()) == SHARED_REQUESTS * 2 + len(created) - len(deleted)


def test_concurrent_clients_lose_no_update_and_the_journal_says_what_happened() -> None:
    mock = Mock("stiply", seed=11)
    with Running([mock]) as running:
        requests_, initial, sent = _run_clients(running.port, lambda: len(mock.journal))
    entries = [{k: v for k, v in vars(entry).items() if k != "violations"} for entry in mock.journal]
    signers = {key: {k: s.email for k, s in mock.model.requests[key].signers.items()} for key in requests_}
    assert set(mock.model.requests) == set(requests_)
    _judge_clients(requests_, initial, sent, entries, mock.journal.dropped, signers)


def test_concurrent_clients_on_granian_lose_no_update_either() -> None:
    """The same run against `serve --server granian`, judged over HTTP: the control API's journal, public GETs."""
    with serving_on_granian() as served:
        control = served.url("/__control/journal?provider=stiply")

        def journal() -> dict[str, Any]:
            return requests.get(control, timeout=TIMEOUT).json()

        requests_, initial, sent = _run_clients(served.port, lambda: len(journal()["entries"]))
        found = journal()
        auth = {"Authorization": _basic("stiply-user", "stiply-password")}
        signers = {}
        for key in requests_:
            answer = _ok(requests.get(served.url(f"/v1/sign_requests/{key}"), headers=auth, timeout=TIMEOUT))
            signers[key] = {s["key"]: s["email"] for s in answer["data"]["sign_request"]["signers"]}
        # the GETs just sent are journaled after the run; the judged journal is the one read before them
    entries = sorted(found["entries"], key=lambda e: e["seq"])
    _judge_clients(requests_, initial, sent, entries, found["dropped"], signers)
