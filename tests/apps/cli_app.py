"""A kit for the CLI tests."""

from __future__ import annotations

from typing import Any

from workflow_kit import ActionContextSync, WorkflowKit

kit = WorkflowKit()


@kit.action(kind="greet")
def greet(ctx: ActionContextSync, inputs: dict[str, Any]) -> str:
    return f"Hello, {inputs['name']}!"


def setup(database_url: str) -> None:
    """Store the greeting workflow for tenant acme."""
    local = WorkflowKit(database_url=database_url)
    local.register(kit.registry.get("greet"))  # type: ignore[arg-type]
    local.workflows.create_sync(
        "acme",
        name="Greeter",
        trigger="greet/requested",
        workflow={
            "actions": [{"id": "hello", "kind": "greet", "inputs": {"name": "!ref($.event.data.name)"}}],
            "edges": [{"from": "$source", "to": "hello"}],
        },
    )
    local.close()
