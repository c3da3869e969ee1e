"""Check a request against its operation's parameters and request body, as the spec declares them."""

from __future__ import annotations

import io
import json
import threading
from dataclasses import dataclass
from typing import Any

import orjson
from jsonschema.exceptions import best_match
from werkzeug.datastructures import MultiDict
from werkzeug.formparser import FormDataParser

from esign_contracts.mocks.http import Request
from esign_contracts.specs import Contract, Operation

MAX_FORM_BYTES = 16 * 1024 * 1024
# JSON bodies up to this size have their verdict remembered per schema: clients send the same body again and
# again (retries, loops, load), and explaining an invalid one with jsonschema costs more than the rest of a request.
REMEMBERED_BODY_BYTES = 4096
REMEMBERED_VERDICTS = 1024
_VERDICTS_LOCK = threading.Lock()
# orjson reads JSON several times quicker than json, and reads it alike, except that it turns an integer beyond 64
# bits into a float: a body with a run of 19 digits (any such integer has one) is left to json. The run is found by
# mapping digits to 1 and the rest to 0 (a regular expression takes ten times as long on a large body).
_DIGITS = bytes(byte in b"0123456789" for byte in range(256))
_LONG_DIGIT_RUN = bytes(19 * [1])
# orjson also reads 1,024 levels of nesting, where json stops near the recursion limit (about 1,000 less the stack
# in use) and refuses the body; a body read that deep then crashes whatever walks it next (a schema error's repr).
# A body with more `[` and `{` than this could be that deep, so it is left to json: the verdicts stay json's.
_ORJSON_MAX_OPENERS = 256


@dataclass(frozen=True)
class Problem:
    """One way a request breaks the spec: what, where in the request, where in the spec, which status."""

    rule: str
    location: str
    detail: str
    spec_pointer: str
    status: int

    def __str__(self) -> str:
        return f"{self.location}: {self.detail} (spec: {self.spec_pointer})"


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Parsed:
    """What a valid request carried: path params, query, and the decoded body."""

    params: dict[str, str]
    query: dict[str, Any]
    body: Any
    files: dict[str, Any]


def schema_problem(contract: Contract, pointer: str, instance: Any, location: str, status: int) -> Problem | None:
    if contract.is_valid(pointer, instance):
        return None
    error = best_match(contract.validator(pointer).iter_errors(instance))
    if error is None:
        return None
    where = location + "".join(f"[{p!r}]" if isinstance(p, str) else f"[{p}]" for p in error.absolute_path)
    return Problem(
        "request schema", where, error.message, contract.schema_location(pointer, error.absolute_schema_path), status
    )


def _json_body_problem(contract: Contract, pointer: str, raw: bytes, instance: Any, status: int) -> Problem | None:
    """`schema_problem` for a JSON body, remembered by its bytes: the same bytes decode to the same instance."""
    if len(raw) > REMEMBERED_BODY_BYTES:
        return schema_problem(contract, pointer, instance, "body", status)
    verdicts: dict[tuple[str, bytes, int], Problem | None] = contract.__dict__.setdefault("_body_verdicts", {})
    key = (pointer, raw, status)
    if key in verdicts:
        return verdicts[key]
    problem = schema_problem(contract, pointer, instance, "body", status)
    with _VERDICTS_LOCK:  # mocks on one contract may run in several threads
        if len(verdicts) >= REMEMBERED_VERDICTS:
            verdicts.pop(next(iter(verdicts)))  # the oldest
        verdicts[key] = problem
    return problem


def _parameters(contract: Contract, operation: Operation, request: Request, params: dict[str, str]) -> list[Problem]:
    problems = []
    for parameter in operation.parameters:
        place, name = parameter["in"], parameter["name"]
        if place == "path":
            value: Any = params.get(name)
        elif place == "query":
            values = request.query.get(name)
            value = values[0] if values else None
        elif place == "header":
            value = request.headers.get(name)
        else:
            continue
        if value is None:
            if parameter.get("required", place == "path"):
                problems.append(
                    Problem(
                        "required parameter",
                        f"{place} {name}",
                        "is required",
                        f"{operation.pointer}/parameters ({place} {name})",
                        operation.validation_status,
                    )
                )
            continue
        schema = parameter.get("schema")
        if schema and not _simple_match(schema, value):
            error = best_match(contract.validator_for(schema).iter_errors(value))
            if error is not None:
                pointer = f"{operation.pointer}/parameters ({place} {name})"
                problems.append(
                    Problem("parameter", f"{place} {name}", error.message, pointer, operation.validation_status)
                )
    return problems


def _simple_match(schema: dict[str, Any], value: str) -> bool:
    # The common case, a plain non-empty string, without a JSON Schema round trip on every request.
    return (
        set(schema) <= {"type", "minLength", "description"}
        and schema.get("type") == "string"
        and len(value) >= schema.get("minLength", 0)
    )


def _unsupported_media_status(operation: Operation) -> int:
    return 415 if operation.documents(415) else operation.validation_status


