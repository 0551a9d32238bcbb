"""Where the Inngest backend finds workflows: the kit's own store (`StoreWorkflows`: what the editor
saves and publishes), or a dict in memory (`MemoryWorkflows`: tests, and hosts that keep workflows
elsewhere). No import of the ``inngest`` package."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..runtime.rules.triggers import Trigger, TriggerLike, parse_triggers
from ..workflow import WorkflowLike, dump_workflow, load_workflow

if TYPE_CHECKING:
    from ..kit import WorkflowKit

PAGE = 100


@dataclass(frozen=True)
class Published:
    """One published version of a workflow: what a run is pinned to."""

    workflow_id: str
    version: int | None
    workflow: dict[str, Any]
    triggers: tuple[Trigger, ...]
    settings: dict[str, Any] = field(default_factory=dict)


class WorkflowSource(Protocol):
    async def enabled(self, tenant: str) -> Sequence[Published]:
        """The tenant's enabled workflows, each at its published version, in creation order."""
        ...

    async def load(self, tenant: str, workflow_id: str, version: int | None) -> Published:
        """That version of the workflow (None: the latest published); raises `LookupError` if none."""
        ...


class StoreWorkflows:
    """The workflows of the kit's store (``kit.workflows``): enabled ones with a published version."""

    def __init__(self, kit: WorkflowKit) -> None:
        self._kit = kit

    async def enabled(self, tenant: str) -> list[Published]:
        store = self._kit.workflows
        found: list[Published] = []
        offset = 0
        while True:
            page = await store.list(tenant, limit=PAGE, offset=offset)
            live = [r.id for r in page if r.enabled and r.published_version is not None]
            versions = await store.published_versions(tenant, live) if live else {}
            for workflow_id in live:
                version = versions.get(workflow_id)
                if version is not None:
                    found.append(
                        Published(workflow_id, version.number, version.workflow, version.triggers, version.settings)
                    )
            if len(page) < PAGE:
                return found
            offset += PAGE

    async def load(self, tenant: str, workflow_id: str, version: int | None) -> Published:
        store = self._kit.workflows
        if version is None:
            record = await store.get(tenant, workflow_id)
            if record.published_version is None:
                raise LookupError(f"workflow {workflow_id!r} has no published version")
            version = record.published_version
        found = await store.version(tenant, workflow_id, version)
        return Published(workflow_id, found.number, found.workflow, found.triggers, found.settings)


class MemoryWorkflows:
    """Workflows kept in memory, per tenant: ``add`` publishes a new version (numbered from 1)."""

    def __init__(self) -> None:
        self._versions: dict[tuple[str, str], list[Published]] = {}
        self._disabled: set[tuple[str, str]] = set()

    def add(
        self,
        tenant: str,
        workflow_id: str,
        workflow: WorkflowLike,
        *,
        triggers: Sequence[TriggerLike] = (),
        settings: dict[str, Any] | None = None,
    ) -> Published:
        """Publish `workflow` (a new version); `triggers` are event names or ``{"event", "if"}`` (none:
        only invoked or started by hand)."""
        versions = self._versions.setdefault((tenant, workflow_id), [])
        published = Published(
            workflow_id,
            len(versions) + 1,
            dump_workflow(load_workflow(workflow)),
            parse_triggers(list(triggers)) if triggers else (),
            dict(settings or {}),
        )
        versions.append(published)
        return published

    def disable(self, tenant: str, workflow_id: str) -> None:
        self._disabled.add((tenant, workflow_id))

    async def enabled(self, tenant: str) -> list[Published]:
        return [
            versions[-1]
            for (owner, workflow_id), versions in self._versions.items()
            if owner == tenant and (owner, workflow_id) not in self._disabled
        ]

    async def load(self, tenant: str, workflow_id: str, version: int | None) -> Published:
        versions = self._versions.get((tenant, workflow_id))
        if not versions:
            raise LookupError(f"no workflow {workflow_id!r}")
        if version is None:
            return versions[-1]
        if not 1 <= version <= len(versions):
            raise LookupError(f"workflow {workflow_id!r} has no version {version}")
        return versions[version - 1]
