"""Credentials for a target: from the environment for a real server, the mock's own for the built-in one.

Which variables fill which security scheme is declared in the spec (`x-environment` on the scheme), so a new
provider needs no code here.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Container, Iterable, Mapping
from typing import Any
from urllib.parse import quote_plus
from xml.sax.saxutils import escape as xml_escape

from jsonschema.exceptions import best_match

from esign_contracts.mocks.http import Request
from esign_contracts.specs import Contract
from esign_contracts.specs.contract import load_contract, scheme_kind
from esign_contracts.specs.providers import PROVIDER_MODULES

CREDENTIAL_FLAG = "--credential"  # serve's flag: PROVIDER.SCHEME=VALUE, before the environment and the defaults


class UsageError(Exception):
    """A mistake in how the tool was called; reported in one sentence, exit code 2."""


def variables(scheme: dict[str, Any]) -> dict[str, str]:
    """{what the variable fills: variable name} for a scheme's x-environment (a list or a mapping)."""
    declared = scheme.get("x-environment") or []
    if isinstance(declared, dict):
        return {str(k): str(v) for k, v in declared.items()}
    return {str(index): str(name) for index, name in enumerate(declared)}


def _value(scheme: dict[str, Any], env: dict[str, str]) -> Any:
    """The scheme's credentials from `env`, or None when none of its variables is set; a UsageError when only
    some are (half a set of credentials is a mistake, not a wish for the defaults)."""
    wanted = variables(scheme)
    given = [name for name in wanted.values() if env.get(name)]
    if not given:
        return None
    if len(given) < len(wanted):
        missing = [name for name in wanted.values() if name not in given]
        raise UsageError(
            f"{' and '.join(given)} {'is' if len(given) == 1 else 'are'} set but {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not: set all of {', '.join(wanted.values())}, or none"
        )
    if isinstance(scheme.get("x-environment"), dict):
        return {key: env[name] for key, name in wanted.items()}
    values = tuple(env[name] for name in wanted.values())
    return values[0] if len(values) == 1 else values


def token_source(contract: Contract, name: str) -> list[str]:
    """The schemes whose credentials fetch a token for scheme `name` (its x-token operation's security)."""
    token = contract.token_schemes().get(name)
    return list(contract.operation(token["operationId"]).security) if token else []


def needed(contract: Contract, found: dict[str, Any]) -> list[str]:
    """The schemes that must be satisfiable: every scheme some operation requires, except the credentials of
    a token operation whose token was given directly (TRUSTEDX_TOKEN without a client id and secret)."""
    token_operations = {
        token["operationId"] for name, token in contract.token_schemes().items() if isinstance(found.get(name), str)
    }
    return sorted({name for op in contract.operations if op.id not in token_operations for name in op.security})


def present_in_environment(
    contract: Contract, env: dict[str, str] | None = None, flagged: Container[str] = ()
) -> dict[str, Any]:
    """The credentials the environment holds for a provider, whichever are set (for `serve`: they replace the
    mock's defaults); nothing is required. The schemes a --credential flag gives (`flagged`) are not read."""
    env = dict(os.environ if env is None else env)
    declared = contract.credential_declarations()
    return {
        name: value
        for name, scheme in declared.items()
        if name not in flagged and (value := _value(scheme, env)) is not None
    }


