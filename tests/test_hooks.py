"""``kit.hooks`` on both databases: webhook triggers get hooks of their own workflow, a request becomes an
event that starts that workflow only, the 24-hour dedupe by delivery id, the refusals (nothing stored but
a line of the hook's last requests), the last 20 requests, secrets sealed at rest, tenants."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from workflow_kit import ActionContextSync, WorkflowKit
from workflow_kit.runtime.models import NotFoundError
from workflow_kit.runtime.rules.signatures import Verification, sign
from workflow_kit.runtime.storage import schema
from workflow_kit.runtime.stores.hooks import HookStore
from workflow_kit.sealing import SealError
from workflow_kit.timeutil import VirtualClock

TENANT = "acme"
OTHER = "globex"
KEY = "hooks-test-secret-" + "k" * 32
FLOW = {"actions": [{"id": "e", "kind": "echo"}], "edges": [{"from": "$source", "to": "e"}]}


@pytest.fixture
def hooks(kit: WorkflowKit) -> HookStore:
    @kit.action(kind="echo")
    def echo(ctx: ActionContextSync, inputs: dict[str, Any]) -> Any:
        return None

    return kit.hooks.with_secret(KEY)


def _hooked(kit: WorkflowKit, tenant: str = TENANT, **trigger: Any) -> tuple[str, str]:
    """A published, enabled workflow started by a webhook: its id and its hook's."""
    record = kit.workflows.create_sync(
        tenant, name="On a webhook", triggers=[{"type": "webhook", **trigger}], workflow=FLOW
    )
    hook = record.triggers[0].hook
    assert hook is not None and len(hook) >= 32
    return record.id, hook


def _post(hooks: HookStore, hook_id: str, body: Any, **headers: str) -> Any:
    raw = json.dumps(body).encode()
    return hooks.deliver_sync(hook_id, headers={"Content-Type": "application/json", **headers}, body=raw)


def test_a_request_starts_the_hooks_workflow_only(kit: WorkflowKit, hooks: HookStore) -> None:
    workflow_id, hook_id = _hooked(kit, event="github/push")
    by_name = kit.workflows.create_sync(TENANT, name="By name", trigger="github/push", workflow=FLOW)
    delivery = _post(hooks, hook_id, {"ref": "main"})
    assert delivery.status == 202 and delivery.event_id
    [run] = kit.runs.list_sync(TENANT, event_id=delivery.event_id)
    assert run.workflow_id == workflow_id  # not `by_name`, though it names the same event
    assert run.event["name"] == "github/push" and run.event["data"] == {"ref": "main"}
    assert run.trigger == {"index": 0, "type": "webhook", "hook": hook_id, "event": "github/push"}
    [sent] = kit.send_sync(TENANT, {"name": "github/push", "data": {}})  # an event by name: not the webhook's
    assert [r.workflow_id for r in kit.runs.list_sync(TENANT, event_id=sent)] == [by_name.id]
    [line] = hooks.requests_sync(TENANT, hook_id)
    assert (line.outcome, line.status, line.event_id) == ("accepted", 202, delivery.event_id)


def test_the_delivery_header_deduplicates_for_a_day(kit: WorkflowKit, hooks: HookStore) -> None:
    _, hook_id = _hooked(kit)
    first = _post(hooks, hook_id, {"n": 1}, **{"X-GitHub-Delivery": "d-1"})
    again = _post(hooks, hook_id, {"n": 1}, **{"X-GitHub-Delivery": "d-1"})
    assert first.status == again.status == 202
    assert len(kit.runs.list_sync(TENANT)) == 1


def test_refusals_store_no_event(kit: WorkflowKit, hooks: HookStore) -> None:
    _, hook_id = _hooked(kit)
    hooks.configure_sync(TENANT, hook_id, verification={"style": "github"}, transform="{'data': body.nested}")
    secret = hooks.rotate_secret_sync(TENANT, hook_id).secret
    raw = b'{"a": 1}'
    assert hooks.deliver_sync("nope", body=raw).status == 404
    assert hooks.deliver_sync(hook_id, body=raw).status == 401
    assert hooks.deliver_sync(hook_id, body=raw, too_large=True).status == 413
    signed = sign(Verification(style="github"), secret, raw, kit.clock.now_ms() / 1000)
    failed = hooks.deliver_sync(hook_id, headers={"content-type": "application/json", **signed}, body=raw)
    assert failed.status == 422 and "the transform failed" in failed.why
    assert kit.events.list_sync(TENANT) == []
    assert [(r.status, r.outcome) for r in hooks.requests_sync(TENANT, hook_id)] == [
        (422, "refused"),
        (413, "refused"),
        (401, "refused"),
    ]


