"""specs/signix: the SubmitAjax XSD, a JSON Schema per JSON request, the x-ajax rules, and safe XML parsing.

The docs print every XML example as an annotated template (x-errata annotated_templates); `instances` turns
each one into the documents it stands for, and every one of them must be valid against the XSD.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from esign_contracts.specs.ajax import NAMESPACE, XmlProblem, object_types, parse_xml, request_schema, xml_schema

from .conftest import DOCS, ROOT

TEXT = (DOCS / "signix-ajax-transaction-controls.txt").read_text(encoding="utf-8")
SPEC = yaml.safe_load((ROOT / "specs" / "signix" / "signix.yaml").read_text(encoding="utf-8"))
AJAX = SPEC["x-ajax"]
OBJECT_TYPES = ["Transaction_Cancel", "Transaction_Resume", "Transaction_SaveDeltas", "Transaction_SendPartyEmail",
                "Transaction_Suspend"]  # fmt: skip
UNTERMINATED = {"Transaction_Cancel", "Transaction_Suspend", "Transaction_Resume"}  # x-errata unterminated_single_...
SECTIONS = {  # docs section -> the objectType of each <Request>{...}</Request> it prints, in order
    "Cancel Transaction": ["Transaction_Cancel"],
    "Suspend / Resume Transaction": ["Transaction_Suspend", "Transaction_Resume"],
    "Change Signer Email": ["Transaction_SaveDeltas"],
    "Re-send Signer Pickup Email": ["Transaction_SendPartyEmail"],
    "Change Signer Mobile Phone Number": ["Transaction_SaveDeltas"],
}


def section(title: str) -> str:
    start = TEXT.index(f"\n{title}\n")
    return TEXT[start : TEXT.index("[Back to top]", start)]


def docs_requests(title: str) -> list[str]:
    return re.findall(r"<Request>(\{.*?)</Request>", section(title))


def strict(text: str, object_type: str) -> str:
    """The docs' JSON, with the erratum's correction for {'objectType':'Transaction_Cancel' and its siblings."""
    return text.replace("'", '"') + "}" if object_type in UNTERMINATED else text


EMAIL = json.loads(docs_requests("Change Signer Email")[0])
PHONE = json.loads(docs_requests("Change Signer Mobile Phone Number")[0])

# --- de-annotating the docs' XML templates ---------------------------------------------------------------------

BLOCKS = re.findall(r"<\?xml .*?</SubmitAjaxR[qs]>", TEXT, re.S)
MARKUP = re.compile(r"<\?.*?\?>|<!--.*?-->|<(\w+)[^>]*>(?:[^<]*</\1>)?|</\w+>")
FILL = {  # each "..." placeholder -> a JSON text (the docs' own JSON where the placeholder names one)
    "...XML-Encoded JSON...": '{"objectType":"Transaction_Suspend"}',
    "...XML-Encoded JSON for Request 1 (i.e. Change signer email)...": json.dumps(EMAIL),
    "...XML-Encoded JSON for Request 2 (i.e. Change signer mobile number)...": json.dumps(PHONE),
    "...XML-Encoded JSON Response...": "{}",
    "...Request 1 response...": "{}",
    "...Request 2 response...": "{}",
}


def instances(block: str) -> list[str]:
    """The documents one template stands for.

    1. On a line that starts with markup, keep its leading markup (a tag, a comment, or an element with its text
       content) and drop the prose after it; drop lines without markup (prose, and the "..." lines that stand for
       more Request or Response elements).
    2. "OR" makes the markup before it and the markup after it alternatives; each combination is one document.
    3. Replace a "..." placeholder content of Request/Response by a JSON text (FILL).
    """
    slots: list[list[str]] = []
    alternative = False
    for line in (raw.strip() for raw in block.splitlines()):
        if line == "OR":
            alternative = True
            continue
        match = MARKUP.match(line)
        assert match or not line.startswith("<"), f"unrecognised markup: {line}"
        if match:
            markup = re.sub(r">(\.\.\..*\.\.\.)<", lambda m: f">{FILL[m.group(1)]}<", match.group(0))
            if alternative:
                slots[-1].append(markup)
            else:
                slots.append([markup])
            alternative = False
    return ["\n".join(choice) for choice in itertools.product(*slots)]


def test_the_xsd_loads_and_every_request_schema_is_a_draft_2020_12_schema_named_by_its_object_type() -> None:
    assert xml_schema() is not None
    assert object_types() == OBJECT_TYPES
    for object_type in OBJECT_TYPES:
        schema = request_schema(object_type)
        Draft202012Validator.check_schema(schema)
        assert schema["$id"] == f"urn:esign-contracts:signix:{object_type}"
        assert schema["properties"]["objectType"]["const"] == object_type
        assert schema["title"] and schema["x-source"] and schema["description"]
        assert all(Draft202012Validator(schema).is_valid(example) for example in schema.get("examples", []))


def test_the_docs_print_nine_xml_templates_that_stand_for_eighteen_documents() -> None:
    # Counted by hand: single Rq/Rs, multiple Rq/Rs, Cancel, Suspend/Resume, Email, Pickup Email, Mobile Phone;
    # each request has DocumentSetID OR TransactionID, and Suspend/Resume also Suspend OR Resume.
    assert [len(instances(block)) for block in BLOCKS] == [2, 1, 2, 1, 2, 4, 2, 2, 2]


@pytest.mark.parametrize("document", [d for b in BLOCKS for d in instances(b)])
def test_every_docs_xml_example_de_annotated_is_valid_against_the_xsd(document: str) -> None:
    schema = xml_schema()
    assert schema.validate(parse_xml(document.encode())), f"{schema.error_log}\n{document}"


@pytest.mark.parametrize("title", SECTIONS)
def test_every_docs_json_request_is_valid_against_its_schema_after_the_erratum_only_where_recorded(title: str) -> None:
    texts = docs_requests(title)
    assert [re.search(r"objectType['\"]\s*:\s*['\"](\w+)", t).group(1) for t in texts] == SECTIONS[title]
    for text, object_type in zip(texts, SECTIONS[title], strict=True):
        if object_type in UNTERMINATED:
            with pytest.raises(json.JSONDecodeError):
                json.loads(text)
        validator = Draft202012Validator(request_schema(object_type))
        assert [e.message for e in validator.iter_errors(json.loads(strict(text, object_type)))] == []


# --- the XSD, beyond the docs' examples --------------------------------------------------------------------------

TX = "aefd45aa-6a36-4ab5-8cc8-4dc6e895fa21"
CUST = "<CustInfo><Sponsor>oem</Sponsor><Client>oemclient</Client><UserId>u</UserId><Pswd>p</Pswd></CustInfo>"
REQ = '<Request>{"objectType":"Transaction_Suspend"}</Request>'
SWAPPED = "<CustInfo><Client>oemclient</Client><Sponsor>oem</Sponsor><UserId>u</UserId><Pswd>p</Pswd></CustInfo>"
STATUS = "<Status><StatusCode>0</StatusCode><StatusDesc>success</StatusDesc></Status>"


def rq(data: str, cust: str = CUST, namespace: str = NAMESPACE) -> str:
    return f'<?xml version="1.0" ?><SubmitAjaxRq xmlns="{namespace}">{cust}<Data>{data}</Data></SubmitAjaxRq>'


def rs(body: str) -> str:
    return f'<SubmitAjaxRs xmlns="{NAMESPACE}">{body}</SubmitAjaxRs>'


VALID = {
    "single_request": rq(f"<TransactionID>{TX}</TransactionID>{REQ}"),
    "document_set_id": rq(f"<DocumentSetID>-147fb68b:1043a5db9ca:-7f5fid11or</DocumentSetID>{REQ}"),
    "three_requests": rq(f"<TransactionID>{TX}</TransactionID><Requests>{REQ * 3}</Requests>"),
    "status_only": rs("<Status><StatusCode>101</StatusCode><StatusDesc>cvc-complex-type</StatusDesc></Status>"),
    "single_response_without_attributes": rs(f"{STATUS}<Data><Response>{{}}</Response></Data>"),
    "responses": rs(
        f'{STATUS}<Data><Responses><Response responseCode="0" responseDesc="success">{{}}</Response></Responses></Data>'
    ),
}
INVALID = {
    "custinfo_out_of_order": rq(f"<TransactionID>{TX}</TransactionID>{REQ}", cust=SWAPPED),
    "pswd_lower_case": rq(f"<TransactionID>{TX}</TransactionID>{REQ}", cust=CUST.replace("Pswd>", "pswd>")),
    "transaction_id_35": rq(f"<TransactionID>{TX[:-1]}</TransactionID>{REQ}"),
    "transaction_id_37": rq(f"<TransactionID>{TX}0</TransactionID>{REQ}"),
    "both_ids": rq(f"<DocumentSetID>d</DocumentSetID><TransactionID>{TX}</TransactionID>{REQ}"),
    "neither_id": rq(REQ),
    "empty_document_set_id": rq(f"<DocumentSetID></DocumentSetID>{REQ}"),
    "request_and_requests": rq(f"<TransactionID>{TX}</TransactionID>{REQ}<Requests>{REQ}</Requests>"),
    "empty_requests": rq(f"<TransactionID>{TX}</TransactionID><Requests></Requests>"),
    "wrong_namespace": rq(f"<TransactionID>{TX}</TransactionID>{REQ}", namespace="urn:com:signix:schema:sdddc-1-0"),
    "responses_without_response_code": rs(
        f'{STATUS}<Data><Responses><Response responseDesc="success">{{}}</Response></Responses></Data>'
    ),
    "status_code_not_an_int": rs("<Status><StatusCode>OK</StatusCode><StatusDesc>x</StatusDesc></Status>"),
}


@pytest.mark.parametrize(("name", "valid"), [(n, True) for n in VALID] + [(n, False) for n in INVALID])
def test_the_xsd_enforces_order_case_namespace_and_the_documented_choices(name: str, valid: bool) -> None:
    assert xml_schema().validate(parse_xml({**VALID, **INVALID}[name].encode())) is valid, xml_schema().error_log


# --- the JSON request schemas, beyond the docs' examples ---------------------------------------------------------


def changed(document: dict[str, Any], change: Any) -> dict[str, Any]:
    document = copy.deepcopy(document)
    change(document)
    return document


def party(document: dict[str, Any], index: int = 0) -> dict[str, Any]:
    return document["deltas"][index]["role"]["party"]


PICKUP = json.loads(docs_requests("Re-send Signer Pickup Email")[0])
JSON_CASES = [
    ("Transaction_SaveDeltas", "two_email_deltas", True, changed(EMAIL, lambda d: d["deltas"].append(d["deltas"][0]))),
    ("Transaction_SaveDeltas", "email_and_phone_in_one_party", False,
     changed(EMAIL, lambda d: party(d).update(phoneTable=party(PHONE)["phoneTable"]))),
    ("Transaction_SaveDeltas", "an_email_delta_and_a_phone_delta", False,
     changed(EMAIL, lambda d: d["deltas"].extend(PHONE["deltas"]))),
    ("Transaction_SaveDeltas", "empty_deltas", False, changed(EMAIL, lambda d: d.update(deltas=[]))),
    ("Transaction_SaveDeltas", "two_email_entries", False,
     changed(EMAIL, lambda d: party(d)["emailAddressTable"].update(REF2={"address": "b@test.com",
                                                                        "objectType": "EmailAddress"}))),
    ("Transaction_SaveDeltas", "email_and_name", False, changed(EMAIL, lambda d: party(d).update(name="B"))),
    ("Transaction_SaveDeltas", "phone_and_name", False, changed(PHONE, lambda d: party(d).update(name="B"))),
    ("Transaction_SaveDeltas", "wrong_object_type", False,
     changed(EMAIL, lambda d: d.update(objectType="Transaction_SaveDelta"))),
    ("Transaction_SendPartyEmail", "lower_case_id", True,
     changed(PICKUP, lambda d: d["to"][0].update(id=d["to"][0].pop("Id")))),
    ("Transaction_SendPartyEmail", "addressee_without_id", False, changed(PICKUP, lambda d: d["to"][0].pop("Id"))),
    ("Transaction_SendPartyEmail", "no_addressee", False, changed(PICKUP, lambda d: d.update(to=[]))),
    ("Transaction_SendPartyEmail", "wrong_object_type", False,
     changed(PICKUP, lambda d: d["to"][0].update(objectType="TxRole"))),
    ("Transaction_Suspend", "cancel_sent_as_suspend", False, {"objectType": "Transaction_Cancel"}),
    ("Transaction_Resume", "extra_properties", True, {"objectType": "Transaction_Resume", "reason": "docs are silent"}),
]  # fmt: skip


@pytest.mark.parametrize(("object_type", "name", "valid", "document"), JSON_CASES, ids=[c[1] for c in JSON_CASES])
def test_the_request_schemas_enforce_one_kind_of_change_and_a_party_ref(
    object_type: str, name: str, valid: bool, document: dict[str, Any]
) -> None:
    assert Draft202012Validator(request_schema(object_type)).is_valid(document) is valid


ALLOWED = {"type", "properties", "required", "additionalProperties", "const", "enum", "items", "minItems", "maxItems",
           "minProperties", "maxProperties", "minLength", "maxLength", "oneOf", "not", "$defs", "$ref", "description",
           "examples", "x-party-ref", "$schema", "$id", "title", "x-source"}  # fmt: skip


def walk(schema: dict[str, Any], path: str, refs: set[str]) -> None:
    """Assert the schema uses only what our Hypothesis generator walks; collect the paths marked x-party-ref."""
    assert set(schema) <= ALLOWED, f"{path}: {set(schema) - ALLOWED}"
    assert set(schema.get("not", {"required": []})) == {"required"}, f"{path}: not must be {{'required': [...]}}"
    assert schema.get("$ref", "#/$defs/").startswith("#/$defs/"), path
    if schema.get("x-party-ref"):
        refs.add(path)
    children = [(f"{path}/{k}", v) for k, v in {**schema.get("properties", {}), **schema.get("$defs", {})}.items()]
    children += [(f"{path}/items", schema.get("items")), (f"{path}/*", schema.get("additionalProperties"))]
    children += [(f"{path}/oneOf", s) for s in schema.get("oneOf", [])]
    for child_path, child in children:
        if isinstance(child, dict):
            walk(child, child_path, refs)


def test_the_schemas_use_only_the_generators_keywords_and_mark_every_party_ref() -> None:
    refs: set[str] = set()
    for object_type in OBJECT_TYPES:
        walk(request_schema(object_type), object_type, refs)
    assert refs == {
        "Transaction_SaveDeltas/EmailDelta/role/id",
        "Transaction_SaveDeltas/PhoneDelta/role/id",
        "Transaction_SendPartyEmail/TxRoleAddressee/Id",
        "Transaction_SendPartyEmail/TxRoleAddressee/id",
    }


# --- the x-ajax rules of signix.yaml -----------------------------------------------------------------------------


def rules() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Each rule with the section it belongs to (whose x-source it inherits)."""
    sections = [(AJAX, AJAX[key]) for key in ("envelope-rules", "request-rules", "client-rules")]
    sections += [(request, request.get("rules", [])) for request in AJAX["requests"].values()]
    return [(owner, rule) for owner, listed in sections for rule in listed]


def test_every_rule_is_unique_traced_and_undocumented_ones_name_an_existing_assumption() -> None:
    ids = [rule["id"] for _, rule in rules()]
    assert len(ids) == len(set(ids)) and len(ids) >= 20, ids
    assumptions = {item["id"] for item in SPEC["x-assumptions"]}
    for owner, rule in rules():
        assert rule.get("rule") and (rule.get("x-source") or owner.get("x-source")), rule["id"]
        if rule.get("documented") is False or "x-assumption" in rule:
            assert rule.get("x-assumption") in assumptions, rule["id"]


def test_the_warnings_are_exactly_the_docs_quoted_texts() -> None:
    # x-errata warning_text_punctuation: a typographic opening quote and a ")" after a closing quote
    docs = TEXT.replace("\u201c", '"').replace("\u201d", '"')
    warnings = [rule["warning"] for _, rule in rules() if "warning" in rule]
    assert all(f'"{warning}"' in docs for warning in warnings), warnings
    assert sorted(warnings) == sorted(re.findall(r'^"(This transaction [^"]*)"\)?$', docs, re.M))


def test_every_request_in_x_ajax_has_its_schema_file_and_vice_versa() -> None:
    assert sorted(AJAX["requests"]) == object_types()
    for name, request in AJAX["requests"].items():
        assert request["schema"] == f"requests/{name}.schema.json"
        assert (ROOT / "specs" / "signix" / request["schema"]).is_file()


# --- parse_xml is safe on hostile input (x-assumptions hostile_xml) ----------------------------------------------

PASSWD = Path("/etc/passwd").read_text(encoding="utf-8").splitlines()[0] if Path("/etc/passwd").exists() else "root:"
XXE = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
LAUGHS = "".join(['<!ENTITY l0 "lol">', *(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))])


