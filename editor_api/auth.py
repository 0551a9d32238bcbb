"""Who is calling: an end user with a token from `kit.editor_token`, or the host's backend with a
server key (acting for the tenant named in ``X-Workflow-Kit-Tenant``); and, for a run's live stream
only, the holder of a stream ticket (short-lived, single-use, bound to that run) that a caller of either
kind obtained with ``POST /api/runs/{id}/stream-ticket``. No long-lived credential is ever read from a URL."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from litestar import Request

from workflow_kit import WorkflowKit
from workflow_kit.tenancy import check_tenant
from workflow_kit.tokens import SCOPES, Principal, TokenError, mint, mint_ticket, verify, verify_ticket

TENANT_HEADER = "x-workflow-kit-tenant"
MAX_OPEN_TICKETS = 100_000
"""Used tickets remembered at once (each only until it expires, a minute): past it, tickets are refused."""


class Authenticator:
    """Checks the callers of one app, with that app's signing secret and server keys (the kit is only
    asked for its clock, and is never changed: two apps on one kit keep their own secrets)."""

    def __init__(self, kit: WorkflowKit, secret: str, server_keys: Sequence[str]) -> None:
        self._kit = kit
        self._secret = secret
        self._server_keys = [key for key in server_keys if key]
        self._used_tickets: dict[str, int] = {}  # jti -> when it expires (ms)

    @property
    def secrets(self) -> list[str]:
        """The secret and keys this app checks callers with (for the logs to redact)."""
        return [self._secret, *self._server_keys]

    def principal(self, request: Request[Any, Any, Any]) -> Principal:
        """The caller, from ``Authorization: Bearer ...``."""
        token = _bearer(request)
        if token is None:
            raise TokenError("missing token: send Authorization: Bearer <token>")
        for key in self._server_keys:
            if hmac.compare_digest(token.encode(), key.encode()):
                tenant = request.headers.get(TENANT_HEADER)
                if not tenant:
                    raise TokenError(f"a server key acts for the tenant named in the {TENANT_HEADER} header")
                try:
                    check_tenant(tenant)
                except ValueError as exc:
                    raise TokenError(str(exc)) from None
                return Principal(tenant=tenant, user="server", scopes=frozenset(SCOPES), server=True)
        return verify(self._secret, token, now_ms=self._kit.clock.now_ms())

    def mint(self, tenant: str, user: str, *, ttl: timedelta | int = timedelta(hours=1)) -> str:
        """A token this app accepts (signed with its secret): what ``POST /api/demo/token`` hands out."""
        return mint(self._secret, tenant, user, ttl=ttl, now_ms=self._kit.clock.now_ms())

    def ticket(self, principal: Principal, run_id: str) -> tuple[str, int]:
        """A stream ticket for `run_id` (the caller has checked that the run is the principal's tenant's),
        and when it expires (epoch ms)."""
        principal.require("runs:read")
        return mint_ticket(self._secret, principal, run_id, now_ms=self._kit.clock.now_ms())

    def redeem(self, ticket: str, run_id: str) -> Principal:
        """Who may watch `run_id` with `ticket`, which is used up by this call: a ticket that expired, was
        used before, or is for another run is a `TokenError`."""
        now = self._kit.clock.now_ms()
        checked = verify_ticket(self._secret, ticket, run_id=run_id, now_ms=now)
        self._used_tickets = {jti: ends for jti, ends in self._used_tickets.items() if ends > now}
        if checked.jti in self._used_tickets:
            raise TokenError("this ticket was used already: ask for a new one")
        if len(self._used_tickets) >= MAX_OPEN_TICKETS:
            raise TokenError("too many streams are being opened: try again in a minute")
        self._used_tickets[checked.jti] = checked.expires_ms
        return Principal(tenant=checked.tenant, user=checked.user, scopes=frozenset({"runs:read"}))


def _bearer(request: Request[Any, Any, Any]) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise TokenError("malformed Authorization header: expected 'Bearer <token>'")
    return value.strip()
