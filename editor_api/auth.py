"""Who is calling: an end user with a token from `kit.editor_token`, or the host's backend with a
server key (acting for the tenant named in ``X-Workflow-Kit-Tenant``)."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from litestar import Request

from workflow_kit import WorkflowKit
from workflow_kit.tenancy import check_tenant
from workflow_kit.tokens import SCOPES, Principal, TokenError, mint, verify

TENANT_HEADER = "x-workflow-kit-tenant"


class Authenticator:
    """Checks the callers of one app, with that app's signing secret and server keys (the kit is only
    asked for its clock, and is never changed: two apps on one kit keep their own secrets)."""

    def __init__(self, kit: WorkflowKit, secret: str, server_keys: Sequence[str]) -> None:
        self._kit = kit
        self._secret = secret
        self._server_keys = [key for key in server_keys if key]

    def principal(self, request: Request[Any, Any, Any]) -> Principal:
        """The caller, from ``Authorization: Bearer ...`` (or ``?token=`` for event streams)."""
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


def _bearer(request: Request[Any, Any, Any]) -> str | None:
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise TokenError("malformed Authorization header: expected 'Bearer <token>'")
        return value.strip()
    if request.url.path.endswith("/stream"):  # EventSource cannot send headers
        return request.query_params.get("token")
    return None
