"""`make demo` (for now): the blog review workflow, validated and run in memory in the terminal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from workflow_kit import WorkflowKit
from workflow_kit.testing import RunResult, run_workflow
from workflow_kit.timeutil import iso

from .blog import register

WORKFLOWS = Path(__file__).parent / "workflows"

POST = {
    "id": 1,
    "title": "Durable workflows",
    "markdown": "# Why durable?\nTeh steps recieve their inputs from events.\n\n"
    "# How it works\nEvery step is persisted; a crash resumes where it stopped. " * 3,
}


def show(title: str, result: RunResult) -> None:
    print(f"\n== {title}: {result.status}")
    for action_id, record in result.actions.items():
        attempts = len(record.attempts)
        steps = ", ".join(f"{s.key} ({s.status})" for s in record.steps) or "-"
        when = iso(record.ended_at) if record.ended_at else ""
        print(f"  {action_id:<10} {record.status:<10} attempts={attempts} steps: {steps}  {when}")
    if result.error:
        print("  error:", result.error)
    if "apply" in result.state:
        print("  applied:", json.dumps(result.state["apply"]))


def main() -> None:
    kit = register(WorkflowKit())
    workflow: dict[str, Any] = json.loads((WORKFLOWS / "review.json").read_text())
    print("workflow-kit demo (terminal edition; the editor and the server come with later issues)")
    print(f"actions: {', '.join(a['kind'] for a in kit.public_actions())}")
    print(f"workflow: {workflow['name']!r}, problems: {kit.validate(workflow) or 'none'}")

    event = {"name": "blog-post.updated", "data": POST}
    approval = {"name": "blog-post.approve-ai-suggestions", "data": {"id": 1, "approver": "Ann"}}
    show("approved", run_workflow(kit, workflow, event, events=[approval]))
    show("nobody approved within a day", run_workflow(kit, workflow, event))

    broken = json.loads(json.dumps(workflow))
    broken["actions"][2]["inputs"]["markdown"] = "!ref($.state.apply.markdown)"
    print("\n== a broken edit is caught at save time:")
    for problem in kit.validate(broken):
        print(f"  {problem.code}: {problem.path}: {problem.message}")


if __name__ == "__main__":
    main()
