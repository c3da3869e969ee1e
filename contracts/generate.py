"""Hypothesis strategies for requests, built from the spec: valid bodies, broken bodies, known identifiers."""

from __future__ import annotations

import copy
import json
import re
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from hypothesis import strategies as st
from urllib3 import encode_multipart_formdata

from esign_contracts.specs import Contract, Operation

RECENT = 3  # how many of the newest live resources a step chooses among
UNKNOWN_ID = "esignContractsUnknown0000000000000000000000000000"
_TEXT = st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=1, max_size=12)


def path_resource(parameter: str) -> str:
    """The resource a path parameter names, as the spec's x-identifiers call it.

    `sign_request_key` and `signatureRequestId` name a `sign_request` / `signature_request`,
    `signature_process_id` a `signature_process`; `external_key` is a value of its own.
    """
    if parameter == "external_key":
        return parameter
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", parameter).lower()
    for suffix in ("_key", "_id"):
        if snake.endswith(suffix) and len(snake) > len(suffix):
            return snake[: -len(suffix)]
    return snake


@dataclass
class Known:
    """Every identifier a run has seen, with the path parameters it was created under (deleted ones too)."""

    records: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def add(self, resource: str, value: str, context: dict[str, str]) -> None:
        record = {**context, resource: value}
        if record not in self.records.setdefault(resource, []):
            self.records[resource].append(record)
        self.touch(resource, value)

    def touch(self, resource: str, value: str) -> None:
        """Move a resource to the front: like a client, the next steps most likely act on what was just used."""
        records = self.records.get(resource, [])
        for index, record in enumerate(records):
            if record[resource] == value:
                records.append(records.pop(index))
                return

    def newest(self, resource: str) -> list[dict[str, str]]:
        """Most recently created or used first (Hypothesis favours the first choices)."""
        return list(reversed(self.records.get(resource, [])))

    def values(self, resource: str) -> list[str]:
        return [r[resource] for r in self.newest(resource)]

    def alive(self, resource: str, live: Iterable[str]) -> list[str]:
        """The values the target still holds, most recently used first."""
        holds = set(live)
        return [v for v in self.values(resource) if v in holds]


def pick(draw: Any, items: list[Any]) -> Any:
    """One of `items` (None when empty) with a draw whose shape never depends on the items.

    Hypothesis replays choices across examples; the target's state differs between examples, so every
    draw must have the same constraints whatever that state is.
    """
    index = draw(st.integers(0, 2**16 - 1))
    return items[index % len(items)] if items else None


def path_values(
    draw: Any, operation: Operation, known: Known, alive: Callable[[str], list[str]] = lambda _: []
) -> dict[str, str]:
    """Path parameters from one known record (so a signer goes with its own sign request), or unknown ones.

    Records the model says still exist come first, so sequences reach deep states more often.
    """
    names = operation.path_parameters

    def ranked(name: str) -> list[Any]:
        # Like a client, work on the few newest live resources, now and then a deleted one or an unknown one.
        live = set(alive(name))
        records = known.newest(path_resource(name))
        living = [r for r in records if r[path_resource(name)] in live]
        dead = [r for r in records if r[path_resource(name)] not in live]
        return living[:RECENT] * RECENT + dead[:1]

    picks = {name: pick(draw, [*ranked(name), None]) for name in names}
    values: dict[str, str] = {}
    for name in reversed(names):  # the deepest parameter first; its record fills the ones above it
        choice = picks[name]
        if name in values:
            continue
        if choice is None:
            values[name] = UNKNOWN_ID
            continue
        for other in names:
            if path_resource(other) in choice and other not in values:
                values[other] = choice[path_resource(other)]
    for name, value in values.items():
        known.touch(path_resource(name), value)
    return values


@dataclass
class BodyPlan:
    body: bytes
    content_type: str | None


