"""How long a token the target issued lives, by the target's own word, and when a run fetches it again.

A run that outlives its token (TrustedX's live for 600 s) would otherwise send the rest of its requests with an
expired one: each refused, and each judged against a model that still holds the token, or that gives it another
lifetime than the installation does (specs/CONVENTIONS.md, `x-token.lifetime`).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from typing import Any

from esign_contracts.specs.contract import at

# Share of its lifetime after which a token is fetched again: the rest covers a slow answer, a request already
# under way, and a clock that differs from the target's.
RENEW_AFTER = 0.8
JWT_EXP = "jwt:exp"  # x-token.lifetime: the token's own `exp` claim (RFC 7519 section 4.1.4)


def seconds_left(spec: dict[str, Any], answer: Any, token: str, now: float) -> float | None:
    """Seconds the token lives from `now` (seconds since the epoch), as the target says where the scheme's
    `x-token.lifetime` points; None when it declares no lifetime or the target gave none that can be read."""
    where = spec.get("lifetime")
    if not where:
        return None
    if where == JWT_EXP:
        expires = _jwt_claim(token, "exp")
        left = expires - now if _is_number(expires) else None
    else:
        try:
            left = at(answer, where)  # e.g. OAuth's expires_in (RFC 6749 section 5.1): seconds from now
        except (KeyError, IndexError, TypeError, ValueError):
            return None
    # Not a number, or none left (a broken answer is the response schema's finding): never renewed.
    return float(left) if _is_number(left) and left > 0 else None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _jwt_claim(token: str, name: str) -> Any:
    """A claim of a JWT's payload (its second base64url part), read without checking the signature: the
    client has no key, and only wants to know when to ask for another."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError):
        return None
    return claims.get(name) if isinstance(claims, dict) else None
