"""Where the built browser editor is: the folder `create_app` serves at ``/``.

In order: the folder the host names (``create_app(frontend_dir=...)``, else ``$WORKFLOW_KIT_FRONTEND_DIR``);
the copy inside the installed package (``editor_api/static``, put there by the wheel's build hook);
the repository's ``frontend/dist`` (a development checkout, after ``make frontend``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

ENV = "WORKFLOW_KIT_FRONTEND_DIR"
PACKAGED = Path(__file__).resolve().parent / "static"
"""The editor as the wheel carries it (package data of `editor_api`)."""
REPOSITORY = Path(__file__).resolve().parent.parent / "frontend" / "dist"
"""The editor as ``npm run build`` leaves it in a development checkout."""

_LOG = logging.getLogger("editor_api")


def find_frontend(frontend_dir: str | Path | None = None) -> Path | None:
    """The folder holding the built editor (its ``index.html``), or None when there is none.

    A folder named explicitly (`frontend_dir`, else ``$WORKFLOW_KIT_FRONTEND_DIR``) wins; if it holds no
    ``index.html`` that is said in the log and nothing is served, rather than some other build.
    """
    named = frontend_dir or os.environ.get(ENV)
    if named:
        folder = Path(named)
        if (folder / "index.html").is_file():
            return folder
        _LOG.warning("the editor folder %s has no index.html: the browser editor is not served", folder)
        return None
    for folder in (PACKAGED, REPOSITORY):
        if (folder / "index.html").is_file():
            return folder
    return None