def test_over_the_rate_limit(kit: WorkflowKit, hooks: HookStore) -> None:
    _, hook_id = _hooked(kit)
    hooks.configure_sync(TENANT, hook_id, rate_limit=2)
    assert [_post(hooks, hook_id, {}).status for _ in range(2)] == [202, 202]
    over = _post(hooks, hook_id, {})
    assert over.status == 429 and over.retry_after == 30
    assert len(hooks.requests_sync(TENANT, hook_id)) == 2  # a flood writes nothing


def test_the_last_20_requests_are_kept(kit: WorkflowKit, hooks: HookStore, clock: VirtualClock) -> None:
    _, hook_id = _hooked(kit)
    hooks.configure_sync(TENANT, hook_id, rate_limit=100)
    for _ in range(23):
        clock.advance(timedelta(milliseconds=1))
        hooks.deliver_sync(hook_id, body=b"\xff")  # not UTF-8: refused, and kept in the list
    kept = hooks.requests_sync(TENANT, hook_id)
    assert len(kept) == 20 and kept[0].received_at > kept[-1].received_at
    with kit.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.hook_requests)).scalar_one() == 20


def test_secrets_are_sealed_at_rest_and_shown_once(kit: WorkflowKit, hooks: HookStore) -> None:
    workflow_id, _ = _hooked(kit)
    made = hooks.create_sync(TENANT, workflow_id, verification={"style": "stripe"})
    assert made.hook.has_secret and len(made.secret) >= 32
    with kit.db.read() as conn:
        rows = [dict(row) for row in conn.execute(schema.hooks.select()).mappings()]
    assert made.secret not in json.dumps(rows)
    rotated = hooks.rotate_secret_sync(TENANT, made.hook.id).secret
    assert rotated != made.secret
    with pytest.raises(SealError, match="set WORKFLOW_KIT_SECRET"):
        kit.hooks.with_secret(None).rotate_secret_sync(TENANT, made.hook.id)


def test_a_hook_waits_for_its_trigger(kit: WorkflowKit, hooks: HookStore) -> None:
    workflow_id, hook_id = _hooked(kit)
    made = hooks.create_sync(TENANT, workflow_id)
    assert made.hook.event is None
    assert _post(hooks, made.hook.id, {}).status == 404  # no trigger names it yet
    record = kit.workflows.update_sync(
        TENANT, workflow_id, triggers=[{"type": "webhook", "hook": hook_id}, {"type": "webhook", "hook": made.hook.id}]
    )
    assert [t.hook for t in record.triggers] == [hook_id, made.hook.id]
    assert _post(hooks, made.hook.id, {}).status == 202
    kit.workflows.delete_sync(TENANT, workflow_id)
    assert _post(hooks, hook_id, {}).status == 404
    with pytest.raises(NotFoundError):
        hooks.get_sync(TENANT, hook_id)


def test_another_workflows_or_tenants_hook_is_never_taken(kit: WorkflowKit, hooks: HookStore) -> None:
    _, theirs = _hooked(kit, tenant=OTHER)
    workflow_id, mine = _hooked(kit, hook=theirs)
    assert mine != theirs  # a new hook, and nothing said about theirs
    copied = kit.workflows.create_sync(TENANT, name="Copy", triggers=[{"type": "webhook", "hook": mine}], workflow=FLOW)
    assert copied.triggers[0].hook not in (mine, theirs)
    with pytest.raises(NotFoundError):
        hooks.get_sync(TENANT, theirs)
    with pytest.raises(NotFoundError):
        hooks.create_sync(OTHER, workflow_id)
    assert hooks.get_sync(TENANT, mine).workflow_id == workflow_id
