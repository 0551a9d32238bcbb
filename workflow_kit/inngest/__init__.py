"""Run the kit's workflows on Inngest, through its Python SDK (``pip install workflow-kit[inngest]``).

    import inngest
    from workflow_kit.inngest import InngestBackend, inngest_router

    client = inngest.Inngest(app_id="my-app")
    backend = InngestBackend(kit, client)          # the kit's workflows, actions and store
    app = Litestar(route_handlers=[..., inngest_router(backend)])   # or serve_fastapi(app, backend)
    await backend.send("acme", {"name": "order/paid", "data": {...}})  # instead of kit.send

With the workflows of the kit's store, the backend records its runs there (`StoreRecorder`), so the
editor's runs list, run view, cancel and rerun, and events list show runs on Inngest as they show the
embedded runtime's.

Nothing else of the kit imports this package: without the ``inngest`` package the kit works as before.
"""

from __future__ import annotations

try:
    import inngest as _sdk  # noqa: F401  (the SDK, imported here so a missing extra says so at once)
except ImportError as exc:  # pragma: no cover - the extra is installed wherever this is tested
    raise ImportError("workflow_kit.inngest needs the inngest package: pip install 'workflow-kit[inngest]'") from exc

from .backend import RUN_FUNCTION, InngestBackend
from .driver import RunEnd, RunRecorder, WorkflowRunFailed
from .options import function_options
from .protocol import RUN_REQUESTED, RunRequest, for_run_event
from .recorder import StoreRecorder
from .serve import inngest_router, serve_fastapi
from .sources import MemoryWorkflows, Published, StoreWorkflows, WorkflowSource

__all__ = [
    "RUN_FUNCTION",
    "RUN_REQUESTED",
    "InngestBackend",
    "MemoryWorkflows",
    "Published",
    "RunEnd",
    "RunRecorder",
    "RunRequest",
    "StoreRecorder",
    "StoreWorkflows",
    "WorkflowRunFailed",
    "WorkflowSource",
    "for_run_event",
    "function_options",
    "inngest_router",
    "serve_fastapi",
]
