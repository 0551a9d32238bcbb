"""`make demo` (the terminal edition) runs the seed workflow end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from seeds.blog import register
from workflow_kit import WorkflowKit
from workflow_kit.testing import run_workflow

ROOT = Path(__file__).parent.parent


def test_demo_runs_both_scenarios() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "seeds.demo"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert "problems: none" in out
    assert "== approved: completed" in out
    assert '"note": "Approved by Ann"' in out
    assert "apply      skipped" in out
    assert "ref_not_upstream: actions[2].inputs.markdown" in out


def test_seed_workflow_is_valid_and_waits_for_the_matching_post() -> None:
    kit = register(WorkflowKit())
    workflow = json.loads((ROOT / "seeds" / "workflows" / "review.json").read_text())
    assert kit.validate(workflow) == []
    post = {"id": 2, "markdown": "# Title\n" + "teh word " * 40}
    other_post = {"name": "blog-post.approve-ai-suggestions", "data": {"id": 3, "approver": "Bob"}}
    result = run_workflow(kit, workflow, {"name": "blog-post.updated", "data": post}, events=[other_post])
    assert result.state["approval"] == {"approved": False, "approver": None}
    assert result.skipped == ["apply"]
    assert "the word" in result.state["review"]["markdown"]
    assert result.state["review"]["fixes"] == 40