class Bodies:
    """Request bodies for each operation from Schemathesis' per-operation strategies, valid or broken."""

    def __init__(self, contract: Contract) -> None:
        import schemathesis

        self.contract = contract
        self.schema = schemathesis.openapi.from_dict(contract.document)
        self._strategies: dict[tuple[str, bool], Any] = {}

    def _strategy(self, operation: Operation, broken: bool) -> Any:
        from schemathesis import GenerationMode

        key = (operation.id, broken)
        if key not in self._strategies:
            mode = GenerationMode.NEGATIVE if broken else GenerationMode.POSITIVE
            self._strategies[key] = self.schema.find_operation_by_id(operation.id).as_strategy(generation_mode=mode)
        return self._strategies[key]

    def draw(
        self,
        draw: Any,
        operation: Operation,
        known: Known,
        broken: bool,
        fresh: Callable[[], str],
        alive: Callable[[str], list[str]] = lambda _: [],
    ) -> BodyPlan:
        spec = operation.raw.get("requestBody")
        if not spec:
            return BodyPlan(b"", None)
        media_type, media = next(iter(spec["content"].items()))
        from schemathesis.core import NOT_SET

        body = draw(self._strategy(operation, broken)).body
        documented = pick(draw, self._examples(operation))
        if pick(draw, [True, True, False]) and documented is not None and not broken:
            body = copy.deepcopy(documented)  # the docs' own examples reach the documented flow most directly
        if body is NOT_SET:
            return BodyPlan(b"", None)
        # A copy: Schemathesis may hand out the spec's own example object, which the fields below would change.
        body = copy.deepcopy(body)
        if isinstance(body, dict):
            for name in list(body):
                resource = path_resource(name)
                if name not in operation.identifiers and resource in known.records and not broken:
                    # A body field that names a known resource (OKdokument's signatureRequestId): mostly a live
                    # one, as a client would send, now and then the generated value (an unknown one).
                    live = known.alive(resource, alive(name))[:RECENT]
                    chosen = pick(draw, [*live, *live, None])
                    body[name] = chosen if chosen is not None else body[name]
                    continue
                if name not in operation.identifiers or not isinstance(body[name], str):
                    continue
                # A value the client chooses: reuse a known one sometimes (uniqueness rules), else a fresh one.
                reuse = draw(st.booleans())
                earlier = pick(draw, known.alive(name, alive(name))[:RECENT] or known.values(name))
                body[name] = earlier if reuse and earlier is not None else fresh()
        if media_type == "multipart/form-data":
            schema = self.contract.resolve(f"{operation.pointer}/requestBody/content/multipart~1form-data/schema")
            return BodyPlan(*self._multipart(draw, schema, media, body))
        if isinstance(body, bytes):
            return BodyPlan(body, media_type)
        if media_type == "application/x-www-form-urlencoded" and isinstance(body, dict):
            # A form as a client sends it (TrustedX's token request); values that are not text go as JSON text.
            fields = {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
            return BodyPlan(urlencode(fields).encode("ascii"), media_type)
        return BodyPlan(json.dumps(body).encode("utf-8"), media_type)

    def _examples(self, operation: Operation) -> list[Any]:
        content = (operation.raw.get("requestBody") or {}).get("content", {})
        return [e["value"] for media in content.values() for e in media.get("examples", {}).values() if "value" in e]

    def _multipart(self, draw: Any, schema: dict[str, Any], media: dict[str, Any], body: Any) -> tuple[bytes, str]:
        fields: list[Any] = []
        properties = schema.get("properties", {})
        for name, value in body.items() if isinstance(body, dict) else []:
            if not _is_file(properties.get(name)):
                fields.append((name, value if isinstance(value, str) else json.dumps(value)))
        for name, prop in properties.items():
            if not _is_file(prop) or (isinstance(body, dict) and name not in body):
                continue
            encoding = media.get("encoding", {}).get(name, {})
            endings = encoding.get("x-file-extensions", ["bin"])
            ending = draw(st.sampled_from([*endings, "txt"]))
            types = [t.strip() for t in encoding.get("contentType", "application/octet-stream").split(",")]
            known_type = ending in endings and len(types) == len(endings)
            content_type = types[endings.index(ending)] if known_type else "text/plain"
            fields.append((name, (f"document.{ending}", b"%PDF-1.4\n%esign-contracts\n%%EOF\n", content_type)))
        data, content_type = encode_multipart_formdata(fields)
        return data, content_type


def _is_file(prop: Any) -> bool:
    return isinstance(prop, dict) and ("contentMediaType" in prop or prop.get("format") == "binary")
