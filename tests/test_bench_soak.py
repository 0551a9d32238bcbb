"""bench/soak.py's own code without the soak: its arguments are checked, its workflows are valid, and the
report says what was lost, duplicated and how memory moved (the soak itself runs by hand, on PostgreSQL)."""

from __future__ import annotations

from collections import Counter

import pytest

from bench import soak
from workflow_kit import WorkflowKit


def test_arguments_are_checked() -> None:
    assert soak.parse([]).minutes == 10
    with pytest.raises(SystemExit):
        soak.parse(["--minutes", "0"])


def test_every_workflow_of_the_soak_is_valid() -> None:
    from bench.soak_app import kit as app

    kit = WorkflowKit(database_url="sqlite://")
    for kind in ("work", "flaky"):
        kit.register(app.registry.get(kind))  # type: ignore[arg-type]
    try:
        for name, (triggers, definition, settings) in soak.WORKFLOWS.items():
            record = kit.workflows.create_sync(
                "t", name=name, triggers=triggers, workflow=definition, settings=settings or None
            )
            assert record.enabled
    finally:
        kit.close()


def test_the_report_counts_runs_and_compares_the_first_and_last_minutes_memory() -> None:
    traffic = soak.Traffic(expected={"e1": "event", "e2": "wait"}, load=[1.0, 3.0])
    traffic.latencies["send"] += [10.0, 20.0]
    traffic.rss["worker-0"] += [(0.0, 100.0), (30.0, 102.0), (90.0, 110.0), (119.0, 112.0)]
    checked = soak.Checked(runs=2, lost=[], duplicated=["e2"], unexpected=0, not_ended=0,
                           statuses=Counter(completed=2), first_step_ms=[5.0, 7.0])  # fmt: skip
    lines = soak.report(soak.parse(["--minutes", "2"]), traffic, checked, 3.0)
    assert "lost 0, duplicated 1" in lines[1]
    assert "event 1, wait 1" in lines[1]
    assert lines[-1] == "RSS worker-0: first minute 101 MB, last minute 111 MB (+10 MB), max 112 MB"
