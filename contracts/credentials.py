"""Credentials for a target: from the environment for a real server, the mock's own for the built-in one."""

from __future__ import annotations

import base64
import os
from typing import Any

from esign_contracts.mocks.http import Request
from esign_contracts.specs import Contract

# provider -> security scheme -> environment variables that fill it, in order
ENVIRONMENT = {
    "stiply": {"basicAuth": ("STIPLY_USERNAME", "STIPLY_PASSWORD")},
}


class UsageError(Exception):
    """A mistake in how the tool was called; reported in one sentence, exit code 2."""


def from_environment(provider: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    env = dict(os.environ if env is None else env)
    wanted = ENVIRONMENT.get(provider, {})
    missing = [name for names in wanted.values() for name in names if not env.get(name)]
    if missing:
        raise UsageError(f"checking a {provider} server needs credentials: set {', '.join(missing)} in the environment")
    return {scheme: tuple(env[name] for name in names) for scheme, names in wanted.items()}


def secrets(credentials: dict[str, Any]) -> list[str]:
    """Every string that must never appear in output, including encoded forms."""
    found: list[str] = []
    for value in credentials.values():
        parts = [value] if isinstance(value, str) else list(value)
        found += [p for p in parts if p]
        if isinstance(value, tuple) and len(value) == 2:
            found.append(base64.b64encode(f"{value[0]}:{value[1]}".encode()).decode())
    return sorted(set(found), key=len, reverse=True)


def authorize(request: Request, contract: Contract, credentials: dict[str, Any], scheme_names: tuple[str, ...]) -> None:
    """Add the headers of the first security scheme we have credentials for."""
    schemes = contract.security_schemes()
    for name in scheme_names:
        if name not in credentials:
            continue
        scheme, value = schemes[name], credentials[name]
        if scheme.get("type") == "http" and scheme.get("scheme", "").lower() == "basic":
            token = base64.b64encode(f"{value[0]}:{value[1]}".encode()).decode()
            request.headers["Authorization"] = f"Basic {token}"
        elif scheme.get("type") == "http" and scheme.get("scheme", "").lower() == "bearer":
            request.headers["Authorization"] = f"Bearer {value}"
        elif scheme.get("type") == "apiKey":
            request.headers[scheme["name"]] = value
        return


def redact(text: str, hidden: list[str]) -> str:
    for secret in hidden:
        text = text.replace(secret, "[redacted]")
    return text


def curl_auth(provider: str, request: Request) -> str:
    """Shell words that authenticate a curl line from the environment, never with the secret itself."""
    for names in ENVIRONMENT.get(provider, {}).values():
        if len(names) == 2 and request.headers.get("Authorization", "").lower().startswith("basic "):
            return f' -u "${names[0]}:${names[1]}"'
    return ""
