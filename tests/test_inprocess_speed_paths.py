"""The quick paths of a request through the mock answer exactly as the plain ones they stand in for."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import json
import math
from typing import Any

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from requests.structures import CaseInsensitiveDict

from esign_contracts.mocks import InProcess, Mock, Request
from esign_contracts.mocks.http import SECRET_ELEMENTS, Headers, json_bytes
from esign_contracts.mocks.journal import Entry, Journal, Violation, made
from esign_contracts.mocks.routing import _MAX_REMEMBERED_ROUTES, Route, Router, _segments
from esign_contracts.mocks.stiply import _MAX_STAMPS, _STAMPS, stamp
from esign_contracts.mocks.validation import _decode_json, _Refused
from esign_contracts.specs import load_contract

STIPLY = "https://api.stiply.nl/v1"
OPERATION = load_contract("stiply").operation("createSigner")
ROUTER = Router(load_contract("stiply"))


def _same(a: Any, b: Any) -> bool:
    """Equal values of the same types all the way down (1 and 1.0 differ; NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    return bool(a == b)


def _decoded(body: bytes) -> tuple[str, Any]:
    try:
        return "ok", _decode_json(OPERATION, Request("POST", "/", body=body), "/pointer")
    except _Refused as refused:
        return "refused", refused.problem


def _plain(body: bytes) -> tuple[str, Any]:
    try:
        return "ok", json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return "refused", None


EDGE_BODIES = [
    b'{"a":1,"a":2}',
    b"18446744073709551615",
    b"18446744073709551616",
    b"-9223372036854775808",
    b"-9223372036854775809",
    b"[123456789012345678901234567890]",
    b"NaN",
    b"[Infinity, -Infinity]",
    b"1e400",
    b"-0",
    b"-0.0",
    b"0.30000000000000000000001",
    b"4.9e-324",
    b"2.4e-324",
    b'"\\ud800"',
    b'"\xed\xa0\x80"',
    b"\xef\xbb\xbf{}",
    '{"a": "é"}'.encode("utf-16"),
    b"\xff",
    b"[1,]",
    b"01",
    b'"\x01"',
    b"[" * 3000 + b"]" * 3000,
    b" \n\t\r[1] ",
    b"\x0c{}",
]


@pytest.mark.parametrize("body", EDGE_BODIES)
def test_json_bodies_decode_as_json_reads_them(body: bytes) -> None:
    got, plain = _decoded(body), _plain(body)
    assert got[0] == plain[0]
    if got[0] == "ok":
        assert _same(got[1], plain[1])


def test_a_refused_json_body_is_explained_by_json() -> None:
    refused = _decoded(b'{"a": }')[1]
    with pytest.raises(json.JSONDecodeError) as plain:
        json.loads(b'{"a": }')
    assert refused.detail == f"is not valid JSON ({plain.value})"


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(JSON_VALUES, st.sampled_from([{}, {"separators": (",", ":")}, {"indent": 1}, {"ensure_ascii": False}]))
def test_any_json_document_decodes_as_json_reads_it(value: Any, style: dict[str, Any]) -> None:
    body = json.dumps(value, **style).encode("utf-8")
    got = _decoded(body)
    assert got[0] == "ok"
    assert _same(got[1], json.loads(body))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40) | st.text(alphabet='{}[]",:0123456789.eE+-truefalsnNIfiy \\u', max_size=40))
def test_any_bytes_decode_or_fail_as_json_reads_them(raw: bytes | str) -> None:
    body = raw.encode("utf-8") if isinstance(raw, str) else raw
    got, plain = _decoded(body), _plain(body)
    assert got[0] == plain[0]
    if got[0] == "ok":
        assert _same(got[1], plain[1])


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=dt.datetime(1, 1, 1), timezones=st.just(dt.UTC)))
def test_stamps_are_what_strftime_writes(moment: dt.datetime) -> None:
    assert stamp(moment) == moment.strftime("%Y-%m-%dT%H:%M:%S%z")


@pytest.mark.parametrize(
    "moment",
    [
        dt.datetime(2024, 2, 29, 23, 59, 59, 999999),  # no time zone
        dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        dt.datetime(999, 1, 1, tzinfo=dt.UTC),  # strftime does not pad a year before 1000
    ],
)
def test_other_moments_are_still_written_by_strftime(moment: dt.datetime) -> None:
    assert stamp(moment) == moment.strftime("%Y-%m-%dT%H:%M:%S%z")


@pytest.mark.parametrize(
    "text",
    ["<pswd>x</pswd>", "<a:PSWD attr='1'>secret</a:pswd >rest<pswd>y", "<pswd>cut off", "<pswdx>no</pswdx>", "none"],
)
def test_passwords_are_redacted_as_the_template_would(text: str) -> None:
    request = Request("POST", "/x", headers=CaseInsensitiveDict({"Content-Type": "application/json"}))
    request.body = text.encode()
    redacted = SECRET_ELEMENTS.sub(r"\1[redacted]\3", text)
    assert request.describe() == f"POST /x body={redacted}"


