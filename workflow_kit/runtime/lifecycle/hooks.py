"""A workflow's webhooks, as its triggers are saved: each webhook trigger names a hook of its own
workflow. One that names none, or a hook that is not this workflow's (a workflow duplicated or imported,
an id of another tenant's), gets a new hook, which checks nothing until its settings say how (and no
error says whether the id it named exists).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..rules.signatures import Verification
from ..rules.triggers import WEBHOOK, Trigger, with_hooks
from ..rules.webhooks import DEFAULT_RATE_LIMIT
from ..storage import schema

H, R = schema.hooks, schema.hook_requests


def new_hook_id() -> str:
    """An unguessable id, safe in a URL (192 random bits)."""
    return secrets.token_urlsafe(24)


def insert_hook(
    conn: Connection,
    tenant: str,
    workflow_id: str,
    now: int,
    *,
    verification: Verification | None = None,
    transform: str | None = None,
    rate_limit: int = DEFAULT_RATE_LIMIT,
) -> str:
    """A new hook of the workflow (no secret yet); its id."""
    hook_id = new_hook_id()
    conn.execute(
        H.insert().values(
            id=hook_id,
            tenant=tenant,
            workflow_id=workflow_id,
            verification=_json(verification or Verification()),
            secret=None,
            transform=transform,
            rate_limit=rate_limit,
            created_at=now,
            updated_at=now,
        )
    )
    return hook_id


def attach_hooks(
    conn: Connection, tenant: str, workflow_id: str, triggers: Sequence[Trigger], now: int
) -> tuple[Trigger, ...]:
    """`triggers` with each webhook trigger naming a hook of this workflow (new ones made as needed)."""
    named = [t.hook for t in triggers if t.type == WEBHOOK and t.hook is not None]
    owned: set[str] = set()
    if named:
        query = sa.select(H.c.id).where(H.c.tenant == tenant, H.c.workflow_id == workflow_id, H.c.id.in_(named))
        owned = {row.id for row in conn.execute(query)}
    hooks: list[str | None] = []
    for trigger in triggers:
        if trigger.type != WEBHOOK:
            hooks.append(None)
        elif trigger.hook in owned and trigger.hook not in hooks:
            hooks.append(trigger.hook)
        else:
            hooks.append(insert_hook(conn, tenant, workflow_id, now))
    return with_hooks(triggers, hooks)


def delete_hooks(conn: Connection, workflow_id: str) -> None:
    """Forget the workflow's hooks and their requests (the workflow is deleted)."""
    ids = sa.select(H.c.id).where(H.c.workflow_id == workflow_id).scalar_subquery()
    conn.execute(R.delete().where(R.c.hook_id.in_(ids)))
    conn.execute(H.delete().where(H.c.workflow_id == workflow_id))


def _json(verification: Verification) -> dict[str, Any]:
    encoded: dict[str, Any] = msgspec.to_builtins(verification)
    return encoded
