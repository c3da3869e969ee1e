"""SubmitAjax request bodies for the oracle, generated from the XSD and the JSON Schemas, valid and broken.

The envelope's shape comes from walking specs/signix/submit-ajax.xsd (sequences, choices, occurrences, lengths);
each JSON request from its schema in specs/signix/requests/ (the keywords those schemas use). Values the target
must know are taken from the shadow model: the credentials, a live transaction, its parties' RefIDs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from hypothesis import strategies as st
from lxml import etree

from esign_contracts.contracts.generate import pick
from esign_contracts.mocks.signix import STATE_CHANGES, SUSPENDED, Signix
from esign_contracts.specs.ajax import NAMESPACE, folder, object_types, request_schema

XS = "{http://www.w3.org/2001/XMLSchema}"
MAX_BATCH = 3
FORM = "application/x-www-form-urlencoded"
TEXT = st.text(alphabet=st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=12)


@dataclass
class Plan:
    body: bytes
    content_type: str | None
    note: str = ""
    transaction: str = ""


# -- JSON requests from their schemas ------------------------------------------------------------------------------
def _resolve(root: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = root["$defs"][node["$ref"].rsplit("/", 1)[1]]
    return node


def json_value(draw: Any, root: dict[str, Any], node: dict[str, Any], parties: list[str]) -> Any:
    """A value valid against `node` (the subset of keywords our request schemas use)."""
    node = _resolve(root, node)
    if "oneOf" in node:
        branch = _resolve(root, draw(st.sampled_from(node["oneOf"])))
        merged = {**node, **{k: v for k, v in branch.items() if k not in ("properties", "required")}}
        merged.pop("oneOf")
        merged["properties"] = {**node.get("properties", {}), **branch.get("properties", {})}
        for name, sub in branch.get("properties", {}).items():  # a branch may narrow a property (items only)
            base = node.get("properties", {}).get(name, {})
            merged["properties"][name] = {**base, **sub}
        merged["required"] = sorted({*node.get("required", []), *branch.get("required", [])})
        # oneOf: what another branch requires must stay out, or that branch matches too
        others = {r for b in node["oneOf"] for r in _resolve(root, b).get("required", [])}
        merged["x-exclude"] = sorted(others - set(merged["required"]))
        return json_value(draw, root, merged, parties)
    if "const" in node:
        return node["const"]
    if "enum" in node:
        return draw(st.sampled_from(node["enum"]))
    kind = node.get("type", "string")
    if kind == "object":
        return _object(draw, root, node, parties)
    if kind == "array":
        size = draw(st.integers(node.get("minItems", 0), min(node.get("maxItems", 2), 2)))
        return [json_value(draw, root, node.get("items", {}), parties) for _ in range(size)]
    if kind == "boolean":
        return draw(st.booleans())
    if node.get("x-party-ref") and parties:
        return pick(draw, parties)
    text = draw(TEXT)
    return text if node.get("minLength", 0) <= len(text) else text * node["minLength"]


def _object(draw: Any, root: dict[str, Any], node: dict[str, Any], parties: list[str]) -> dict[str, Any]:
    excluded = set(node.get("not", {}).get("required", [])) | set(node.get("x-exclude", []))
    required = list(node.get("required", []))
    names = required + [n for n in node.get("properties", {}) if n not in required and n not in excluded]
    limit = node.get("maxProperties", len(names))
    chosen = required + [n for n in names[len(required) :] if len(required) < limit and draw(st.booleans())]
    value = {
        name: json_value(draw, root, node["properties"][name], parties)
        for name in chosen[:limit]
        if name in node.get("properties", {})
    }
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):  # a table keyed by the caller's choice (emailAddressTable, phoneTable)
        count = max(node.get("minProperties", 1), 1)
        for _ in range(count):
            key = pick(draw, parties) if parties else draw(TEXT)
            value[key] = json_value(draw, root, extra, parties)
    return value


def valid_request(draw: Any, object_type: str, parties: list[str]) -> dict[str, Any]:
    schema = request_schema(object_type)
    return json_value(draw, schema, schema, parties)


def broken_request(draw: Any, parties: list[str]) -> str:
    """A JSON request a server must refuse: not JSON, an unknown objectType, or one that breaks its schema."""
    how = draw(st.sampled_from(["not json", "unknown type", "email and phone", "no deltas", "no addressee id"]))
    if how == "not json":
        return draw(st.sampled_from(["{'objectType':'Transaction_Cancel'", "objectType=Transaction_Suspend", ""]))
    if how == "unknown type":
        return json.dumps({"objectType": draw(st.sampled_from(["Transaction_Delete", "transaction_cancel"]))})
    if how == "no deltas":
        return json.dumps({"objectType": "Transaction_SaveDeltas", "deltas": []})
    if how == "no addressee id":
        request = valid_request(draw, "Transaction_SendPartyEmail", parties)
        for to in request["to"]:
            to.pop("Id", None), to.pop("id", None)
        return json.dumps(request)
    email = valid_request(draw, "Transaction_SaveDeltas", parties)
    role = email["deltas"][0]["role"]
    role["party"]["emailAddressTable" if "phoneTable" in role["party"] else "phoneTable"] = (
        {"Mobile1": {"objectType": "PhoneNumber", "id": "Mobile", "type": "", "number": "2221231234"}}
        if "emailAddressTable" in role["party"]
        else {role["id"]: {"address": "new@example.com", "objectType": "EmailAddress", "type": "Home"}}
    )
    return json.dumps(email)


# -- the envelope from the XSD -----------------------------------------------------------------------------------
class Xsd:
    """Walks the XSD to build a SubmitAjaxRq, asking `fill` for each leaf element's text."""

    def __init__(self) -> None:
        self.root = etree.fromstring(folder().joinpath("submit-ajax.xsd").read_bytes())
        self.types = {t.get("name"): t for t in self.root if t.get("name") and t.tag != f"{XS}element"}
        self.elements = {e.get("name"): e for e in self.root.findall(f"{XS}element")}

    def build(self, draw: Any, name: str, fill: Callable[[str, dict[str, int]], str]) -> etree._Element:
        return self._element(draw, self.elements[name], fill)

    def _element(self, draw: Any, declaration: etree._Element, fill: Callable[[str, dict[str, int]], str]) -> Any:
        name = declaration.get("name")
        element = etree.Element(f"{{{NAMESPACE}}}{name}", nsmap={None: NAMESPACE})
        kind = declaration.find(f"{XS}complexType")
        type_name = (declaration.get("type") or "").split(":")[-1]
        if kind is None and type_name in self.types and self.types[type_name].tag == f"{XS}complexType":
            kind = self.types[type_name]
        if kind is None:
            element.text = fill(name, self._facets(type_name))
            return element
        for particle in kind:
            self._particle(draw, particle, element, fill)
        return element

    def _facets(self, type_name: str) -> dict[str, int]:
        simple = self.types.get(type_name)
        if simple is None:
            return {}
        return {f.tag.removeprefix(XS): int(f.get("value")) for f in simple.iter(f"{XS}length", f"{XS}minLength")}

    def _particle(self, draw: Any, particle: Any, parent: Any, fill: Callable[[str, dict[str, int]], str]) -> None:
        tag = particle.tag
        if tag == f"{XS}sequence":
            for child in particle:
                self._particle(draw, child, parent, fill)
        elif tag == f"{XS}choice":
            options = [c for c in particle if c.tag != f"{XS}annotation"]
            # By index, never st.sampled_from(options): Hypothesis labels a draw from hashable values by their
            # hashes, an lxml element hashes by its address, and lxml makes a new proxy at each walk once the last
            # one is freed. The label then followed memory reuse and steered Hypothesis' mutations: the same seed
            # made another run depending on what else the process had done (other providers checked first).
            self._particle(draw, options[draw(st.integers(0, len(options) - 1))], parent, fill)
        elif tag == f"{XS}element":
            low = int(particle.get("minOccurs", "1"))
            high = particle.get("maxOccurs", "1")
            top = MAX_BATCH if high == "unbounded" else int(high)
            for _ in range(draw(st.integers(low, max(low, top)))):
                parent.append(self._element(draw, particle, fill))


