"""Does one answer match what the spec documents for its operation and status?"""

from __future__ import annotations

import json
from typing import Any

from jsonschema.exceptions import best_match

from esign_contracts.mocks import Response
from esign_contracts.specs import Contract, Operation


def _media(response: Response) -> str:
    headers = {k.lower(): v for k, v in response.headers.items()}
    return headers.get("content-type", "").split(";")[0].strip().lower()


def response_problems(contract: Contract, operation: Operation, response: Response) -> tuple[list[str], Any]:
    """(problems, decoded body) for a response whose status the operation documents."""
    spec = operation.raw.get("responses", {}).get(str(response.status))
    if spec is None:
        return [], None
    base = f"{operation.pointer}/responses/{response.status}"
    while "$ref" in spec:  # a shared response in components/responses
        base = spec["$ref"].lstrip("#")
        spec = contract.resolve(base)
    content = spec.get("content") or {}
    if not content:
        return [], None
    media = _media(response)
    if media not in content:
        return [f"content type {media or 'none'} is not documented (documented: {', '.join(content)})"], None
    if "json" not in media:
        return [], None
    try:
        body = json.loads(response.body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [f"body is not valid JSON ({exc})"], None
    if "schema" not in content[media]:
        return [], body
    escaped = media.replace("/", "~1")
    pointer = f"{base}/content/{escaped}/schema"
    error = best_match(contract.validator(pointer).iter_errors(body))
    if error is None:
        return [], body
    where = "body" + "".join(f"[{p!r}]" for p in error.absolute_path)
    return [f"{where}: {error.message} (spec: {pointer})"], body


def first_difference(
    model: Any, target: Any, fields: frozenset[str], lists: frozenset[str], path: str = "body"
) -> str | None:
    """Where the target's body disagrees with the model's on a state-bearing field, or None."""
    if isinstance(model, dict) and isinstance(target, dict):
        for key, value in model.items():
            if key not in target:
                continue
            here = f"{path}[{key!r}]"
            if (
                isinstance(value, list)
                and key in lists
                and isinstance(target[key], list)
                and len(value) != len(target[key])
            ):
                return f"{here} has {len(target[key])} item(s); the model expects {len(value)}"
            if isinstance(value, dict | list):
                found = first_difference(value, target[key], fields, lists, here)
                if found:
                    return found
            elif key in fields and value is not None and str(value) != str(target[key]):
                # None is what the model does not know (an optional field the client did not send)
                return f"{here} is {target[key]!r}; the model expects {value!r}"
    elif isinstance(model, list) and isinstance(target, list):
        for index, (mine, theirs) in enumerate(zip(model, target, strict=False)):
            found = first_difference(mine, theirs, fields, lists, f"{path}[{index}]")
            if found:
                return found
    return None