def test_a_prepared_requests_headers_are_copied_not_shared() -> None:
    headers = CaseInsensitiveDict({"Content-Type": "application/json", "X-One": "1"})
    request = Request.from_url("post", f"{STIPLY}/x?a=1&b=", headers, b"{}")
    assert request == Request.from_url("post", f"{STIPLY}/x?a=1&b=", list(headers.items()), b"{}")
    assert request.headers is not headers and dict(request.headers) == dict(headers)
    assert request.query == {"a": ["1"], "b": [""]}
    assert Request.from_url("GET", f"{STIPLY}/x").query == {}


def test_in_process_answers_are_unchanged() -> None:
    mock = Mock("stiply", seed=1)
    session = requests.Session()
    session.auth = ("stiply-user", "stiply-password")
    with InProcess([mock]):
        created = session.post(
            f"{STIPLY}/sign_requests", files={"file": ("d.pdf", b"%PDF-1.4", "application/pdf")}, data={"term": "2w"}
        )
        key = created.json()["data"]["sign_request"]["key"]
        signer = {"signer_email": "a@example.com", "signer_signature_fields": [{"name": "s1"}]}
        added = session.post(f"{STIPLY}/sign_requests/{key}/signers", json=signer)
        refused = session.post(f"{STIPLY}/sign_requests/{key}/signers", json={"signer_email": "not-an-email"})
    assert added.status_code == 200 and added.headers["Content-Type"] == "application/json"
    assert added.json()["data"]["fields"][0]["created_at"].endswith("+0000")
    assert refused.status_code == 400 and refused.headers["X-Esign-Contracts-Rule"] == "request schema"
    assert [(e.operation, e.status, e.outcome) for e in mock.journal] == [
        ("createSignRequest", 200, "ok"),
        ("createSigner", 200, "ok"),
        ("createSigner", 400, "violation"),
    ]


@pytest.mark.parametrize("depth", [255, 256, 900, 950, 980, 990, 1000, 1024, 1025, 1100])
@pytest.mark.parametrize("shape", ["[{}]", '{{"signer_email":{}}}'])
def test_a_deeply_nested_body_is_judged_as_json_judges_it_never_crashes_the_mock(depth: int, shape: str) -> None:
    """orjson reads up to 1,024 levels and json fewer: a body json refuses must not get past the reading."""
    body = b"1"
    for _ in range(depth):
        body = shape.format(body.decode()).encode()
    mock = Mock("stiply")
    with InProcess([mock]):
        answer = requests.post(
            f"{STIPLY}/sign_requests/unknown/signers",
            data=body,
            headers={"Content-Type": "application/json"},
            auth=("stiply-user", "stiply-password"),
            timeout=10,
        )
    assert answer.status_code in (400, 404), answer.text[:200]


def test_the_same_moment_in_two_time_zones_is_stamped_in_each_zone() -> None:
    utc = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
    plus_one = utc.astimezone(dt.timezone(dt.timedelta(hours=1)))
    assert utc == plus_one  # equal, and so one key to a cache that looks at the moment alone
    assert stamp(utc) == "2026-11-23T12:00:00+0000"
    assert stamp(plus_one) == "2026-11-23T13:00:00+0100"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.datetimes(min_value=dt.datetime(1000, 1, 1), timezones=st.just(dt.UTC)), min_size=1, max_size=8))
def test_stamps_of_moments_in_any_order_are_each_their_own(moments: list[dt.datetime]) -> None:
    # each moment again as a new object too: stamps are remembered per moment object
    for moment in [*moments, *reversed(moments), *(m.replace() for m in moments)]:
        assert stamp(moment) == moment.strftime("%Y-%m-%dT%H:%M:%S%z")


def test_moments_made_and_dropped_one_after_another_are_each_written_anew() -> None:
    # a freed moment's address is soon another's; past the bound the remembered ones are let go too
    zones = [dt.UTC, dt.timezone(dt.timedelta(hours=1)), dt.timezone(dt.timedelta(hours=-5))]
    for i in range(2 * _MAX_STAMPS + 10):
        moment = dt.datetime(2026, 1, 1, tzinfo=zones[i % 3]) + dt.timedelta(seconds=i)
        assert stamp(moment) == moment.strftime("%Y-%m-%dT%H:%M:%S%z")


