"""Webhooks per tenant (``kit.hooks``): a workflow's URLs ``POST /hooks/<id>`` that any service can call,
how each checks its requests, its signing secret (shown once, sealed at rest), its transform, its rate
limit and its last requests; and `deliver`, what a request to one does.

A request goes through, in order: the hook is known and a trigger of its workflow names it (else 404);
the hook's rate limit, per process (429, with the seconds to wait); the size (413); the signature
(401); the body and the transform, to an event (422, with the reason); then the event is received as
``POST /api/events`` receives one, for the hook's tenant, and starts the hook's workflow only (202, with
the event's id); the run happens afterwards, in a worker. Nothing is stored of a refused request but a
line in the hook's last requests (none for an unknown hook, or one over its rate limit: a flood writes
nothing).
"""

from __future__ import annotations

import builtins
import math
import secrets
import threading
from collections.abc import Callable, Mapping
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from ...errors import Problem, WorkflowValidationError
from ...events import EventError, new_id, normalize_event
from ...sealing import Sealer, SealError
from ...tenancy import check_tenant
from ...timeutil import Clock
from ...twins import async_twin
from ..lifecycle.events_in import HookTarget
from ..lifecycle.hooks import insert_hook
from ..models import NotFoundError
from ..rules import signatures, webhooks
from ..rules.signatures import SignatureError, Verification
from ..rules.triggers import DEFAULT_WEBHOOK_EVENT
from ..storage import schema
from ..storage.db import Database

H, R, T, W = schema.hooks, schema.hook_requests, schema.triggers, schema.workflows
KEPT_REQUESTS = 20
SEAL_PURPOSE = "workflow-kit webhook signing secrets"
_HIDDEN_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
_WITH_TRIGGER = sa.select(H, T.c.event.label("trigger_event")).select_from(
    H.outerjoin(T, sa.and_(T.c.workflow_id == H.c.workflow_id, T.c.hook_id == H.c.id))
)


class Hook(msgspec.Struct, kw_only=True):
    """A webhook: `id` (the URL is ``POST /hooks/<id>``), its workflow, how it checks requests, whether it
    has a secret (never the secret), its `transform` (CEL; none: the body is the event's data), its rate
    limit (requests a minute), and `event`: the name of its trigger's events, none while no trigger of
    the workflow names it (then it answers 404)."""

    id: str
    workflow_id: str
    verification: Verification
    has_secret: bool
    transform: str | None
    rate_limit: int
    event: str | None
    created_at: int
    updated_at: int


class NewSecret(msgspec.Struct):
    """A hook and its new signing secret: shown this once, stored sealed."""

    hook: Hook
    secret: str


class HookRequest(msgspec.Struct):
    """One of a hook's last requests: when, ``accepted`` or ``refused``, the status answered, why (in
    words), the event it made."""

    id: str
    received_at: int
    outcome: str
    status: int
    why: str
    event_id: str | None


class Delivery(msgspec.Struct, omit_defaults=True):
    """What a request to a hook got: its status, the event made (202), why not (otherwise), the
    seconds to wait (429)."""

    status: int
    event_id: str | None = None
    why: str = ""
    retry_after: int | None = None


Send = Callable[[str, dict[str, Any], HookTarget], str]
"""Receive one event for a tenant, for a hook's workflow only; its id."""


