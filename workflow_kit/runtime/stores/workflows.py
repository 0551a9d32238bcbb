"""Workflow records and their immutable versions, per tenant (``kit.workflows``).

A record holds its triggers (one to ten), the enabled flag and an editable draft. `publish` validates
the draft and freezes it as version 1, 2, ...; events (or the ticks of a cron trigger) start runs of the
latest published version of enabled workflows, and each run pins the version it started on.

The triggers are stored twice, in one transaction: as the record's list (``wk_workflows.triggers``,
what reads return) and as one row each in ``wk_triggers``, which is how events find their workflows
and workers their cron ticks. Every write keeps the cron triggers' next ticks in line with the
record's state (see schedules.py).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from ... import jsonlimits
from ...actions import ActionRegistry
from ...errors import Problem, WorkflowValidationError
from ...events import NUL_MESSAGE, has_nul, new_id
from ...jsonlimits import INVALID_UNICODE_MESSAGE, valid_unicode
from ...tenancy import check_tenant
from ...timeutil import Clock
from ...twins import async_twin
from ...validation import size_problems, validate
from ...workflow import WorkflowLike, dump_workflow, load_workflow
from ..lifecycle.hooks import attach_hooks, delete_hooks
from ..lifecycle.schedules import schedule
from ..models import ConflictError, NotFoundError, WorkflowRecord, WorkflowVersion
from ..rules.drafts import draft_changed
from ..rules.settings import WorkflowSettings
from ..rules.triggers import Trigger, TriggerLike, combine, parse_trigger, parse_triggers
from ..storage import schema
from ..storage.db import Database, one_of

W, V, T = schema.workflows, schema.workflow_versions, schema.triggers
MAX_LIST = 500
_NEXT_TICK = sa.select(sa.func.min(T.c.next_tick_at)).where(T.c.workflow_id == W.c.id).scalar_subquery()
_RECORDS = sa.select(W, _NEXT_TICK.label("next_tick_at"))
"""Workflow records, each with the earliest next tick of its cron triggers."""


MAX_NAME_LENGTH = 256
MAX_DESCRIPTION_LENGTH = 10_000
MAX_AUTHOR_LENGTH = 256
MAX_MESSAGE_LENGTH = 500


def _text(value: object, path: str, limit: int, *, required: bool = False) -> str:
    """A checked text field: a string, within its length limit, without NUL characters."""
    code = f"invalid_{path}"
    if not isinstance(value, str) or (required and not value.strip()):
        reason = f"a workflow needs a {path}" if required else f"expected text, got {type(value).__name__}"
        raise WorkflowValidationError([Problem(code, path, reason)])
    if len(value) > limit:
        raise WorkflowValidationError([Problem(code, path, f"longer than {limit} characters")])
    if "\x00" in value:
        raise WorkflowValidationError([Problem(code, path, NUL_MESSAGE)])
    if not valid_unicode(value):
        raise WorkflowValidationError([Problem(code, path, INVALID_UNICODE_MESSAGE)])
    return value.strip() if required else value


def _notes(author: object, message: object) -> dict[str, str | None]:
    """A published version's `author` and `message`, checked (paths ``author``, ``message``): each is
    optional, and blank text is the same as none."""
    notes: dict[str, str | None] = {}
    for path, value, limit in (("author", author, MAX_AUTHOR_LENGTH), ("message", message, MAX_MESSAGE_LENGTH)):
        notes[path] = (_text(value, path, limit).strip() or None) if value is not None else None
    return notes


class WorkflowStore:
    """``kit.workflows``: create, edit, publish, enable and list a tenant's workflows. Every method takes
    the tenant first; another tenant's workflow raises `NotFoundError`.

    Every method that reads or writes the database is async (``await kit.workflows.create(...)``) and
    has a synchronous twin of the same name with ``_sync`` (``kit.workflows.create_sync(...)``), for
    scripts, seeds and other synchronous code. `trigger_problems` and `settings_problems` touch no
    database and are plain methods.

    `notify` is told when a cron workflow's next tick changes (the kit wakes its workers);
    `cron_seconds` accepts six-field cron schedules, seconds first; `connection_problems` checks the
    connections a workflow uses against the tenant's when it is published (or snapshot for a test)."""

    def __init__(
        self,
        db: Database,
        registry: ActionRegistry,
        clock: Clock,
        notify: Callable[[], None] | None = None,
        *,
        cron_seconds: bool = False,
        connection_problems: Callable[[Connection, str, Any], builtins.list[Problem]] | None = None,
    ) -> None:
        self._db = db
        self._connection_problems = connection_problems
        self._registry = registry
        self._clock = clock
        self._notify = notify
        self._cron_seconds = cron_seconds

    def trigger_problems(self, trigger: TriggerLike) -> list[Problem]:
        """The problems saving `trigger` would report (paths ``trigger...``), without saving anything:
        the editor checks a trigger it is editing, CEL filter included, before it is saved."""
        try:
            parse_trigger(trigger, cron_seconds=self._cron_seconds)
        except WorkflowValidationError as exc:
            return exc.problems
        return []

    def triggers_problems(self, triggers: Sequence[TriggerLike]) -> builtins.list[Problem]:
        """The problems saving the list `triggers` would report (paths ``triggers``, ``triggers[1].if``),
        without saving anything."""
        try:
            parse_triggers(triggers, cron_seconds=self._cron_seconds)
        except WorkflowValidationError as exc:
            return exc.problems
        return []

    def settings_problems(self, settings: WorkflowSettings | dict[str, Any] | None) -> list[Problem]:
        """The problems saving `settings` would report (paths ``settings...``), without saving anything:
        the editor checks settings as they are edited."""
        try:
            WorkflowSettings.parse(settings)
        except WorkflowValidationError as exc:
            return exc.problems
        return []

    def create_sync(
        self,
        tenant: str,
        *,
        name: str,
        workflow: WorkflowLike,
        triggers: Sequence[TriggerLike] | None = None,
        trigger: TriggerLike | None = None,
        description: str = "",
        settings: WorkflowSettings | dict[str, Any] | None = None,
        enabled: bool | None = None,
        publish: bool = True,
        author: str | None = None,
        message: str | None = None,
    ) -> WorkflowRecord:
        """Store a new workflow. By default its workflow is validated, published as version 1 and enabled,
        so matching events start runs at once; pass ``publish=False`` to keep it as a draft (then it
        cannot be enabled yet), or ``enabled=False`` to publish without enabling. `author` and
        `message` are noted on the version published (see `publish`).

        `triggers` lists what starts a run, one to ten triggers (no two the same), any of which starts
        one: an event name, ``{"event": "app/*", "if": "<CEL>"}``, a cron schedule, ``{"cron":
        "TZ=Europe/Paris 0 12 * * 5"}`` (each tick starts one run, see schedules.py), or a webhook,
        ``{"type": "webhook", "event": "github/push"}`` (the record names its new hook: see
        ``kit.hooks``). An event that
        several of them match starts one run. Or give one `trigger` instead: a list of one (its
        problems have the paths ``trigger...``, a list's ``triggers[1]...``). Given both, `trigger`
        must be the first of `triggers`."""
        check_tenant(tenant)
        if enabled is None:
            enabled = publish
        if enabled and not publish:
            problem = Problem("not_published", "enabled", "a workflow can be enabled once published: publish it too")
            raise WorkflowValidationError([problem])
        name = _text(name, "name", MAX_NAME_LENGTH, required=True)
        description = _text(description or "", "description", MAX_DESCRIPTION_LENGTH)
        checked_triggers = combine(*self._checked_triggers(triggers, trigger))
        checked_settings = WorkflowSettings.parse(settings)
        notes = _notes(author, message)
        draft = self._draft(workflow, validate_fully=publish)
        now = self._clock.now_ms()
        workflow_id = new_id(now)
        with self._db.write() as conn:
            checked_triggers = attach_hooks(conn, tenant, workflow_id, checked_triggers, now)
            conn.execute(
                W.insert().values(
                    id=workflow_id,
                    tenant=tenant,
                    name=name,
                    description=description,
                    triggers=_triggers_json(checked_triggers),
                    enabled=enabled,
                    draft=draft,
                    revision=1,
                    published_version=None,
                    settings=_settings_json(checked_settings),
                    created_at=now,
                    updated_at=now,
                )
            )
            _write_triggers(conn, tenant, workflow_id, checked_triggers)
            if publish:
                self._publish(conn, self._row(conn, tenant, workflow_id), now, notes)
            ticks = schedule(conn, workflow_id, now) is not None
            record = _record(self._row(conn, tenant, workflow_id))
        self._scheduled(ticks)
        return record

    create = async_twin(create_sync)

    def update_sync(
        self,
        tenant: str,
        workflow_id: str,
        *,
        workflow: WorkflowLike | None = None,
        name: str | None = None,
        description: str | None = None,
        triggers: Sequence[TriggerLike] | None = None,
        trigger: TriggerLike | None = None,
        settings: WorkflowSettings | dict[str, Any] | None = None,
        expected_version: int | None = None,
        publish: bool = False,
        author: str | None = None,
        message: str | None = None,
    ) -> WorkflowRecord:
        """Change the draft and/or the record's fields. `expected_version` makes the write conditional
        (a stale one raises `ConflictError`). Triggers (`triggers`, or one `trigger`: see `create`;
        given both, as a record read and sent back has them, the one changed from what is stored wins,
        `trigger` replacing the first), settings and name apply at once; the workflow
        itself applies to new runs when it is published (``publish=True`` does it in the same step,
        noting `author` and `message` on the version as `publish` does)."""
        check_tenant(tenant)
        notes = _notes(author, message)
        values: dict[str, Any] = {}
        if workflow is not None:
            values["draft"] = self._draft(workflow, validate_fully=publish)
        if name is not None:
            values["name"] = _text(name, "name", MAX_NAME_LENGTH, required=True)
        if description is not None:
            values["description"] = _text(description, "description", MAX_DESCRIPTION_LENGTH)
        listed, single = self._checked_triggers(triggers, trigger)
        if settings is not None:
            values["settings"] = _settings_json(WorkflowSettings.parse(settings))
        now = self._clock.now_ms()
        with self._db.write() as conn:
            row = self._row(conn, tenant, workflow_id)
            _check_version(row, expected_version)
            checked_triggers = None
            if listed is not None or single is not None:
                stored = _triggers(row["triggers"])
                checked_triggers = combine(listed, single, stored, cron_seconds=self._cron_seconds)
                checked_triggers = attach_hooks(conn, tenant, workflow_id, checked_triggers, now)
                values["triggers"] = _triggers_json(checked_triggers)
            if values:
                conn.execute(
                    W.update()
                    .where(W.c.id == workflow_id)
                    .values(**values, revision=row["revision"] + 1, updated_at=now)
                )
            if checked_triggers is not None and values["triggers"] != row["triggers"]:
                _write_triggers(conn, tenant, workflow_id, checked_triggers)
            if publish:
                self._publish(conn, self._row(conn, tenant, workflow_id), now, notes)
            ticks = schedule(conn, workflow_id, now) is not None
            record = _record(self._row(conn, tenant, workflow_id))
        self._scheduled(ticks)
        return record

    update = async_twin(update_sync)

    def publish_sync(
        self,
        tenant: str,
        workflow_id: str,
        *,
        expected_version: int | None = None,
        message: str | None = None,
        author: str | None = None,
    ) -> WorkflowVersion:
        """Validate the draft and freeze it as the next version; new runs use it from now on.
        Raises `WorkflowValidationError` with every problem if the draft is invalid.

        The version notes who published it (`author`, at most 256 characters) and why (`message`, at
        most 500): both optional, blank is none; text that is too long or holds NUL is a problem with
        the path ``author`` or ``message``."""
        check_tenant(tenant)
        notes = _notes(author, message)
        with self._db.write() as conn:
            row = self._row(conn, tenant, workflow_id)
            _check_version(row, expected_version)
            return self._publish(conn, row, self._clock.now_ms(), notes)

    publish = async_twin(publish_sync)

    def enable_sync(self, tenant: str, workflow_id: str) -> WorkflowRecord:
        """Let matching events start runs (the workflow must have a published version); a cron
        workflow ticks from now on."""
        return self._set_enabled(tenant, workflow_id, True)

    enable = async_twin(enable_sync)

    def disable_sync(self, tenant: str, workflow_id: str) -> WorkflowRecord:
        """Stop starting runs (a cron workflow stops ticking); runs in flight carry on."""
        return self._set_enabled(tenant, workflow_id, False)

    disable = async_twin(disable_sync)

    def get_sync(self, tenant: str, workflow_id: str) -> WorkflowRecord:
        """The workflow record: its triggers, settings, enabled flag, draft and latest published version."""
        check_tenant(tenant)
        with self._db.read() as conn:
            return _record(self._row(conn, tenant, workflow_id))

    get = async_twin(get_sync)

    def list_sync(self, tenant: str, *, limit: int = 100, offset: int = 0) -> builtins.list[WorkflowRecord]:
        """The tenant's workflows, most recently updated first."""
        check_tenant(tenant)
        query = (
            _RECORDS.where(W.c.tenant == tenant)
            .order_by(W.c.updated_at.desc(), W.c.id.desc())
            .limit(max(1, min(limit, MAX_LIST)))
            .offset(max(0, offset))
        )
        with self._db.read() as conn:
            return [_record(row) for row in conn.execute(query).mappings()]

    list = async_twin(list_sync)

    def delete_sync(self, tenant: str, workflow_id: str, *, expected_version: int | None = None) -> None:
        """Delete the record; its versions stay, so the history of its runs remains readable.
        `expected_version` makes it conditional on the draft's version (`ConflictError` if stale)."""
        check_tenant(tenant)
        with self._db.write() as conn:
            _check_version(self._row(conn, tenant, workflow_id), expected_version)
            conn.execute(T.delete().where(T.c.workflow_id == workflow_id))
            delete_hooks(conn, workflow_id)
            conn.execute(W.delete().where(W.c.id == workflow_id))

    delete = async_twin(delete_sync)

    def published_versions_sync(self, tenant: str, workflow_ids: Sequence[str]) -> dict[str, WorkflowVersion]:
        """The latest published version of each of these workflows, by workflow id, in one query (for a
        page of workflows); a workflow never published, or not the tenant's, has none."""
        check_tenant(tenant)
        if not workflow_ids:
            return {}
        query = (
            sa.select(V)
            .join(W, sa.and_(W.c.id == V.c.workflow_id, W.c.published_version == V.c.number))
            .where(W.c.tenant == tenant, V.c.tenant == tenant, one_of(self._db.dialect, W.c.id, "ids"))
        )
        with self._db.read() as conn:
            rows = conn.execute(query, {"ids": builtins.list(workflow_ids)}).mappings().all()
        return {row["workflow_id"]: _version(row) for row in rows}

    published_versions = async_twin(published_versions_sync)

    def draft_changes_sync(self, tenant: str, records: Sequence[WorkflowRecord]) -> dict[str, bool]:
        """For each record, by id: whether its draft, triggers or settings differ from its latest
        published version (see `drafts.draft_changed`), with one query for all of them."""
        published = self.published_versions_sync(tenant, [r.id for r in records if r.published_version is not None])
        return {record.id: draft_changed(record, published.get(record.id)) for record in records}

    draft_changes = async_twin(draft_changes_sync)

    def versions_sync(self, tenant: str, workflow_id: str) -> builtins.list[WorkflowVersion]:
        """The published versions, newest first."""
        check_tenant(tenant)
        with self._db.read() as conn:
            self._row(conn, tenant, workflow_id)
            query = (
                V.select()
                .where(V.c.workflow_id == workflow_id, V.c.tenant == tenant, V.c.number.is_not(None))
                .order_by(V.c.number.desc())
            )
            return [_version(row) for row in conn.execute(query).mappings()]

    versions = async_twin(versions_sync)

    def version_sync(self, tenant: str, workflow_id: str, number: int) -> WorkflowVersion:
        """Published version `number` of the workflow (`NotFoundError` if there is none)."""
        check_tenant(tenant)
        with self._db.read() as conn:
            query = V.select().where(V.c.workflow_id == workflow_id, V.c.tenant == tenant, V.c.number == number)
            row = conn.execute(query).mappings().first()
        if row is None:
            raise NotFoundError(f"workflow {workflow_id!r} has no version {number}")
        return _version(row)

    version = async_twin(version_sync)

    def version_by_id_sync(self, tenant: str, version_id: str) -> WorkflowVersion:
        """A version (published or a test snapshot) by its id, e.g. the one a run pinned."""
        check_tenant(tenant)
        with self._db.read() as conn:
            row = conn.execute(V.select().where(V.c.id == version_id, V.c.tenant == tenant)).mappings().first()
        if row is None:
            raise NotFoundError(f"no version {version_id!r}")
        return _version(row)

    version_by_id = async_twin(version_by_id_sync)

    def snapshot_sync(self, tenant: str, workflow_id: str) -> WorkflowVersion:
        """An unnumbered, validated snapshot of the draft, for a test run."""
        check_tenant(tenant)
        with self._db.write() as conn:
            row = self._row(conn, tenant, workflow_id)
            return self._freeze(conn, row, None, self._clock.now_ms())

    snapshot = async_twin(snapshot_sync)

    # -- internals -------------------------------------------------------------------------------

    def _checked_triggers(
        self, triggers: Sequence[TriggerLike] | None, trigger: TriggerLike | None
    ) -> tuple[tuple[Trigger, ...] | None, Trigger | None]:
        listed = parse_triggers(triggers, cron_seconds=self._cron_seconds) if triggers is not None else None
        single = parse_trigger(trigger, cron_seconds=self._cron_seconds) if trigger is not None else None
        return listed, single

    def _draft(self, workflow: WorkflowLike, *, validate_fully: bool) -> dict[str, Any]:
        loaded = load_workflow(workflow)
        problems = size_problems(loaded)
        if problems:
            raise WorkflowValidationError(problems)
        draft = dump_workflow(loaded)
        try:
            encoded = jsonlimits.encode(draft)
        except jsonlimits.JSONShapeError as exc:  # a Workflow built in Python, not loaded from JSON
            code = "too_deep" if exc.code == "too_deep" else "invalid_format"
            raise WorkflowValidationError([Problem(code, exc.path, exc.reason)]) from None
        if has_nul(encoded):
            raise WorkflowValidationError([Problem("invalid_text", "workflow", NUL_MESSAGE)])
        if validate_fully:
            problems = validate(loaded, self._registry)
            if problems:
                raise WorkflowValidationError(problems)
        return draft

    def _row(self, conn: Connection, tenant: str, workflow_id: str) -> RowMapping:
        row = conn.execute(_RECORDS.where(W.c.id == workflow_id, W.c.tenant == tenant)).mappings().first()
        if row is None:
            raise NotFoundError(f"no workflow {workflow_id!r}")
        return row

    def _publish(self, conn: Connection, row: RowMapping, now: int, notes: dict[str, str | None]) -> WorkflowVersion:
        number = (row["published_version"] or 0) + 1
        version = self._freeze(conn, row, number, now, notes)
        conn.execute(W.update().where(W.c.id == row["id"]).values(published_version=number, updated_at=now))
        return version

    def _freeze(
        self,
        conn: Connection,
        row: RowMapping,
        number: int | None,
        now: int,
        notes: dict[str, str | None] | None = None,
    ) -> WorkflowVersion:
        problems = validate(row["draft"], self._registry)
        if not problems and self._connection_problems is not None:
            problems = self._connection_problems(conn, row["tenant"], row["draft"])
        if problems:
            raise WorkflowValidationError(problems)
        version_id = new_id(now)
        conn.execute(
            V.insert().values(
                id=version_id,
                workflow_id=row["id"],
                tenant=row["tenant"],
                number=number,
                definition=row["draft"],
                triggers=row["triggers"],
                settings=row["settings"],
                created_at=now,
                **(notes or {}),
            )
        )
        return _version(conn.execute(V.select().where(V.c.id == version_id)).mappings().one())

    def _set_enabled(self, tenant: str, workflow_id: str, enabled: bool) -> WorkflowRecord:
        check_tenant(tenant)
        now = self._clock.now_ms()
        with self._db.write() as conn:
            row = self._row(conn, tenant, workflow_id)
            if enabled and row["published_version"] is None:
                raise WorkflowValidationError(
                    [Problem("not_published", "published_version", "publish the workflow before enabling it")]
                )
            if row["enabled"] != enabled:
                conn.execute(W.update().where(W.c.id == workflow_id).values(enabled=enabled, updated_at=now))
            ticks = schedule(conn, workflow_id, now) is not None
            record = _record(self._row(conn, tenant, workflow_id))
        self._scheduled(ticks)
        return record

    def _scheduled(self, ticks: bool) -> None:
        """After a commit: wake this process's workers when a cron workflow has a (new) next tick."""
        if ticks and self._notify is not None:
            self._notify()


