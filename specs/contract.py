"""Read a provider's OpenAPI document into the few facts the mock and the oracle act on."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


@dataclass(frozen=True)
class Precondition:
    """A documented rule that must hold before an operation may succeed."""

    id: str
    rule: str
    status: int
    documented: bool
    source: str
    assumption: str | None = None
    code: str | None = None  # the provider's own error code for this rule, where it has one


@dataclass(frozen=True)
class Operation:
    """One documented operation, as the mock and the oracle need it."""

    id: str
    method: str
    path: str
    source: str
    statuses: frozenset[int]
    preconditions: tuple[Precondition, ...]
    validation_status: int
    identifiers: dict[str, str]
    security: tuple[str, ...]
    parameters: tuple[dict[str, Any], ...]
    raw: dict[str, Any] = field(repr=False, compare=False)
    scopes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # per scheme, the scopes a token must hold
    validation_code: str | None = None

    @property
    def path_parameters(self) -> list[str]:
        return [p["name"] for p in self.parameters if p.get("in") == "path"]

    @functools.cached_property  # asked several times for every request
    def pointer(self) -> str:
        """Where the operation lives in the spec, as a JSON pointer."""
        escaped = self.path.replace("~", "~0").replace("/", "~1")
        return f"/paths/{escaped}/{self.method.lower()}"

    def documents(self, status: int) -> bool:
        return status in self.statuses

    def __str__(self) -> str:
        return f"{self.id} ({self.method} {self.path})"


@dataclass
class Contract:
    """A provider's spec: the raw document plus its operations and a validator factory."""

    name: str
    document: dict[str, Any]
    operations: tuple[Operation, ...]
    base_url: str
    source: str

    @property
    def title(self) -> str:
        info = self.document.get("info", {})
        return f"{info.get('title', self.name)} {info.get('version', '')}".strip()

    @property
    def base_path(self) -> str:
        return urlsplit(self.base_url).path.rstrip("/")

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc

    def operation(self, operation_id: str) -> Operation:
        for operation in self.operations:
            if operation.id == operation_id:
                return operation
        raise KeyError(f"{self.name} spec has no operation {operation_id!r}")

    @functools.cached_property
    def _registry(self) -> Registry:
        resource = Resource.from_contents(self.document, default_specification=DRAFT202012)
        return Registry().with_resource(self.uri, resource)

    @property
    def uri(self) -> str:
        return f"urn:esign-contracts:{self.name}"

    def validator(self, pointer: str) -> Draft202012Validator:
        """A JSON Schema validator for the schema at `pointer` inside the spec."""
        return _validator(self, pointer, self.resolve(pointer))

    def is_valid(self, pointer: str, instance: Any) -> bool:
        """Whether `instance` is valid against the schema at `pointer`: the compiled validator when the schema
        allows one (many times faster; it checks formats with jsonschema's own checkers, so that its True is
        jsonschema's True for every schema we ship), else jsonschema. The error for an invalid instance always
        comes from `validator` (its paths name the spec). Known differences the shipped schemas do not use:
        `multipleOf` with a fraction, and `\\s` in a pattern against U+FEFF."""
        fast = _fast_validator(self, pointer)
        if fast is not None:
            try:
                return bool(fast.is_valid(instance))
            except (ValueError, TypeError):  # a value JSON cannot hold (a None key in a decoded form): jsonschema
                pass
        return bool(self.validator(pointer).is_valid(instance))

    def validator_for(self, schema: dict[str, Any]) -> Draft202012Validator:
        """A validator for a schema taken out of the spec (its $refs still resolve against the spec)."""
        return _validator(self, id(schema), schema)

    def schema_location(self, pointer: str, path: Iterable[str | int]) -> str:
        """The spec pointer of a keyword reached by `path` (jsonschema's schema path) from the schema at `pointer`.

        Validators work on schemas with their $refs inlined; this walks the spec itself, following each
        $ref, so that the pointer names a place in specs/<provider>.yaml that exists.
        """
        tokens = [str(t) for t in path]
        index = 0
        while index < len(tokens):
            try:
                node = self.resolve(pointer)
            except (KeyError, IndexError, ValueError):
                return pointer.rsplit("/", 1)[0]  # the deepest place that exists
            ref = node.get("$ref") if isinstance(node, dict) else None
            if isinstance(ref, str) and ref.startswith("#") and tokens[index] != "$ref":
                if tokens[index] == "allOf" and "allOf" not in node and index + 1 < len(tokens):
                    # the inlining wrapper for a $ref with siblings: allOf/0 is the target, allOf/1 the siblings
                    pointer = ref[1:] if tokens[index + 1] == "0" else pointer
                    index += 2
                    continue
                pointer = ref[1:]
                continue
            pointer = f"{pointer}/{tokens[index].replace('~', '~0').replace('/', '~1')}"
            index += 1
        return pointer

    def resolve(self, pointer: str) -> Any:
        return at(self.document, pointer)

    def security_schemes(self) -> dict[str, dict[str, Any]]:
        return self.document.get("components", {}).get("securitySchemes", {})

    def credential_declarations(self) -> dict[str, dict[str, Any]]:
        """Every place a credential is declared, by name: each security scheme, and `x-credentials` (credentials
        inside the body, SIGNiX's CustInfo) under its element's name."""
        declared = dict(self.security_schemes())
        body = self.document.get("x-credentials")
        if body:
            declared[body["element"]] = body
        return declared

    def token_schemes(self) -> dict[str, dict[str, Any]]:
        """{scheme name: its `x-token` (operationId, pointer, form)} for each scheme whose token an operation issues."""
        return {name: scheme["x-token"] for name, scheme in self.security_schemes().items() if scheme.get("x-token")}