def from_environment(
    contract: Contract, env: dict[str, str] | None = None, flagged: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Every scheme's credentials: a `--credential` flag's (`flagged`), else the environment's; a UsageError
    naming what to set when one is missing."""
    schemes = contract.security_schemes()
    flagged = flagged or {}
    found = {**present_in_environment(contract, env, flagged), **flagged}
    body = contract.document.get("x-credentials")
    if body and body["element"] not in found:  # credentials inside the body (SIGNiX's CustInfo): all are needed
        wanted = " and ".join(variables(body).values())
        raise UsageError(
            f"checking a {contract.name} server needs credentials: set {wanted} in the environment "
            f"(or pass {CREDENTIAL_FLAG} {flag_forms(contract)})"
        )
    missing = []
    for name in needed(contract, found):
        if name in found or (token_source(contract, name) and all(s in found for s in token_source(contract, name))):
            continue
        options = [" and ".join(variables(schemes[name]).values())]
        options += [" and ".join(v for s in token_source(contract, name) for v in variables(schemes[s]).values())]
        missing.append(" or ".join(o for o in options if o) or f"(no variables declared for {name})")
    if missing:
        raise UsageError(
            f"checking a {contract.name} server needs credentials: set {'; '.join(missing)} in the environment "
            f"(or pass {CREDENTIAL_FLAG} {flag_forms(contract)})"
        )
    _refuse_bad_path_values(contract, found, flagged)
    return found


def value_form(scheme: dict[str, Any]) -> str:
    """How a flag writes a scheme's credentials: `USER:PASSWORD` (Basic), `KEY`, `TOKEN`, or the fields of a
    mapping (`Sponsor=SPONSOR,Client=CLIENT,...`), in the same shape as its x-environment."""
    fields = _fields(scheme)
    if fields is not None:
        return ",".join(f"{field}={_placeholder(field)}" for field in fields)
    return ":".join(_parts(scheme))


def flag_forms(contract: Contract) -> str:
    """Every scheme a provider's `--credential` can set, with the form of its value, for messages."""
    declared = contract.credential_declarations()
    return ", ".join(f"{contract.name}.{name}={value_form(scheme)}" for name, scheme in declared.items())


def _fields(scheme: dict[str, Any]) -> list[str] | None:
    """The fields of a mapping-valued scheme (Ignisign's application, SIGNiX's CustInfo); None for the others."""
    declared = scheme.get("x-environment")
    return [str(field) for field in declared] if isinstance(declared, dict) else None


def _parts(scheme: dict[str, Any]) -> list[str]:
    """Placeholders for the `:`-separated parts of a string (one part) or tuple (several) credential."""
    declared = scheme.get("x-environment")
    kind = scheme_kind(scheme)
    count = len(declared) if isinstance(declared, list) and declared else 2 if kind == "basic" else 1
    if kind == "basic" and count == 2:
        return ["USER", "PASSWORD"]
    if count == 1:
        return [{"apiKey": "KEY", "bearer": "TOKEN"}.get(kind, "VALUE")]
    return [f"VALUE{index}" for index in range(1, count + 1)]


def given_credentials_problem(contract: Contract, credentials: Any) -> str | None:
    """What is wrong with credentials given as Python values ({scheme: value}, the fixtures' marker), in the form
    `--credential` takes them; None when nothing is. Never quotes a value: it may be a secret."""
    declared = contract.credential_declarations()
    if not isinstance(credentials, dict):
        return f"credentials must be a dict of scheme name to value, got {type(credentials).__name__}"
    for name, value in credentials.items():
        if name not in declared:
            return f"the {contract.name} contract has no credential scheme {name!r}; it has {', '.join(declared)}"
        fields = _fields(declared[name])
        if fields is not None:
            if not isinstance(value, dict) or sorted(value) != sorted(fields):
                return f"{name} must be a dict with exactly the fields {', '.join(fields)}"
            values = list(value.values())
        else:
            parts = _parts(declared[name])
            values = [value] if len(parts) == 1 else list(value) if isinstance(value, tuple | list) else []
            if len(values) != len(parts):
                shape = "a string" if len(parts) == 1 else f"a tuple ({', '.join(parts)})"
                return f"{name} must be {shape}"
        if not all(isinstance(v, str) and v for v in values):
            return f"{name}: each value must be a non-empty string"
    return None


def _placeholder(field: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", field).upper()  # appId -> APP_ID, UserId -> USER_ID


def _parse_value(scheme: dict[str, Any], text: str) -> tuple[Any, str]:
    """(the credential value `text` gives, "") or (None, what is wrong with it). Never quotes `text`: a secret."""
    fields = _fields(scheme)
    if fields is not None:
        # Split only before a known field (`,Client=`), so a value may hold a comma that is not followed by one.
        names = "|".join(re.escape(field) for field in fields)
        given: dict[str, str] = {}
        for item in re.split(rf",\s*(?=(?:{names})=)", text, flags=re.IGNORECASE):
            name, equals, value = item.partition("=")
            field = next((f for f in fields if f.lower() == name.strip().lower()), None) if equals else None
            if field is None:
                return None, f"each field is FIELD=VALUE, the fields are {', '.join(fields)}"
            if field in given:
                return None, f"{field} is given twice"
            if not value:
                return None, f"{field} is empty"
            given[field] = value
        missing = [field for field in fields if field not in given]
        if missing:
            return None, f"{' and '.join(missing)} missing"
        return {field: given[field] for field in fields}, ""
    parts = _parts(scheme)
    values = text.split(":", len(parts) - 1)  # the last part (a password) may hold a colon
    if len(values) < len(parts):
        return None, f"no ':' between {' and '.join(parts)}"
    empty = [part for part, value in zip(parts, values, strict=True) if not value]
    if empty:
        return None, f"{' and '.join(empty)} empty"
    return (values[0] if len(values) == 1 else tuple(values)), ""


def from_flags(
    flags: Iterable[str], served: Iterable[str], doing: tuple[str, str] = ("serving", "served")
) -> dict[str, dict[str, Any]]:
    """{provider: {scheme: credentials}} from `--credential PROVIDER.SCHEME=VALUE` flags, for the mocks `served`.

    Names are matched case-insensitively. A UsageError names the flag (never its value: it may be a secret),
    the provider's schemes and the form each takes.
    """
    served = list(served)
    found: dict[str, dict[str, Any]] = {}
    for flag in flags:
        key, equals, text = flag.partition("=")
        provider, dot, wanted = key.partition(".")
        provider = provider.strip().lower()
        if not equals or not dot or not provider or not wanted:
            # The text is not quoted: without an '=' it may be all value. A known provider's forms help.
            known = provider in PROVIDER_MODULES
            forms = flag_forms(load_contract(provider)) if known else "stiply.basicAuth=USER:PASSWORD"
            raise UsageError(f"{CREDENTIAL_FLAG} takes PROVIDER.SCHEME=VALUE, e.g. {forms}")
        # the names are quoted only when they look like names (a mistyped '=' leaves the value in them)
        shown = key if re.fullmatch(r"[\w-]+\.[\w-]+", key) else "PROVIDER.SCHEME"
        if provider not in PROVIDER_MODULES:
            known_names = ", ".join(sorted(PROVIDER_MODULES))
            raise UsageError(f"{CREDENTIAL_FLAG} {shown}: unknown provider; known providers: {known_names}")
        if provider not in served:
            raise UsageError(
                f"{CREDENTIAL_FLAG} {shown}: {provider} is not {doing[1]} ({doing[0]} {', '.join(served)})"
            )
        contract = load_contract(provider)
        declared = contract.credential_declarations()
        name = wanted if wanted in declared else next((n for n in declared if n.lower() == wanted.lower()), None)
        if name is None:
            raise UsageError(
                f"{CREDENTIAL_FLAG} {shown}: {provider} has no such scheme; its schemes: {flag_forms(contract)}"
            )
        if name in found.get(provider, {}):
            raise UsageError(f"{CREDENTIAL_FLAG} {provider}.{name} is given twice")
        value, wrong = _parse_value(declared[name], text)
        if value is None:
            others = f"; {provider}'s schemes: {flag_forms(contract)}" if len(declared) > 1 else ""
            raise UsageError(
                f"{CREDENTIAL_FLAG} {provider}.{name}: malformed value ({wrong}); expected "
                f"{provider}.{name}={value_form(declared[name])}{others}"
            )
        found.setdefault(provider, {})[name] = value
    return found


def for_serving(
    contract: Contract, flagged: dict[str, Any] | None = None, env: Mapping[str, str] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """What a served mock accepts instead of its defaults, scheme by scheme: a flag's value, else the
    environment's (the variables `check` reads). Also {scheme: where its value came from}, for the banner,
    which names the source and never prints the value."""
    flagged = flagged or {}
    from_env = present_in_environment(contract, None if env is None else dict(env), flagged)
    declared = contract.credential_declarations()
    sources = {name: ", ".join(variables(declared[name]).values()) for name in from_env}
    sources.update({name: CREDENTIAL_FLAG for name in flagged})
    given = {**from_env, **flagged}
    _refuse_bad_path_values(contract, given, flagged)
    return given, sources


def credential_path_values(contract: Contract, credentials: dict[str, Any]) -> dict[str, str]:
    """Credential fields that are also path parameters (Ignisign's appId, appEnv): the values every URL needs."""
    parameters = {name for operation in contract.operations for name in operation.path_parameters}
    return {
        key: field
        for value in credentials.values()
        if isinstance(value, dict)
        for key, field in value.items()
        if key in parameters
    }


def path_value_problems(contract: Contract, credentials: dict[str, Any]) -> dict[str, str]:
    """{field: what is wrong, never the value} for each credential field that is also a path parameter
    (Ignisign's appEnv) and that the parameter's schema refuses: every URL made from it would be refused, so
    the mistake is the configuration's, not the API's. Each field is judged by the first operation that
    declares it."""
    values = credential_path_values(contract, credentials)
    problems: dict[str, str] = {}
    for operation in contract.operations:
        for parameter in operation.parameters:
            name = parameter["name"]
            if parameter.get("in") != "path" or name not in values or name in problems or "schema" not in parameter:
                continue
            error = best_match(contract.validator_for(parameter["schema"]).iter_errors(values.pop(name)))
            if error is None:
                continue
            # Never jsonschema's message: it repeats the value, which may be a secret in the wrong variable.
            if error.validator == "enum":
                wrong = f"not one the spec allows ({', '.join(map(str, error.validator_value))})"
            else:
                wrong = f"breaks the parameter's schema ({error.validator})"
            problems[name] = f"{wrong}; spec: {operation.pointer}/parameters, path {name}"
    return problems


def _refuse_bad_path_values(contract: Contract, credentials: dict[str, Any], flagged: Iterable[str] = ()) -> None:
    """A UsageError for a path-parameter credential field the spec refuses, naming where its value came from:
    the scheme's `--credential` flag, else its environment variable."""
    problems = path_value_problems(contract, credentials)
    if not problems:
        return
    declared = contract.credential_declarations()
    flagged = set(flagged)

    def source(field: str) -> str:
        scheme = next(name for name, value in credentials.items() if isinstance(value, dict) and field in value)
        if scheme in flagged:
            return f"{CREDENTIAL_FLAG} {contract.name}.{scheme}"
        return variables(declared[scheme]).get(field, scheme)

    text = "; ".join(f"{field} from {source(field)} is {problem}" for field, problem in problems.items())
    raise UsageError(f"{contract.name} credentials: {text}")


def sources(contract: Contract, flagged: Iterable[str] = ()) -> str:
    """Where a check's credentials come from, for messages: each flagged scheme's flag, then the variables of
    the other schemes."""
    flagged = list(flagged)
    declared = contract.credential_declarations()
    flags = [f"{CREDENTIAL_FLAG} {contract.name}.{name}" for name in flagged]
    names = [v for name, scheme in declared.items() if name not in flagged for v in variables(scheme).values()]
    return ", ".join([*flags, *dict.fromkeys(names)]) or "no variables"


def secrets(credentials: dict[str, Any], public: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    """Every string that must never appear in output, including encoded forms.

    `public` names body-credential fields that are identifiers in the API's own URLs (an application id).
    """
    found: list[str] = []
    for value in credentials.values():
        if isinstance(value, dict):
            parts = [v for k, v in value.items() if k not in public]
        else:
            parts = [value] if isinstance(value, str) else list(value)
        found += [p for p in parts if isinstance(p, str) and len(p) >= 4]
        if isinstance(value, tuple) and len(value) == 2:
            found.append(base64.b64encode(f"{value[0]}:{value[1]}".encode()).decode())
    # as a secret may also appear inside an XML element, a form field or a JSON string
    found += [form for secret in list(found) for form in _encodings(secret)]
    return sorted(set(found), key=len, reverse=True)


def _encodings(secret: str) -> list[str]:
    escaped = xml_escape(secret)
    return [escaped, quote_plus(secret), quote_plus(escaped), json.dumps(secret)[1:-1]]


def authorize(
    request: Request,
    contract: Contract,
    credentials: dict[str, Any],
    scheme_names: tuple[str, ...],
    tokens: dict[str, str] | None = None,
) -> None:
    """Add the headers of the first security scheme we have credentials (or a fetched token) for."""
    schemes = contract.security_schemes()
    for name in scheme_names:
        scheme, kind = schemes[name], scheme_kind(schemes[name])
        bearer = kind == "bearer"
        value = (tokens or {}).get(name) if bearer else None
        value = value or credentials.get(name)
        if value is None or (bearer and not isinstance(value, str)):
            continue
        if kind == "basic":
            token = base64.b64encode(f"{value[0]}:{value[1]}".encode()).decode()
            request.headers["Authorization"] = f"Basic {token}"
        elif bearer:
            request.headers["Authorization"] = f"Bearer {value}"
        elif kind == "apiKey":
            request.headers[scheme["name"]] = value
        return


def redact(text: str, hidden: list[str]) -> str:
    for secret in hidden:
        text = text.replace(secret, "[redacted]")
    return text


def curl_auth(contract: Contract, request: Request) -> str:
    """Shell words that authenticate a curl line from the environment, never with the secret itself."""
    for scheme in contract.security_schemes().values():
        names = list(variables(scheme).values())
        kind = scheme_kind(scheme)
        header = request.headers.get("Authorization", "").lower()
        if kind == "basic" and len(names) == 2 and header.startswith("basic "):
            return f' -u "${names[0]}:${names[1]}"'
        if kind == "apiKey" and len(names) == 1 and scheme["name"] in request.headers:
            return f' -H "{scheme["name"]}: ${names[0]}"'
        if kind == "bearer" and header.startswith("bearer ") and len(names) == 1:
            return f' -H "Authorization: Bearer ${names[0]}"'
    return ""
