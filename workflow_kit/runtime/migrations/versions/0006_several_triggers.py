"""several triggers: a workflow has a list of triggers, one row each in wk_triggers

A workflow's (and a version's) ``triggers`` is a list; ``wk_triggers`` holds one row per trigger, by
which events find their workflows and workers the cron ticks that are due (a next tick per schedule);
a run records the trigger that started it (``wk_runs.trigger``).

Upgrading turns each record's single trigger (``trigger_event`` and ``trigger_if``, or
``trigger_cron``) into a list of one, and its row in ``wk_triggers`` keeps the workflow's next tick, so
a scheduled workflow ticks on as it would have. Downgrading keeps each workflow's first trigger (and
that trigger's next tick): the others are lost.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from workflow_kit.runtime.storage.schema import JSONType

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _old() -> tuple[sa.ColumnClause[Any], ...]:
    """The single trigger's columns (new objects each time: a column belongs to one table)."""
    return (
        sa.column("trigger_event", sa.String(256)),
        sa.column("trigger_if", sa.String()),
        sa.column("trigger_cron", sa.String(256)),
    )


def _workflows(*extra: sa.ColumnClause[Any]) -> sa.TableClause:
    return sa.table(
        "wk_workflows", sa.column("id", sa.String(64)), sa.column("tenant", sa.String(128)), *_old(), *extra
    )


def _versions() -> sa.TableClause:
    return sa.table("wk_workflow_versions", sa.column("id", sa.String(64)), *_old(), sa.column("triggers", JSONType))


_TRIGGERS = sa.table(
    "wk_triggers",
    sa.column("workflow_id", sa.String(64)),
    sa.column("position", sa.Integer()),
    sa.column("tenant", sa.String(128)),
    sa.column("event", sa.String(256)),
    sa.column("if_exp", sa.String()),
    sa.column("cron", sa.String(256)),
    sa.column("next_tick_at", sa.BigInteger()),
)


def _as_list(row: Any) -> list[dict[str, str]]:
    """A record's single trigger as the list of one that replaces it (the shape `Trigger` encodes to)."""
    if row.trigger_cron is not None:
        return [{"cron": row.trigger_cron}]
    trigger = {"event": row.trigger_event or ""}
    if row.trigger_if:
        trigger["if"] = row.trigger_if
    return [trigger]


def _first(triggers: Any) -> dict[str, Any]:
    """The old columns' values for a list's first trigger."""
    first = triggers[0] if isinstance(triggers, list) and triggers and isinstance(triggers[0], dict) else {}
    if first.get("cron") is not None:
        return {"trigger_event": None, "trigger_if": None, "trigger_cron": first["cron"]}
    return {"trigger_event": first.get("event") or "", "trigger_if": first.get("if"), "trigger_cron": None}