def scheme_kind(scheme: dict[str, Any]) -> str:
    """ "basic", "bearer" (http bearer and oauth2: a token in the Authorization header), "apiKey", or its type."""
    kind = scheme.get("type", "")
    if kind == "http":
        http = str(scheme.get("scheme", "")).lower()
        return http if http in ("basic", "bearer") else f"http/{http}"
    return "bearer" if kind == "oauth2" else kind


def _validator(contract: Contract, key: str | int, schema: Any) -> Draft202012Validator:
    """A cached validator for `schema` (a part of the spec), found again by `key`."""
    cache = contract.__dict__.setdefault("_validators", {})
    if key not in cache:
        # Local $refs inlined once: resolving them through the registry on every request costs more than
        # the validation itself. A recursive $ref stays, made absolute so the registry still resolves it.
        cache[key] = Draft202012Validator(
            _inline(contract, schema, ()),
            registry=contract._registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )
    return cache[key]


def _fast_validator(contract: Contract, pointer: str) -> Any:
    cache = contract.__dict__.setdefault("_fast_validators", {})
    if pointer not in cache:
        schema = _validator(contract, pointer, contract.resolve(pointer)).schema
        try:
            import jsonschema_rs

            # Offline, with formats: a schema that still holds a $ref (a recursive one) is left to jsonschema.
            # jsonschema's own format checks, so that a format the compiled validator reads more leniently (a leap
            # second, year 0000) is judged the same; formats jsonschema does not check, it checks more strictly,
            # and an instance it refuses is judged by jsonschema anyway.
            checker = Draft202012Validator.FORMAT_CHECKER
            formats = {name: functools.partial(_conforms, checker, name) for name in checker.checkers}
            cache[pointer] = (
                None
                if "$ref" in json.dumps(schema)
                else jsonschema_rs.validator_for(schema, validate_formats=True, offline=True, formats=formats)
            )
        except Exception:  # noqa: BLE001 - a schema the compiled validator cannot take is validated by jsonschema
            cache[pointer] = None
    return cache[pointer]


def _conforms(checker: Any, name: str, value: Any) -> bool:
    return bool(checker.conforms(value, name))


