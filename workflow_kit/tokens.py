"""Editor tokens: short-lived signed tokens (JWT, HS256, through PyJWT) that a host's backend mints for its
end users, carrying the tenant, the user and the scopes the editor API grants them; and stream tickets,
single-use tokens of a minute bound to one run, that the editor puts in the URL of a run's live stream
(an EventSource cannot send headers) instead of its token.

Verification is as strict as minting: a token `mint` would not make is refused (a longer lifetime, an
``iat`` in the future, a claim of the wrong type, a claim named twice, a claim it never writes)."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt

from .errors import WorkflowKitError
from .secret_strength import HOW_TO_MAKE_ONE, secret_problem
from .tenancy import check_tenant

__all__ = [
    "ISSUER",
    "MAX_SKEW",
    "MAX_TTL",
    "SCOPES",
    "TICKET_AUDIENCE",
    "TICKET_TTL",
    "Principal",
    "Ticket",
    "TokenError",
    "check_secret",
    "mint",
    "mint_ticket",
    "verify",
    "verify_ticket",
]

ISSUER = "workflow-kit"
MAX_TTL = timedelta(days=30)
MAX_SKEW = timedelta(minutes=1)
"""How far ahead of this server's clock a token's ``iat`` may be (the minting server's clock may run ahead)."""
TICKET_TTL = timedelta(seconds=60)
TICKET_AUDIENCE = "run-stream"
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

_TOKEN_CLAIMS: dict[str, type] = {"iss": str, "sub": str, "tenant": str, "scopes": list, "iat": int, "exp": int}
_TICKET_CLAIMS: dict[str, type] = {
    "iss": str,
    "aud": str,
    "sub": str,
    "tenant": str,
    "run": str,
    "jti": str,
    "iat": int,
    "exp": int,
}


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


@dataclass(frozen=True, slots=True)
class Ticket:
    """A verified stream ticket: who may watch which run, until when (`jti` names it, to use it once)."""

    tenant: str
    user: str
    run_id: str
    jti: str
    expires_ms: int


def check_secret(secret: str | None) -> str:
    """`secret`, if it is strong enough to sign tokens (see secret_strength.py); a `TokenError` saying
    why not, and how to make one, otherwise."""
    problem = secret_problem(secret) if secret else "is missing"
    if problem is not None or secret is None:
        raise TokenError(f"the signing secret (WORKFLOW_KIT_SECRET) {problem}; {HOW_TO_MAKE_ONE}")
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
    _check_user(user)
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
    """The principal a token names; `TokenError` if it is not valid now, or not one `mint` makes."""
    claims = _decode(secret, token, _TOKEN_CLAIMS, now_ms=now_ms, max_ttl=MAX_TTL)
    scopes = claims["scopes"]
    if not all(isinstance(s, str) for s in scopes) or len(set(scopes)) != len(scopes):
        raise TokenError("the token's scopes are malformed")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise TokenError(f"the token names unknown scopes {unknown}")
    return Principal(tenant=claims["tenant"], user=claims["sub"], scopes=frozenset(scopes))


def mint_ticket(
    secret: str, principal: Principal, run_id: str, *, now_ms: int, ttl: timedelta = TICKET_TTL
) -> tuple[str, int]:
    """A ticket for `principal` to open the live stream of `run_id` once, within `ttl`; and when it
    expires (epoch milliseconds). The caller checks first that the run is the principal's tenant's."""
    if not timedelta(0) < ttl <= TICKET_TTL:
        raise ValueError(f"a ticket's ttl must be positive and at most {int(TICKET_TTL.total_seconds())} seconds")
    if not isinstance(run_id, str) or not run_id:
        raise ValueError("a ticket needs a run id")
    issued = now_ms // 1000
    expires = issued + int(ttl.total_seconds())
    claims = {
        "iss": ISSUER,
        "aud": TICKET_AUDIENCE,
        "sub": principal.user,
        "tenant": principal.tenant,
        "run": run_id,
        "jti": secrets.token_urlsafe(16),
        "iat": issued,
        "exp": expires,
    }
    return jwt.encode(claims, check_secret(secret), algorithm="HS256"), expires * 1000


def verify_ticket(secret: str, ticket: str, *, run_id: str, now_ms: int) -> Ticket:
    """The ticket, if it is valid now and for `run_id` (whether it was used already is the caller's to
    check, with `Ticket.jti`); `TokenError` otherwise."""
    claims = _decode(secret, ticket, _TICKET_CLAIMS, now_ms=now_ms, max_ttl=TICKET_TTL, what="ticket")
    if claims["aud"] != TICKET_AUDIENCE:
        raise TokenError("this is not a stream ticket")
    if claims["run"] != run_id:
        raise TokenError("this ticket is for another run")
    return Ticket(
        tenant=claims["tenant"],
        user=claims["sub"],
        run_id=run_id,
        jti=claims["jti"],
        expires_ms=claims["exp"] * 1000,
    )


def _decode(
    secret: str, token: str, shape: dict[str, type], *, now_ms: int, max_ttl: timedelta, what: str = "token"
) -> dict[str, Any]:
    """The claims of a token signed with `secret`, exactly of `shape` (each claim once, of its type, no
    other), issued not after now (give or take `MAX_SKEW`), not expired, living at most `max_ttl`."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise TokenError(f"invalid {what}: not a signed token")
    try:
        _unique_json(_segment(token.split(".", 1)[0]))  # a header naming "alg" twice is not one PyJWT reads
        payload = _JWS.decode(token, check_secret(secret), algorithms=["HS256"])
    except jwt.PyJWTError as exc:
        raise TokenError(f"invalid {what}: {exc}") from None
    claims = _unique_json(payload)
    if not isinstance(claims, dict):
        raise TokenError(f"invalid {what}: its claims are not an object")
    missing = sorted(set(shape) - set(claims))
    if missing:
        raise TokenError(f"invalid {what}: it lacks the {', '.join(missing)} claim(s)")
    extra = sorted(set(claims) - set(shape))
    if extra:
        raise TokenError(f"invalid {what}: unexpected claim(s) {', '.join(extra)}")
    for name, kind in shape.items():
        value = claims[name]
        if type(value) is not kind:  # not isinstance: True is no int here
            raise TokenError(f"invalid {what}: the {name!r} claim must be a {_KIND_NAMES[kind]}")
    if claims["iss"] != ISSUER:
        raise TokenError(f"invalid {what}: not issued by {ISSUER}")
    issued, expires = claims["iat"], claims["exp"]
    if issued * 1000 > now_ms + MAX_SKEW.total_seconds() * 1000:
        raise TokenError(f"invalid {what}: issued in the future (check the clocks of the servers)")
    if expires * 1000 <= now_ms:
        raise TokenError(f"the {what} has expired")
    if expires <= issued:
        raise TokenError(f"invalid {what}: it expires before it is issued")
    if expires - issued > max_ttl.total_seconds():
        raise TokenError(f"invalid {what}: it lives longer than {_duration(max_ttl)}, more than any this kit makes")
    try:
        check_tenant(claims["tenant"])
        _check_user(claims["sub"])
    except ValueError as exc:
        raise TokenError(f"the {what}'s tenant or user is not usable: {exc}") from None
    return claims


_KIND_NAMES = {str: "string", int: "whole number", list: "list"}
_JWS = jwt.PyJWS()
"""Checks the signature only: the claims are read here, strictly (PyJWT's reader keeps the last of a
claim named twice, and takes a string `iat`)."""


def _segment(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise TokenError("invalid token: its header is not base64") from None


def _unique_json(raw: bytes) -> Any:
    """JSON where no object names a key twice (the standard reader keeps the last silently)."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in items]
        if len(set(keys)) != len(keys):
            twice = sorted({key for key in keys if keys.count(key) > 1})
            raise TokenError(f"invalid token: it names {', '.join(twice)} more than once")
        return dict(items)

    try:
        return json.loads(raw, object_pairs_hook=pairs)
    except (ValueError, RecursionError):
        raise TokenError("invalid token: not JSON") from None


def _check_user(user: object) -> None:
    if not isinstance(user, str) or not user.strip():
        raise ValueError("a token needs a user")


def _duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    return f"{span.days} days" if seconds % 86_400 == 0 else f"{seconds} seconds"
