"""The warning an editor API without a worker of its own gives: workflows are stored, events are
received, but no run makes progress unless a worker runs somewhere."""

from __future__ import annotations

import logging
import threading

from workflow_kit import WorkflowKit

_LOG = logging.getLogger("editor_api")

NO_WORKER = (
    "the editor API runs without a worker: workflows are saved and events received, but nothing will run "
    "unless a worker runs, in this process (create_app(kit, run_worker=True), or `async with kit.worker():` "
    "in the host app's lifespan) or beside it (`workflow-kit worker --app mypkg.module:kit` processes)"
)


class WorkerNotice:
    """Logs `NO_WORKER` once per app: at its startup, or at its first request when it is mounted in a host
    whose lifespan does not reach it (Starlette and FastAPI do not run a mounted app's lifespan). Nothing
    is logged if a worker of this kit is running in the process by then."""

    def __init__(self, kit: WorkflowKit) -> None:
        self._kit = kit
        self._lock = threading.Lock()
        self._done = False

    def check(self) -> None:
        if self._done:
            return
        with self._lock:
            if self._done:
                return
            self._done = True
        if not self._kit.has_worker():
            _LOG.warning(NO_WORKER)