def _parse_form(request: Request) -> tuple[MultiDict, MultiDict]:
    content_type = request.headers.get("Content-Type", "")
    mimetype, _, rest = content_type.partition(";")
    options = {}
    for item in rest.split(";"):
        key, _, value = item.strip().partition("=")
        if key:
            options[key.lower()] = value.strip('"')
    parser = FormDataParser(max_content_length=MAX_FORM_BYTES, silent=False)
    _, form, files = parser.parse(io.BytesIO(request.body), mimetype.strip().lower(), len(request.body), options)
    return form, files


def _file_part_problem(operation: Operation, media: dict[str, Any], name: str, storage: Any) -> Problem | None:
    encoding = media.get("encoding", {}).get(name, {})
    accepted = [t.strip().lower() for t in encoding.get("contentType", "").split(",") if t.strip()]
    extensions = [e.lower() for e in encoding.get("x-file-extensions", [])]
    if not accepted and not extensions:
        return None
    sent_type = (storage.mimetype or "").lower()
    ending = (storage.filename or "").rsplit(".", 1)[-1].lower() if "." in (storage.filename or "") else ""
    if sent_type in accepted or ending in extensions:
        return None
    return Problem(
        "file type",
        f"multipart part {name!r}",
        f"file {storage.filename!r} of type {sent_type or 'unknown'} is not one of {', '.join(extensions or accepted)}",
        f"{operation.pointer}/requestBody/content/multipart~1form-data/encoding/{name}",
        _unsupported_media_status(operation),
    )


class _Refused(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _media(operation: Operation, content: dict[str, Any], media_type: str, pointer: str) -> dict[str, Any]:
    if media_type not in content:
        detail = f"{media_type or 'none'} is not one of {', '.join(content)}"
        status = _unsupported_media_status(operation)
        raise _Refused(Problem("content type", "header Content-Type", detail, f"{pointer}/content", status))
    return content[media_type]


def _decode_json(operation: Operation, request: Request, pointer: str) -> Any:
    body = request.body
    # (a body no longer than the limit cannot hold more openers: most are, and need not be counted)
    shallow = len(body) <= _ORJSON_MAX_OPENERS or body.count(b"[") + body.count(b"{") <= _ORJSON_MAX_OPENERS
    if shallow and _LONG_DIGIT_RUN not in body.translate(_DIGITS):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass  # json decides, and explains: it also reads NaN, out-of-range floats, a BOM, UTF-16, lone surrogates
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        detail = f"is not valid JSON ({exc})"
        raise _Refused(Problem("JSON", "body", detail, pointer, operation.validation_status)) from exc


def _decode_form(
    operation: Operation, media: dict[str, Any], request: Request, pointer: str
) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    try:
        form, parts = _parse_form(request)
    except Exception as exc:  # werkzeug raises several types for a malformed body
        detail = f"is not a valid {request.media_type} body ({exc})"
        raise _Refused(Problem("form", "body", detail, pointer, operation.validation_status)) from exc
    body: dict[str, Any] = {key: form.get(key) for key in form}
    files: dict[str, UploadedFile] = {}
    try:
        for name in parts:
            storage = parts[name]
            problem = _file_part_problem(operation, media, name, storage)
            if problem:
                raise _Refused(problem)
            files[name] = UploadedFile(storage.filename or name, storage.mimetype or "", storage.read())
            body[name] = storage.filename or name
    finally:
        for storage in parts.values():
            storage.close()
    return body, files


def _body(contract: Contract, operation: Operation, request: Request) -> tuple[Any, dict[str, Any], list[Problem]]:
    spec = operation.raw.get("requestBody")
    if spec is None:
        return None, {}, []
    media_type = request.media_type  # once: the property reads the header again on every use
    pointer = f"{operation.pointer}/requestBody"
    if not request.body and media_type != "multipart/form-data":
        required = spec.get("required")
        problems = [Problem("request body", "body", "is required", pointer, operation.validation_status)]
        return None, {}, problems if required else []
    schema_pointer = f"{pointer}/content/{media_type.replace('/', '~1')}/schema"
    files: dict[str, Any] = {}
    json_bytes: bytes | None = None
    try:
        media = _media(operation, spec.get("content", {}), media_type, pointer)
        if media_type == "application/json" or media_type.endswith("+json"):
            body = _decode_json(operation, request, schema_pointer)
            json_bytes = request.body
        elif media_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
            body, files = _decode_form(operation, media, request, schema_pointer)
        else:
            body = request.body
    except _Refused as refused:
        return None, {}, [refused.problem]
    if "schema" in media:
        if json_bytes is not None:
            problem = _json_body_problem(contract, schema_pointer, json_bytes, body, operation.validation_status)
        else:
            problem = schema_problem(contract, schema_pointer, body, "body", operation.validation_status)
        if problem:
            return body, files, [problem]
    return body, files, []


def validate(
    contract: Contract, operation: Operation, request: Request, params: dict[str, str]
) -> tuple[Parsed, list[Problem]]:
    """Every way the request breaks the spec (parameters, then body), and what it carried."""
    problems = _parameters(contract, operation, request, params)
    body, files, body_problems = _body(contract, operation, request)
    query = {k: v[0] if len(v) == 1 else v for k, v in request.query.items()}
    return Parsed(params=params, query=query, body=body, files=files), problems + body_problems
