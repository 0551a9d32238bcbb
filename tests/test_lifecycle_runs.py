"""lifecycle/runs.py: the one module that writes ``wk_runs``, and the state machine of a run's status."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from workflow_kit.runtime.lifecycle import runs, settle
from workflow_kit.runtime.lifecycle.effects import AnnounceEnd, CloseWaits, Context, Worklist
from workflow_kit.runtime.lifecycle.start import new_run
from workflow_kit.runtime.models import RunStatus
from workflow_kit.runtime.rules.settings import SettingsCache
from workflow_kit.runtime.storage import schema
from workflow_kit.runtime.storage.db import Database
from workflow_kit.runtime.storage.rows import RunRow

PACKAGE = Path(__file__).resolve().parents[1] / "workflow_kit"
OWNER = PACKAGE / "runtime" / "lifecycle" / "runs.py"
KEEP = 30 * 86_400_000
"""How long an ended run is kept (see rules/retention.py)."""


def test_every_status_has_its_transitions_and_ends_are_final_but_a_failure_can_be_dismissed() -> None:
    assert set(runs.TRANSITIONS) == {None, *RunStatus}
    for status in RunStatus:
        if status is RunStatus.FAILED:  # an operator gives up on it: it becomes cancelled
            assert runs.TRANSITIONS[status] == {RunStatus.CANCELLED}
        elif status.terminal:
            assert runs.TRANSITIONS[status] == frozenset(), status
        else:
            assert RunStatus.CANCELLED in runs.TRANSITIONS[status], f"a {status} run cannot be cancelled"
    assert runs.TRANSITIONS[None] == {RunStatus.QUEUED}  # every run starts queued
    assert set(runs.OPEN) == {s for s in RunStatus if not s.terminal}


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (None, RunStatus.RUNNING),
        (RunStatus.QUEUED, RunStatus.COMPLETED),
        (RunStatus.SLEEPING, RunStatus.FAILED),
        (RunStatus.COMPLETED, RunStatus.RUNNING),
        (RunStatus.CANCELLED, RunStatus.QUEUED),
        (RunStatus.COMPLETED, RunStatus.CANCELLED),
        (RunStatus.CANCELLED, RunStatus.FAILED),
        (RunStatus.FAILED, RunStatus.RUNNING),
    ],
)
def test_a_transition_the_table_does_not_allow_is_refused(source: RunStatus | None, target: RunStatus) -> None:
    with pytest.raises(runs.IllegalTransition, match=f"to {target}"):
        runs.check(source, target)


def _status(db: Database, run_id: str) -> str:
    with db.read() as conn:
        return str(conn.execute(sa.select(schema.runs.c.status).where(schema.runs.c.id == run_id)).scalar_one())


def test_an_ended_run_does_not_end_again_and_its_consequences_go_on_the_worklist(database_url: str) -> None:
    db = Database(database_url)
    try:
        run = new_run(tenant="t", workflow_id="w", version_id="v", version_number=1, event={"name": "e"},
                      event_id=None, now=1_000)  # fmt: skip
        with db.write() as conn:
            runs.create(conn, [run])
        assert _status(db, run.id) == "queued"
        row = RunRow(id=run.id, tenant="t", workflow_id="w", version_id="v", version_number=1,
                     status=RunStatus.QUEUED, event={"name": "e"})  # fmt: skip
        work = Worklist()
        with db.write() as conn:
            # completed only from running: a queued run cannot complete
            assert not runs.end(conn, work, row, RunStatus.COMPLETED, None, None, 2_000, keep_ms=KEEP)
            assert len(work) == 0
            assert runs.end(
                conn, work, row, RunStatus.CANCELLED, None, settle.cancelled_error(None), 2_000, keep_ms=KEEP
            )
        assert _status(db, run.id) == "cancelled"
        effects = [work.pop() for _ in range(len(work))]
        assert [type(e) for e in effects] == [CloseWaits, AnnounceEnd]  # no slots, no parent
        again = Worklist()
        with db.write() as conn:
            assert not runs.end(conn, again, row, RunStatus.CANCELLED, None, None, 3_000, keep_ms=KEEP)
        assert len(again) == 0 and _status(db, run.id) == "cancelled"
    finally:
        db.dispose()


def _row(db: Database, run_id: str) -> dict[str, Any]:
    with db.read() as conn:
        return dict(conn.execute(schema.runs.select().where(schema.runs.c.id == run_id)).mappings().one())


def test_a_failed_run_is_dismissed_keeping_its_failure_and_causing_nothing(database_url: str) -> None:
    """Cancelling a failed run dismisses it: cancelled, with its end, expiry, output and failure kept, and
    no consequence (no event, nothing woken); completed, cancelled and open runs stay as they are."""
    db = Database(database_url)
    try:
        made = [new_run(tenant="t", workflow_id="w", version_id="v", version_number=1, event={"name": "e"},
                        event_id=None, now=1_000) for _ in range(4)]  # fmt: skip
        failed, completed, cancelled, queued = (run.id for run in made)
        boom = {"name": "StepError", "message": "action 'send': boom", "action": "send"}
        with db.write() as conn:
            runs.create(conn, made)
            claimed = {run.id: run for run, _ in runs.claim(conn, db.dialect, [failed, completed], "w", 9_000, 1_000)}
            (row,) = runs.open_runs(conn, [cancelled])
            work, why = Worklist(), settle.cancelled_error(None)
            assert runs.end(conn, work, claimed[failed], RunStatus.FAILED, {"partial": 1}, boom, 2_000, keep_ms=KEEP)
            assert runs.end(conn, work, claimed[completed], RunStatus.COMPLETED, {"ok": 1}, None, 2_000, keep_ms=KEEP)
            assert runs.end(conn, work, row, RunStatus.CANCELLED, None, why, 2_000, keep_ms=KEEP)
        before = {run_id: _row(db, run_id) for run_id in (failed, completed, cancelled, queued)}
        with db.write() as conn:
            done = settle.cancel_or_dismiss(Context(db.dialect, SettingsCache()), conn,
                                            [completed, cancelled, failed], "after the outage", 5_000)  # fmt: skip
        assert [run.id for run in done.dismissed] == [failed] and done.ended == [] and not done.woke
        after = _row(db, failed)
        assert after["status"] == "cancelled"
        assert after["error"] == {
            "name": "Cancelled",
            "message": "the run was cancelled after it failed (after the outage): action 'send': boom",
            "cause": boom,
        }
        kept = ("ended_at", "expires_at", "output", "started_at", "claim_seq", "due_at")
        assert {k: after[k] for k in kept} == {k: before[failed][k] for k in kept}
        assert after["updated_at"] == 5_000
        for run_id in (completed, cancelled, queued):
            assert _row(db, run_id) == before[run_id]
        with db.read() as conn:  # no second end event, nothing else received
            assert conn.execute(sa.select(sa.func.count()).select_from(schema.events)).scalar_one() == 0
        with db.write() as conn:  # never twice
            assert runs.dismiss(conn, [failed], "again", 6_000) == []
        assert _row(db, failed) == after
    finally:
        db.dispose()


def _runs_table_names(tree: ast.Module) -> set[str]:
    """The names a module binds to ``schema.runs`` (``R = schema.runs``, ``R, A = schema.runs, ...``)."""
    names = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            pairs = (
                zip(target.elts, node.value.elts, strict=False)
                if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple)
                else [(target, node.value)]
            )
            for name, value in pairs:
                if isinstance(name, ast.Name) and ast.unparse(value) == "schema.runs":
                    names.add(name.id)
    return names


def _writes_to_runs(path: Path) -> list[str]:
    """The statements of `path` that insert, update or delete rows of ``wk_runs``."""
    tree = ast.parse(path.read_text())
    tables = _runs_table_names(tree) | {"schema.runs"}
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("update", "insert", "delete")
            and ast.unparse(node.func.value) in tables
        ):
            found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {ast.unparse(node)[:60]}")
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = " ".join(node.value.upper().split())
            if any(f"{verb} WK_RUNS" in text for verb in ("UPDATE", "INSERT INTO", "DELETE FROM")):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: SQL text")
    return found


def test_no_other_module_writes_a_run() -> None:
    """lifecycle/runs.py owns every change of a run's row, its status above all (migrations aside)."""
    writes = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path != OWNER and "migrations" not in path.parts:
            writes += _writes_to_runs(path)
    assert writes == [], "only lifecycle/runs.py writes wk_runs:\n" + "\n".join(writes)
    assert _writes_to_runs(OWNER), "the check finds nothing at all: it has gone blind"
