"""The neutral request and response every adapter converts to and from."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlsplit

import orjson
from requests.structures import CaseInsensitiveDict

SECRET_HEADERS = frozenset({"authorization", "x-api-key", "proxy-authorization", "cookie"})
# SIGNiX's password inside its XML envelope, whatever the case, attributes or prefix, and also when cut off
SECRET_ELEMENTS = re.compile(r"(<(?:\w+:)?pswd\b[^>]*>)(.*?)(</(?:\w+:)?pswd\s*>|$)", re.IGNORECASE | re.DOTALL)


def _redact_element(found: re.Match[str]) -> str:
    # a function, not the template r"\1[redacted]\3", which re prepares in Python (re._subx) on every call; most
    # bodies hold no password to replace
    return f"{found[1]}[redacted]{found[3]}"


def json_bytes(payload: Any) -> bytes:
    """Compact JSON. orjson is several times quicker than the standard library on an answer of a few hundred bytes,
    which is a good share of a served request; what it cannot encode (an integer over 64 bits) goes to `json`."""
    try:
        return orjson.dumps(payload)  # without OPT_NON_STR_KEYS, which makes every answer slower to write
    except TypeError:
        pass
    try:
        return orjson.dumps(payload, option=orjson.OPT_NON_STR_KEYS)  # a key that is not a string
    except TypeError:
        return json.dumps(payload, separators=(",", ":")).encode("utf-8")


def query_params(raw: str) -> dict[str, list[str]]:
    """A query string's parameters, blank values kept (every adapter reads a query this way); most requests have
    none, and then nothing is parsed."""
    return parse_qs(raw, keep_blank_values=True) if raw else {}


class Headers(CaseInsensitiveDict):
    """A request's headers: requests' case-insensitive mapping, with the two things a served request does most made
    quicker. `get` is one call: Mapping's takes two and raises (and catches) a KeyError for every absent name, such
    as the Transfer-Encoding asked of every request. `of` builds the store at once, not one `__setitem__` a name."""

    @classmethod
    def of(cls, items: Iterable[tuple[str, str]]) -> Headers:
        """From (name, value) pairs; a name given twice, in any case, keeps its last value (as requests' own)."""
        headers = cls.__new__(cls)
        headers._store = {name.lower(): (name, value) for name, value in items}
        return headers

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        found = self._store.get(key.lower())
        return default if found is None else found[1]

    def copy(self) -> Headers:
        return Headers.of(self._store.values())


def _headers(items: Mapping[str, str] | Iterable[tuple[str, str]] | None) -> Headers:
    return Headers.of(items.items() if isinstance(items, Mapping) else items or [])


@dataclass
class Request:
    """An HTTP request as the core sees it: path relative to the host, raw body."""

    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: CaseInsensitiveDict = field(default_factory=Headers)
    body: bytes = b""

    @classmethod
    def from_url(
        cls,
        method: str,
        url: str,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        body: bytes | str | None = None,
    ) -> Request:
        parts = urlsplit(url)
        raw = body.encode("utf-8") if isinstance(body, str) else (body or b"")
        return cls(
            method=method.upper(),
            path=parts.path or "/",
            query=query_params(parts.query),
            headers=_headers(headers),
            body=raw,
        )

    @property
    def media_type(self) -> str:
        raw = self.headers.get("Content-Type", "")
        seen = self.__dict__.get("_media_type")  # asked several times per request; headers may change in between
        if seen is None or seen[0] != raw:
            seen = self.__dict__["_media_type"] = (raw, raw.split(";")[0].strip().lower())
        return seen[1]

    def redacted_headers(self) -> dict[str, str]:
        """Headers fit for a report: credentials replaced."""
        return {k: ("[redacted]" if k.lower() in SECRET_HEADERS else v) for k, v in self.headers.items()}

    def describe(self, limit: int = 300, hide: Callable[[str], str] | None = None) -> str:
        """One line for a report: method, path and the start of the body, no credentials. `hide` takes further
        secrets out of the body's text before it is cut, so that no part of one is left at the cut."""
        if not self.body:
            return f"{self.method} {self.path}"
        media_type = self.media_type
        if "json" not in media_type and media_type != "application/x-www-form-urlencoded":
            return f"{self.method} {self.path} body=<{media_type or 'no content type'}, {len(self.body)} bytes>"
        # a few times the limit is enough to show it (a form-encoded byte takes up to 9 characters): a 50 MB body
        # is not decoded whole for one line of a report
        text = self.body[: limit * 10].decode("utf-8", "replace")
        if media_type == "application/x-www-form-urlencoded":
            text = unquote_plus(text)  # readable: a SIGNiX envelope shows as XML
        if "<" in text:  # every password element starts with one; most bodies (JSON) have none to look through
            text = SECRET_ELEMENTS.sub(_redact_element, text)
        if hide is not None:
            text = hide(text)
        more = len(text) > limit or len(self.body) > limit * 10
        return f"{self.method} {self.path} body={text[:limit]}{'…' if more else ''}"


@dataclass
class Response:
    """An HTTP response from the core, before an adapter serialises it."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
        return cls(
            status=status,
            body=json_bytes(payload),
            headers={"Content-Type": "application/json", **(headers or {})},
        )

    def payload(self) -> Any:
        return json.loads(self.body) if self.body else None
