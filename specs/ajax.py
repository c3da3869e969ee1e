"""SIGNiX SubmitAjax as data: the XSD of the XML envelope and a JSON Schema per JSON request it carries.

The HTTP transport is an OpenAPI document like the REST providers' (`specs/signix/signix.yaml`); what travels
inside its `request` form field is described here. The spec's `x-ajax` section names the files and the rules.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from jsonschema import Draft202012Validator
from lxml import etree

NAMESPACE = "urn:com:signix:schema:sdddc-1-1"
XSD_FILE = "submit-ajax.xsd"
# Bounds for any XML we parse (assumption hostile_xml in the spec): SubmitAjax envelopes are a few kB.
MAX_XML_BYTES = 1_000_000
MAX_XML_DEPTH = 64


class XmlProblem(ValueError):
    """A document that is not well-formed, is too large or too deep, or declares a DTD."""


def folder() -> Traversable:
    return resources.files("esign_contracts.specs").joinpath("signix")


@functools.cache
def xml_schema() -> etree.XMLSchema:
    """The XSD of SubmitAjaxRq and SubmitAjaxRs, loaded once (without any network access)."""
    data = folder().joinpath(XSD_FILE).read_bytes()
    return etree.XMLSchema(etree.fromstring(data, _parser()))


def object_types() -> list[str]:
    """Every JSON request the docs define, by its objectType (a file requests/<objectType>.schema.json each)."""
    return sorted(
        p.name.removesuffix(".schema.json")
        for p in folder().joinpath("requests").iterdir()
        if p.name.endswith(".schema.json")
    )


@functools.cache
def request_schema(object_type: str) -> dict[str, Any]:
    return json.loads(folder().joinpath("requests", f"{object_type}.schema.json").read_text(encoding="utf-8"))


@functools.cache
def request_validator(object_type: str) -> Draft202012Validator:
    return Draft202012Validator(request_schema(object_type), format_checker=Draft202012Validator.FORMAT_CHECKER)


def _parser() -> etree.XMLParser:
    # No DTD loading or entity expansion, no network, no huge-tree mode: an XXE or billion-laughs
    # document cannot read a file, reach a host or grow in memory.
    return etree.XMLParser(
        resolve_entities=False,
        remove_pis=True,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,  # a comment inside <CustInfo> or <Requests> is no element and no request
    )


def parse_xml(data: bytes) -> etree._Element:
    """Parse a document safely: bounded size and depth, no DTD, no entities; XmlProblem says what was wrong."""
    if len(data) > MAX_XML_BYTES:
        raise XmlProblem(f"the XML document is {len(data)} bytes, over the {MAX_XML_BYTES} byte limit")
    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        raise XmlProblem("the XML document declares a DTD or entities, which a SubmitAjax request never needs")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise XmlProblem(f"the XML document is not well-formed: {exc}") from None
    if root is None:
        raise XmlProblem("the XML document is empty")
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.doctype:  # e.g. a UTF-16 document, which the byte check misses
        raise XmlProblem("the XML document declares a DTD or entities, which a SubmitAjax request never needs")
    depth = _depth(root)
    if depth > MAX_XML_DEPTH:
        raise XmlProblem(f"the XML document nests {depth} elements deep, over the limit of {MAX_XML_DEPTH}")
    return root


def _depth(root: etree._Element) -> int:
    deepest, stack = 0, [(root, 1)]
    while stack:
        element, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in element)
    return deepest