def upgrade() -> None:
    op.create_table(
        "wk_triggers",
        sa.Column("workflow_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("tenant", sa.String(length=128), nullable=False),
        sa.Column("event", sa.String(length=256), nullable=True),
        sa.Column("if_exp", sa.String(), nullable=True),
        sa.Column("cron", sa.String(length=256), nullable=True),
        sa.Column("next_tick_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("workflow_id", "position"),
    )
    with op.batch_alter_table("wk_triggers", schema=None) as batch_op:
        batch_op.create_index("ix_wk_triggers_event", ["tenant", "event"], unique=False)
        batch_op.create_index("ix_wk_triggers_next_tick", ["next_tick_at"], unique=False)
    op.add_column("wk_workflows", sa.Column("triggers", JSONType, nullable=True))
    op.add_column("wk_workflow_versions", sa.Column("triggers", JSONType, nullable=True))
    op.add_column("wk_runs", sa.Column("trigger", JSONType, nullable=True))

    conn = op.get_bind()
    workflows = _workflows(sa.column("next_tick_at", sa.BigInteger()), sa.column("triggers", JSONType))
    found = conn.execute(sa.select(workflows)).all()
    if found:
        conn.execute(
            workflows.update().where(workflows.c.id == sa.bindparam("_id")).values(triggers=sa.bindparam("_triggers")),
            [{"_id": row.id, "_triggers": _as_list(row)} for row in found],
        )
        rows = []
        for row in found:
            [trigger] = _as_list(row)
            rows.append(
                {
                    "workflow_id": row.id,
                    "position": 0,
                    "tenant": row.tenant,
                    "event": trigger.get("event"),
                    "if_exp": trigger.get("if"),
                    "cron": trigger.get("cron"),
                    "next_tick_at": row.next_tick_at if row.trigger_cron is not None else None,
                }
            )
        conn.execute(_TRIGGERS.insert(), rows)
    versions = _versions()
    found = conn.execute(sa.select(versions)).all()
    if found:
        conn.execute(
            versions.update().where(versions.c.id == sa.bindparam("_id")).values(triggers=sa.bindparam("_triggers")),
            [{"_id": row.id, "_triggers": _as_list(row)} for row in found],
        )

    with op.batch_alter_table("wk_workflows", schema=None) as batch_op:
        batch_op.drop_index("ix_wk_workflows_trigger")
        batch_op.drop_index("ix_wk_workflows_next_tick")
        batch_op.alter_column("triggers", existing_type=JSONType, nullable=False)
        batch_op.drop_column("next_tick_at")
        batch_op.drop_column("trigger_cron")
        batch_op.drop_column("trigger_if")
        batch_op.drop_column("trigger_event")
    with op.batch_alter_table("wk_workflow_versions", schema=None) as batch_op:
        batch_op.alter_column("triggers", existing_type=JSONType, nullable=False)
        batch_op.drop_column("trigger_cron")
        batch_op.drop_column("trigger_if")
        batch_op.drop_column("trigger_event")


def downgrade() -> None:
    for table in ("wk_workflows", "wk_workflow_versions"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("trigger_event", sa.String(length=256), nullable=True))
            batch_op.add_column(sa.Column("trigger_if", sa.String(), nullable=True))
            batch_op.add_column(sa.Column("trigger_cron", sa.String(length=256), nullable=True))
    op.add_column("wk_workflows", sa.Column("next_tick_at", sa.BigInteger(), nullable=True))

    conn = op.get_bind()
    workflows = _workflows(sa.column("next_tick_at", sa.BigInteger()), sa.column("triggers", JSONType))
    ticks = dict(
        conn.execute(
            sa.select(_TRIGGERS.c.workflow_id, _TRIGGERS.c.next_tick_at).where(_TRIGGERS.c.position == 0)
        ).all()
    )
    found = conn.execute(sa.select(workflows.c.id, workflows.c.triggers)).all()
    if found:
        conn.execute(
            workflows.update()
            .where(workflows.c.id == sa.bindparam("_id"))
            .values(
                trigger_event=sa.bindparam("_event"),
                trigger_if=sa.bindparam("_if"),
                trigger_cron=sa.bindparam("_cron"),
                next_tick_at=sa.bindparam("_tick"),
            ),
            [_old_values(row.id, row.triggers, ticks.get(row.id), with_tick=True) for row in found],
        )
    versions = _versions()
    found = conn.execute(sa.select(versions.c.id, versions.c.triggers)).all()
    if found:
        conn.execute(
            versions.update()
            .where(versions.c.id == sa.bindparam("_id"))
            .values(
                trigger_event=sa.bindparam("_event"), trigger_if=sa.bindparam("_if"), trigger_cron=sa.bindparam("_cron")
            ),
            [_old_values(row.id, row.triggers) for row in found],
        )

    with op.batch_alter_table("wk_runs", schema=None) as batch_op:
        batch_op.drop_column("trigger")
    with op.batch_alter_table("wk_workflow_versions", schema=None) as batch_op:
        batch_op.drop_column("triggers")
    with op.batch_alter_table("wk_workflows", schema=None) as batch_op:
        batch_op.drop_column("triggers")
        batch_op.create_index("ix_wk_workflows_trigger", ["tenant", "trigger_event", "enabled"], unique=False)
        batch_op.create_index("ix_wk_workflows_next_tick", ["next_tick_at"], unique=False)
    with op.batch_alter_table("wk_triggers", schema=None) as batch_op:
        batch_op.drop_index("ix_wk_triggers_next_tick")
        batch_op.drop_index("ix_wk_triggers_event")
    op.drop_table("wk_triggers")


def _old_values(row_id: str, triggers: Any, tick: int | None = None, *, with_tick: bool = False) -> dict[str, Any]:
    first = _first(triggers)
    values = {
        "_id": row_id,
        "_event": first["trigger_event"],
        "_if": first["trigger_if"],
        "_cron": first["trigger_cron"],
    }
    if with_tick:
        values["_tick"] = tick if first["trigger_cron"] is not None else None
    return values