class _Limiter:
    """Each hook's rate, in this process: the theoretical arrival time of its next request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tat: dict[str, int] = {}

    def wait_ms(self, hook_id: str, now: int, limit: int) -> int:
        with self._lock:
            wait, tat = webhooks.retry_after_ms(self._tat.get(hook_id), now, limit)
            if tat is not None:
                if len(self._tat) > 10_000:  # forget the hooks that are back to their full burst
                    self._tat = {key: value for key, value in self._tat.items() if value > now}
                self._tat[hook_id] = tat
            return wait


class HookStore:
    """``kit.hooks``: a tenant's webhooks (async, each with a ``_sync`` twin). Secrets are sealed with a
    key from `secret` (the kit's; `with_secret` gives a store with another, e.g. an editor API's own)."""

    def __init__(
        self, db: Database, clock: Clock, send: Send, secret: str | None, limiter: _Limiter | None = None
    ) -> None:
        self._db = db
        self._clock = clock
        self._send = send
        self._secret = secret
        self._sealer = Sealer(secret, SEAL_PURPOSE)
        self._limiter = limiter or _Limiter()

    def with_secret(self, secret: str | None) -> HookStore:
        """This store, sealing with a key from `secret` (the same rate limits)."""
        if secret == self._secret:
            return self
        return HookStore(self._db, self._clock, self._send, secret, self._limiter)

    def create_sync(
        self,
        tenant: str,
        workflow_id: str,
        *,
        verification: Verification | dict[str, Any] | None = None,
        transform: str | None = None,
        rate_limit: int = webhooks.DEFAULT_RATE_LIMIT,
    ) -> NewSecret:
        """A new hook of the workflow, with a new signing secret (returned this once). It answers once
        a webhook trigger of the workflow names it (``{"type": "webhook", "hook": <id>}``)."""
        check_tenant(tenant)
        checked = _checked(verification, transform, rate_limit)
        now = self._clock.now_ms()
        secret = secrets.token_urlsafe(32)
        with self._db.write() as conn:
            found = conn.execute(sa.select(W.c.id).where(W.c.id == workflow_id, W.c.tenant == tenant)).first()
            if found is None:
                raise NotFoundError(f"no workflow {workflow_id!r}")
            hook_id = insert_hook(
                conn, tenant, workflow_id, now, verification=checked[0], transform=checked[1], rate_limit=checked[2]
            )
            sealed = self._sealer.seal(secret, hook_id)
            conn.execute(H.update().where(H.c.id == hook_id).values(secret=sealed))
            hook = self._hook(conn, tenant, hook_id)
        return NewSecret(hook=hook, secret=secret)

    create = async_twin(create_sync)

    def get_sync(self, tenant: str, hook_id: str) -> Hook:
        """The hook (`NotFoundError` for another tenant's, or none)."""
        check_tenant(tenant)
        with self._db.read() as conn:
            return self._hook(conn, tenant, hook_id)

    get = async_twin(get_sync)

    def configure_sync(
        self,
        tenant: str,
        hook_id: str,
        *,
        verification: Verification | dict[str, Any] | None = None,
        transform: str | None = None,
        rate_limit: int = webhooks.DEFAULT_RATE_LIMIT,
    ) -> Hook:
        """Set how the hook checks requests, its transform (none: the body is the data) and rate limit.
        Problems have the paths ``verification.header``, ``transform``, ``rate_limit``."""
        check_tenant(tenant)
        checked = _checked(verification, transform, rate_limit)
        with self._db.write() as conn:
            self._hook(conn, tenant, hook_id)
            conn.execute(
                H.update()
                .where(H.c.id == hook_id)
                .values(
                    verification=msgspec.to_builtins(checked[0]),
                    transform=checked[1],
                    rate_limit=checked[2],
                    updated_at=self._clock.now_ms(),
                )
            )
            return self._hook(conn, tenant, hook_id)

    configure = async_twin(configure_sync)

    def rotate_secret_sync(self, tenant: str, hook_id: str) -> NewSecret:
        """A new signing secret for the hook, returned this once; the old one stops working at once."""
        check_tenant(tenant)
        secret = secrets.token_urlsafe(32)
        with self._db.write() as conn:
            self._hook(conn, tenant, hook_id)
            sealed = self._sealer.seal(secret, hook_id)
            conn.execute(H.update().where(H.c.id == hook_id).values(secret=sealed, updated_at=self._clock.now_ms()))
            return NewSecret(hook=self._hook(conn, tenant, hook_id), secret=secret)

    rotate_secret = async_twin(rotate_secret_sync)

    def requests_sync(self, tenant: str, hook_id: str) -> builtins.list[HookRequest]:
        """The hook's last 20 requests, newest first."""
        check_tenant(tenant)
        with self._db.read() as conn:
            self._hook(conn, tenant, hook_id)
            query = R.select().where(R.c.hook_id == hook_id).order_by(R.c.id.desc()).limit(KEPT_REQUESTS)
            return [
                HookRequest(
                    id=row.id,
                    received_at=row.received_at,
                    outcome=row.outcome,
                    status=row.status,
                    why=row.why,
                    event_id=row.event_id,
                )
                for row in conn.execute(query)
            ]

    requests = async_twin(requests_sync)

    def deliver_sync(
        self,
        hook_id: str,
        *,
        method: str = "POST",
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, Any] | None = None,
        body: bytes = b"",
        too_large: bool = False,
    ) -> Delivery:
        """What a request to ``POST /hooks/<hook_id>`` gets (see the module docstring). `headers`: any
        case; `body`: the raw bytes, as signed; `too_large`: the body was over the limit, and not read."""
        lowered = {key.lower(): value for key, value in (headers or {}).items()}
        now = self._clock.now_ms()
        with self._db.read() as conn:
            row = conn.execute(_WITH_TRIGGER.where(H.c.id == hook_id)).mappings().first()
        if row is None or row["trigger_event"] is None:
            return Delivery(status=404, why="no such webhook")
        wait = self._limiter.wait_ms(hook_id, now, row["rate_limit"])
        if wait:
            why = f"over the limit of {row['rate_limit']} requests a minute"
            return Delivery(status=429, why=why, retry_after=max(1, math.ceil(wait / 1000)))
        if too_large or len(body) > webhooks.MAX_BODY_BYTES:
            delivery = Delivery(status=413, why=f"the body is over {webhooks.MAX_BODY_BYTES // 1024} KB")
        else:
            delivery = self._check_and_send(row, lowered, dict(query or {}), method, body, now)
        self._note(hook_id, now, delivery)
        return delivery

    deliver = async_twin(deliver_sync)

    def send_sample_sync(self, tenant: str, hook_id: str, body: Any = None) -> Delivery:
        """Post `body` (JSON; default a small example) to the hook as its sender would, signed with its
        secret, through `deliver`: the editor's "Send a test request"."""
        check_tenant(tenant)
        with self._db.read() as conn:
            hook = self._hook(conn, tenant, hook_id)
            sealed = conn.execute(sa.select(H.c.secret).where(H.c.id == hook_id)).scalar_one()
        raw = msgspec.json.encode(body if body is not None else {"test": True, "message": "A test request"})
        secret = self._open(sealed, hook_id) if sealed is not None and hook.verification.needs_secret else None
        headers = {"content-type": "application/json", "user-agent": "workflow-kit test request"}
        headers.update(signatures.sign(hook.verification, secret, raw, self._clock.now_ms() / 1000))
        return self.deliver_sync(hook_id, headers=headers, body=raw)

    send_sample = async_twin(send_sample_sync)

    # -- internals -------------------------------------------------------------------------------

    def _check_and_send(
        self, row: RowMapping, headers: dict[str, str], query: dict[str, Any], method: str, body: bytes, now: int
    ) -> Delivery:
        hook_id = row["id"]
        verification = msgspec.convert(row["verification"], Verification)
        try:
            secret = self._open(row["secret"], hook_id) if verification.needs_secret and row["secret"] else None
            signatures.check(verification, secret, headers, body, now / 1000)
        except (SignatureError, SealError) as exc:
            return Delivery(status=401, why=str(exc))
        shown = {k: v for k, v in headers.items() if k not in _HIDDEN_HEADERS and k != verification.secret_header}
        try:
            parsed = webhooks.parse_body(headers.get("content-type"), body)
            request = {"method": method.upper(), "headers": shown, "query": query, "body": parsed}
            made = webhooks.to_event(row["transform"], request, row["trigger_event"] or DEFAULT_WEBHOOK_EVENT)
            event = normalize_event(made, now)
        except webhooks.TransformError as exc:
            return Delivery(status=422, why=str(exc))
        except EventError as exc:
            return Delivery(status=422, why=f"the event it makes is not valid: {exc}")
        event_id = self._send(row["tenant"], event, HookTarget(row["workflow_id"], hook_id))
        return Delivery(status=202, event_id=event_id)

    def _open(self, sealed: str, hook_id: str) -> str:
        return self._sealer.open(sealed, hook_id)

    def _note(self, hook_id: str, now: int, delivery: Delivery) -> None:
        """Keep the request in the hook's last ones (the oldest beyond 20 forgotten)."""
        outcome = "accepted" if delivery.status == 202 else "refused"
        with self._db.write() as conn:
            conn.execute(
                R.insert().values(
                    id=new_id(now),
                    hook_id=hook_id,
                    received_at=now,
                    outcome=outcome,
                    status=delivery.status,
                    why=delivery.why,
                    event_id=delivery.event_id,
                )
            )
            oldest_kept = (
                sa.select(R.c.id)
                .where(R.c.hook_id == hook_id)
                .order_by(R.c.id.desc())
                .offset(KEPT_REQUESTS - 1)
                .limit(1)
                .scalar_subquery()
            )
            conn.execute(R.delete().where(R.c.hook_id == hook_id, R.c.id < oldest_kept))

    def _hook(self, conn: Connection, tenant: str, hook_id: str) -> Hook:
        row = conn.execute(_WITH_TRIGGER.where(H.c.id == hook_id, H.c.tenant == tenant)).mappings().first()
        if row is None:
            raise NotFoundError("no such webhook")
        return Hook(
            id=row["id"],
            workflow_id=row["workflow_id"],
            verification=msgspec.convert(row["verification"], Verification),
            has_secret=row["secret"] is not None,
            transform=row["transform"],
            rate_limit=row["rate_limit"],
            event=row["trigger_event"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )


def _checked(
    verification: Verification | dict[str, Any] | None, transform: str | None, rate_limit: int
) -> tuple[Verification, str | None, int]:
    """A hook's settings, checked: every problem at once, with its path."""
    problems: list[Problem] = []
    if isinstance(verification, dict):
        try:
            verification = msgspec.convert(verification, Verification)
        except msgspec.ValidationError as exc:
            raise WorkflowValidationError([Problem("invalid_verification", "verification", str(exc))]) from None
    checked = verification or Verification()
    problems += signatures.verification_problems(checked)
    transform = transform.strip() or None if transform is not None else None
    problems += webhooks.transform_problems(transform)
    if (
        isinstance(rate_limit, bool)
        or not isinstance(rate_limit, int)
        or not 1 <= rate_limit <= webhooks.MAX_RATE_LIMIT
    ):
        message = f"expected 1 to {webhooks.MAX_RATE_LIMIT} requests a minute"
        problems.append(Problem("invalid_rate_limit", "rate_limit", message))
    if problems:
        raise WorkflowValidationError(problems)
    return checked, transform, rate_limit
