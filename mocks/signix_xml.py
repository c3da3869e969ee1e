"""SubmitAjax envelopes as data: read a SubmitAjaxRq, write a SubmitAjaxRs, and read one back (for the oracle)."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from esign_contracts.specs.ajax import NAMESPACE, XmlProblem, parse_xml, xml_schema

NS = f"{{{NAMESPACE}}}"


@dataclass(frozen=True)
class Envelope:
    """What a valid SubmitAjaxRq carries."""

    credentials: dict[str, str]
    transaction_id: str | None
    document_set_id: str | None
    requests: tuple[str, ...]
    multi: bool


@dataclass(frozen=True)
class Item:
    """One <Response>: the code, its description and the JSON text."""

    code: int | None
    desc: str | None
    content: str


@dataclass(frozen=True)
class Answer:
    """What a SubmitAjaxRs carries."""

    status_code: int
    status_desc: str
    has_data: bool
    items: tuple[Item, ...] = ()
    multi: bool = False
    problems: tuple[str, ...] = field(default=())


def schema_error(root: etree._Element) -> str | None:
    """The XSD's first complaint about a document, or None when it is valid."""
    schema = xml_schema()
    if schema.validate(root):
        return None
    error = schema.error_log.last_error
    return f"line {error.line}: {error.message}" if error else "the document is not valid against the XSD"


def read_request(root: etree._Element) -> Envelope:
    """The fields of a SubmitAjaxRq already valid against the XSD."""
    info = root.find(f"{NS}CustInfo")
    data = root.find(f"{NS}Data")
    assert info is not None and data is not None  # the XSD requires both
    credentials = {child.tag.removeprefix(NS): child.text or "" for child in info}
    batch = data.find(f"{NS}Requests")
    texts = [r.text or "" for r in (batch if batch is not None else data.findall(f"{NS}Request"))]
    return Envelope(
        credentials=credentials,
        transaction_id=data.findtext(f"{NS}TransactionID"),
        document_set_id=data.findtext(f"{NS}DocumentSetID"),
        requests=tuple(texts),
        multi=batch is not None,
    )


def write_answer(answer: Answer) -> bytes:
    root = etree.Element(f"{NS}SubmitAjaxRs", nsmap={None: NAMESPACE})
    status = etree.SubElement(root, f"{NS}Status")
    etree.SubElement(status, f"{NS}StatusCode").text = str(answer.status_code)
    etree.SubElement(status, f"{NS}StatusDesc").text = answer.status_desc
    if answer.has_data:
        data = etree.SubElement(root, f"{NS}Data")
        holder = etree.SubElement(data, f"{NS}Responses") if answer.multi else data
        for item in answer.items:
            element = etree.SubElement(holder, f"{NS}Response")
            if item.code is not None:
                element.set("responseCode", str(item.code))
                element.set("responseDesc", item.desc or "")
            element.text = item.content
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def read_answer(data: bytes) -> Answer:
    """A target's SubmitAjaxRs; `problems` lists what breaks the XSD (an empty answer when it cannot be read)."""
    try:
        root = parse_xml(data)
    except XmlProblem as exc:
        return Answer(-1, "", False, problems=(str(exc),))
    problem = schema_error(root)
    if root.tag != f"{NS}SubmitAjaxRs":
        problem = f"the root element is {root.tag}, not {NS}SubmitAjaxRs"
    if problem:
        return Answer(-1, "", False, problems=(problem,))
    code = root.findtext(f"{NS}Status/{NS}StatusCode") or "-1"
    desc = root.findtext(f"{NS}Status/{NS}StatusDesc") or ""
    data_element = root.find(f"{NS}Data")
    if data_element is None:
        return Answer(int(code), desc, False)
    batch = data_element.find(f"{NS}Responses")
    elements = list(batch) if batch is not None else data_element.findall(f"{NS}Response")
    items = tuple(
        Item(
            int(e.get("responseCode")) if e.get("responseCode") is not None else None,
            e.get("responseDesc"),
            e.text or "",
        )
        for e in elements
    )
    return Answer(int(code), desc, True, items, multi=batch is not None)