def test_stamps_stay_right_past_the_remembered_moments() -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    moments = [start + dt.timedelta(seconds=i) for i in range(_MAX_STAMPS + 10)]
    for moment in [*moments, *moments[:20]]:
        assert stamp(moment) == moment.strftime("%Y-%m-%dT%H:%M:%S%z")
    assert len(_STAMPS) <= _MAX_STAMPS


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["Content-Type", "content-type", "X-A", "x-a", "Host"]), st.text()), max_size=6)
)
def test_headers_hold_what_requests_case_insensitive_dict_holds(pairs: list[tuple[str, str]]) -> None:
    quick, plain = Headers.of(pairs), CaseInsensitiveDict(pairs)
    assert quick == plain and list(quick.items()) == list(plain.items())
    for name in ("content-type", "CONTENT-TYPE", "x-a", "Transfer-Encoding"):
        assert quick.get(name) == plain.get(name) and quick.get(name, "none") == plain.get(name, "none")
    copied = quick.copy()
    copied["X-New"] = "1"
    assert isinstance(copied, Headers) and "x-new" not in quick


def test_a_journal_record_is_the_one_its_constructor_makes() -> None:
    values: dict[str, object] = {
        "seq": 1,
        "at": 2.0,
        "provider": "stiply",
        "operation": "createSigner",
        "method": "POST",
        "path": "/v1/x",
        "status": 201,
        "outcome": "ok",
    }
    quick = made(Entry, dict(values))
    assert quick == Entry(**values) and dataclasses.asdict(quick) == dataclasses.asdict(Entry(**values))  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        quick.status = 500  # type: ignore[misc]
    with pytest.raises(TypeError, match=r"missing fields \['status'\], unknown fields \['colour'\]"):
        made(Entry, {**{k: v for k, v in values.items() if k != "status"}, "colour": "red"})
    violation = {"provider": "p", "operation": "o", "rule": "r", "source": "s", "received": "x", "detail": "d"}
    assert made(Violation, dict(violation)) == Violation(**violation)
    assert str(made(Violation, dict(violation))) == str(Violation(**violation))


@pytest.mark.parametrize(
    "payload",
    [
        {"a": [1, 2.5, None, True, "é"]},
        {1: "one", "two": {3: [4]}},  # keys that are not strings: written as json writes them
        {"big": 2**70},  # beyond 64 bits: only json writes it
    ],
)
def test_answers_are_written_as_compact_json(payload: Any) -> None:
    assert json.loads(json_bytes(payload)) == json.loads(json.dumps(payload))
    assert json_bytes(payload) == json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="/ab{}", max_size=12))
def test_paths_split_into_segments_as_before(path: str) -> None:
    assert _segments(path) == [s for s in path.strip("/").split("/") if s != ""]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    st.lists(st.sampled_from(["sign_requests", "signers", "send", "abc", "v1", ""]), max_size=5),
)
def test_a_remembered_route_is_the_one_a_fresh_router_finds(method: str, segments: list[str]) -> None:
    path = "/v1/" + "/".join(segments)
    first = ROUTER.find(method, path)
    if isinstance(first, Route):
        first.params["sign_request_key"] = "changed by the caller"  # must not reach the next request
    assert ROUTER.find(method, path) == Router(load_contract("stiply")).find(method, path)


def test_remembered_routes_are_bounded() -> None:
    router = Router(load_contract("stiply"))
    for i in range(_MAX_REMEMBERED_ROUTES + 10):
        assert isinstance(router.find("GET", f"/v1/sign_requests/{i}"), Route)
    assert 0 < len(router._found) <= _MAX_REMEMBERED_ROUTES
    assert router.find("GET", "/v1/sign_requests/7").params == {"sign_request_key": "7"}


def test_the_journal_gives_back_the_records_it_was_given_and_keeps_them_out_of_the_collectors_view() -> None:
    journal = Journal()
    violation = Violation("stiply", "createSigner", "schema", "Create signer", "POST /x", "body: bad", "/paths/x")
    journal.record(provider="stiply", operation="ping", method="GET", path="/v1/ping", status=200, outcome="ok")
    journal.record(
        provider="stiply",
        operation="createSigner",
        method="POST",
        path="/v1/x",
        status=400,
        outcome="violation",
        rule="schema",
        message="bad",
        violations=(violation,),
    )
    first, second = journal.entries()
    assert first == Entry(first.seq, first.at, "stiply", "ping", "GET", "/v1/ping", 200, "ok")
    assert second.violations == (violation,) and second.rule == "schema" and second.message == "bad"
    assert journal.entries(operation="createSigner") == [second] == journal.entries(outcome="violation")
    assert list(journal) == [first, second] and journal.violations == [violation]
    assert journal.entries(after=first.seq) == [second] and journal.entries(after=second.seq) == []
    with pytest.raises(TypeError):
        journal.record(provider="stiply", operation="ping", method="GET", path="/", status=200, outcome="ok", x=1)  # type: ignore[call-arg]
    gc.collect()
    gc.collect()  # a tuple leaves the collector's view once the tuples in it have: one pass for each level
    assert not any(gc.is_tracked(row) for row in journal._entries)  # plain values only: nothing for it to walk
