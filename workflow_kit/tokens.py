"""Editor tokens: short-lived signed tokens (JWT, HS256, through PyJWT) that a host's backend mints for its
end users, carrying the tenant, the user and the scopes the editor API grants them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt

from .errors import WorkflowKitError
from .tenancy import check_tenant

ISSUER = "workflow-kit"
MIN_SECRET_LENGTH = 32
MAX_TTL = timedelta(days=30)
SCOPES = (
    "actions:read",
    "workflows:read",
    "workflows:write",
    "runs:read",
    "runs:write",
    "events:read",
    "events:write",
    "connections:read",
    "connections:write",
)
"""Every scope the editor API knows; an editor token gets all of them unless told otherwise."""


class TokenError(WorkflowKitError):
    """A token is missing, malformed, expired, badly signed, or lacks a scope (HTTP 401)."""

    code = "unauthorized"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a tenant's end user (from a token) or the host's backend (a server key)."""

    tenant: str
    user: str
    scopes: frozenset[str]
    server: bool = False

    def require(self, scope: str) -> None:
        if not self.server and scope not in self.scopes:
            raise TokenError(f"this token lacks the {scope!r} scope")


def check_secret(secret: str | None) -> str:
    if not secret or len(secret) < MIN_SECRET_LENGTH:
        raise TokenError(
            f"the signing secret (WORKFLOW_KIT_SECRET) must be at least {MIN_SECRET_LENGTH} characters long"
        )
    return secret


def mint(
    secret: str,
    tenant: str,
    user: str,
    *,
    ttl: timedelta | int,
    now_ms: int,
    scopes: Iterable[str] = SCOPES,
) -> str:
    """A signed token for `user` of `tenant`, valid for `ttl` (a timedelta or seconds)."""
    lifetime = ttl if isinstance(ttl, timedelta) else timedelta(seconds=ttl)
    if not timedelta(0) < lifetime <= MAX_TTL:
        raise ValueError(f"a token's ttl must be positive and at most {MAX_TTL.days} days")
    check_tenant(tenant)
    if not isinstance(user, str) or not user.strip():
        raise ValueError("a token needs a user")
    granted = sorted(set(scopes))
    unknown = sorted(set(granted) - set(SCOPES))
    if unknown:
        raise ValueError(f"unknown scopes {unknown}; known: {', '.join(SCOPES)}")
    issued = now_ms // 1000
    claims = {
        "iss": ISSUER,
        "sub": user,
        "tenant": tenant,
        "scopes": granted,
        "iat": issued,
        "exp": issued + int(lifetime.total_seconds()),
    }
    return jwt.encode(claims, check_secret(secret), algorithm="HS256")


def verify(secret: str, token: str, *, now_ms: int) -> Principal:
    """The principal a token names; `TokenError` if it is not valid now."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            check_secret(secret),
            algorithms=["HS256"],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "iss"], "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError as exc:
        raise TokenError(f"invalid token: {exc}") from None
    if not isinstance(claims.get("exp"), int) or claims["exp"] * 1000 <= now_ms:
        raise TokenError("the token has expired")
    tenant, user, scopes = claims.get("tenant"), claims.get("sub"), claims.get("scopes")
    if not isinstance(tenant, str) or not isinstance(user, str):
        raise TokenError("the token names no tenant")
    try:
        check_tenant(tenant)
    except ValueError as exc:
        raise TokenError(f"the token's tenant is not usable: {exc}") from None
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise TokenError("the token's scopes are malformed")
    return Principal(tenant=tenant, user=user, scopes=frozenset(scopes))