def _inline(contract: Contract, node: Any, seen: tuple[str, ...]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#"):
            rest = {k: _inline(contract, v, seen) for k, v in node.items() if k != "$ref"}
            if ref in seen:
                return {**rest, "$ref": contract.uri + ref}
            target = _inline(contract, contract.resolve(ref[1:]), (*seen, ref))
            return {"allOf": [target, rest]} if rest else target
        return {k: _inline(contract, v, seen) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(contract, v, seen) for v in node]
    return node


def _preconditions(raw: dict[str, Any], operation_source: str) -> tuple[Precondition, ...]:
    rules = []
    for item in raw.get("x-preconditions", []) or []:
        rules.append(
            Precondition(
                id=item["id"],
                rule=item["rule"],
                status=int(item["status"]),
                documented=bool(item.get("documented", True)),
                source=item.get("x-source", operation_source),
                assumption=item.get("x-assumption"),
                code=item.get("code"),
            )
        )
    return tuple(rules)


def _requirements(document: dict[str, Any], raw: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    requirements = raw.get("security", document.get("security", []))
    return {name: tuple(scopes or ()) for requirement in requirements for name, scopes in requirement.items()}


def at(document: Any, pointer: str) -> Any:
    """The node at a JSON pointer (with or without its leading '#')."""
    node = document
    for token in pointer.lstrip("#").lstrip("/").split("/"):
        if not token:
            continue
        token = token.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def deref(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """The node a chain of `$ref`s from `node` ends at (`node` itself when it is no reference)."""
    while "$ref" in node:
        node = at(document, node["$ref"])
    return node


def _operations(document: dict[str, Any]) -> tuple[Operation, ...]:
    operations = []
    for path, item in document.get("paths", {}).items():
        for method in HTTP_METHODS:
            raw = item.get(method)
            if raw is None:
                continue
            source = raw.get("x-source", "")
            operations.append(
                Operation(
                    id=raw["operationId"],
                    method=method.upper(),
                    path=path,
                    source=source,
                    statuses=frozenset(int(code) for code in raw.get("responses", {}) if str(code).isdigit()),
                    preconditions=_preconditions(raw, source),
                    validation_status=int(raw.get("x-validation-status", 400)),
                    identifiers=dict(raw.get("x-identifiers", {})),
                    security=tuple(_requirements(document, raw)),
                    scopes=_requirements(document, raw),
                    validation_code=raw.get("x-validation-code", document.get("x-validation-code")),
                    parameters=tuple(
                        deref(document, p) for p in [*item.get("parameters", []), *raw.get("parameters", [])]
                    ),
                    raw=raw,
                )
            )
    return tuple(operations)


def _text(source: Any) -> str:
    return "; ".join(map(str, source)) if isinstance(source, list) else str(source)


def status_text(operation: Operation, contract: Contract, status: int) -> str:
    """The docs' words for a status of an operation ("Wrong parameter"), from the response description."""
    response = deref(contract.document, operation.raw.get("responses", {}).get(str(status), {}))
    return str(response.get("description", "")).split("\n")[0].rstrip(".")


def read_document(name: str) -> dict[str, Any]:
    """The raw YAML of a provider's spec, as shipped in this package."""
    folder = resources.files("esign_contracts.specs")
    # A provider with more than one file (SIGNiX: the OpenAPI transport, an XSD, JSON Schemas) has a folder.
    found = folder.joinpath(f"{name}.yaml")
    if not found.is_file():
        found = folder.joinpath(name, f"{name}.yaml")
    return yaml.safe_load(found.read_text(encoding="utf-8"))


@functools.cache
def load_contract(name: str) -> Contract:
    """Load `specs/<name>.yaml` (or `specs/<name>/<name>.yaml`) once per process."""
    document = read_document(name)
    server = (document.get("servers") or [{"url": "/"}])[0]
    base_url = server["url"]
    for variable, spec in (server.get("variables") or {}).items():  # a deployment's host: its documented default
        base_url = base_url.replace("{" + variable + "}", str(spec.get("default", "")))
    return Contract(
        name=name,
        document=document,
        operations=_operations(document),
        base_url=base_url,
        source=_text(document.get("x-source", "")),
    )