@pytest.mark.parametrize(
    "document",
    [
        XXE.encode(),
        XXE.replace("1.0", '1.0" encoding="UTF-16').encode("utf-16"),  # the DOCTYPE is not ASCII bytes here
        f'<?xml version="1.0"?><!DOCTYPE l [{LAUGHS}]><l>&l9;</l>'.encode(),
        b"<a>" * 10_000 + b"</a>" * 10_000,
        b"<a>" * 65 + b"</a>" * 65,
        b"<x>" + b"a" * (1_000_001 - 7) + b"</x>",
        b"<x>not closed",
    ],
    ids=["xxe", "xxe_utf16", "billion_laughs", "nested_10000", "nested_65", "1000001_bytes", "not_well_formed"],
)
def test_parse_xml_refuses_hostile_documents_fast_and_without_reading_files(document: bytes) -> None:
    start = time.perf_counter()
    with pytest.raises(XmlProblem) as problem:
        parse_xml(document)
    assert time.perf_counter() - start < 1.0
    assert PASSWD not in str(problem.value) and "root:" not in str(problem.value)


def test_parse_xml_accepts_documents_at_its_limits() -> None:
    assert len(parse_xml(b"<x>" + b"a" * (1_000_000 - 7) + b"</x>").text) == 1_000_000 - 7
    assert parse_xml(b"<a>" * 64 + b"</a>" * 64).tag == "a"