def _check_version(row: RowMapping, expected: int | None) -> None:
    if expected is not None and expected != row["revision"]:
        raise ConflictError(
            f"workflow {row['id']!r} is at version {row['revision']}, not {expected}: someone else changed it",
            current_version=row["revision"],
        )


def _settings_json(settings: WorkflowSettings) -> dict[str, Any]:
    encoded: dict[str, Any] = msgspec.to_builtins(settings)
    return encoded


def _triggers_json(triggers: Sequence[Trigger]) -> builtins.list[dict[str, Any]]:
    return [msgspec.to_builtins(trigger) for trigger in triggers]


def _triggers(stored: builtins.list[Any]) -> tuple[Trigger, ...]:
    return msgspec.convert(stored, tuple[Trigger, ...])


def _write_triggers(conn: Connection, tenant: str, workflow_id: str, triggers: Sequence[Trigger]) -> None:
    """Replace the workflow's rows in ``wk_triggers`` by `triggers`. A schedule it had already keeps
    its next tick (wherever it moved in the list); a new one has none yet, which `schedule` sets."""
    # FOR UPDATE (PostgreSQL): a worker firing one of these ticks holds its row; read the tick it moved
    # on once it commits, not the one it fired (which would fire again)
    stored = sa.select(T.c.cron, T.c.next_tick_at).where(T.c.workflow_id == workflow_id).with_for_update()
    kept = {row.cron: row.next_tick_at for row in conn.execute(stored) if row.cron is not None}
    conn.execute(T.delete().where(T.c.workflow_id == workflow_id))
    rows = [
        {
            "workflow_id": workflow_id,
            "position": position,
            "tenant": tenant,
            "event": trigger.event,
            "if_exp": trigger.if_,
            "cron": trigger.cron,
            "next_tick_at": kept.get(trigger.cron) if trigger.cron is not None else None,
            "hook_id": trigger.hook,
        }
        for position, trigger in enumerate(triggers)
    ]
    conn.execute(T.insert(), rows)


def _record(row: RowMapping) -> WorkflowRecord:
    return WorkflowRecord(
        id=row["id"],
        tenant=row["tenant"],
        name=row["name"],
        description=row["description"],
        triggers=_triggers(row["triggers"]),
        enabled=row["enabled"],
        version=row["revision"],
        draft=row["draft"],
        published_version=row["published_version"],
        settings=row["settings"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        next_tick_at=row["next_tick_at"],
    )


def _version(row: RowMapping) -> WorkflowVersion:
    return WorkflowVersion(
        id=row["id"],
        workflow_id=row["workflow_id"],
        number=row["number"],
        workflow=row["definition"],
        triggers=_triggers(row["triggers"]),
        settings=row["settings"],
        created_at=row["created_at"],
        author=row["author"],
        message=row["message"],
    )