# -- whole bodies ---------------------------------------------------------------------------------------------------
class Envelopes:
    """Bodies for `submitAjax`: mostly valid envelopes on live transactions, now and then a broken one."""

    BREAKS = (
        "swap CustInfo",
        "lower-case element",
        "drop Pswd",
        "short TransactionID",
        "wrong namespace",
        "not well-formed",
        "wrong password",
        "unknown transaction",
        "broken JSON request",
        "DTD",
    )

    def __init__(self, model: Signix, credentials: dict[str, Any]) -> None:
        self.model = model
        self.credentials = dict(credentials.get("CustInfo") or {})
        self.xsd = Xsd()

    def draw(self, draw: Any, broken: bool, recent: list[str]) -> Plan:
        """A body on one of the `recent` live transactions (by id), or on none when there is none."""
        chosen = pick(draw, recent)
        transaction = self.model.transactions.get(chosen) if chosen else None
        parties = list(transaction.parties) if transaction else ["P01"]
        how = draw(st.sampled_from(self.BREAKS)) if broken else ""
        unknown = _uuid(draw)  # drawn whatever the state, so that every example draws alike
        multi_types = [t for t in object_types() if t not in STATE_CHANGES]

        def fill(name: str, facets: dict[str, int]) -> str:
            if name in self.credentials:
                value = self.credentials[name]
                return value + "x" if how == "wrong password" and name == "Pswd" else value
            if name == "TransactionID":
                known = transaction.id if transaction and how != "unknown transaction" else unknown
                return known[:35] if how == "short TransactionID" else known
            if name == "DocumentSetID":
                return transaction.document_set_id if transaction and how != "unknown transaction" else "-0:0:-0"
            return ""

        root = self.xsd.build(draw, "SubmitAjaxRq", fill)
        data = root[1]
        if transaction and not transaction.document_set_id and data[0].tag.endswith("DocumentSetID"):
            data[0].tag, data[0].text = data[0].tag.replace("DocumentSetID", "TransactionID"), fill("TransactionID", {})
        holder = data[1]
        slots = list(holder) if len(holder) else [holder]
        multi = holder.tag.endswith("Requests")
        # Suspend and Resume twice as often: the documented warnings need a suspended transaction first.
        single = [*object_types(), "Transaction_Suspend", "Transaction_Resume"]
        types = multi_types if multi else sorted(single)
        for index, slot in enumerate(slots):
            if how == "broken JSON request" and index == len(slots) - 1:
                slot.text = broken_request(draw, parties)
            else:
                slot.text = json.dumps(valid_request(draw, pick(draw, types), parties))
        if multi and (how == "broken JSON request" or (transaction and transaction.status == SUSPENDED)):
            # x-assumptions batch_order: the server may run a batch in any order, so a batch whose outcome would
            # depend on it carries one request: one with a broken request, or on a suspended transaction (where a
            # change succeeds and a re-send fails). In progress every request succeeds; ended, every one fails,
            # so whichever runs first fails and none after may answer. Drawn in full all the same, so that every
            # example draws alike whatever the state.
            for slot in slots[:-1]:
                holder.remove(slot)
        text = etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode()
        text = _break(how, text, root)
        return Plan(urlencode({"method": "SubmitAjax", "request": text}).encode(), FORM, how, chosen or "")


def _uuid(draw: Any) -> str:
    return str(draw(st.uuids()))


def _break(how: str, text: str, root: Any) -> str:
    """Break a valid envelope the way clients do (for the XSD or the parser to refuse)."""
    if how == "swap CustInfo":
        return (
            text.replace("<Sponsor>", "<Tmp>", 1)
            .replace("</Sponsor>", "</Tmp>", 1)
            .replace("<Client>", "<Sponsor>", 1)
            .replace("</Client>", "</Sponsor>", 1)
            .replace("<Tmp>", "<Client>", 1)
            .replace("</Tmp>", "</Client>", 1)
        )
    if how == "lower-case element":
        return text.replace("<Pswd>", "<pswd>", 1).replace("</Pswd>", "</pswd>", 1)
    if how == "drop Pswd":
        start, end = text.find("<Pswd>"), text.find("</Pswd>") + len("</Pswd>")
        return text[:start] + text[end:]
    if how == "wrong namespace":
        return text.replace(NAMESPACE, "urn:com:signix:schema:sdddc-1-0")
    if how == "not well-formed":
        return text[: len(text) // 2]
    if how == "DTD":
        return text.replace("?>", '?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/hostname">]>', 1)
    return text
