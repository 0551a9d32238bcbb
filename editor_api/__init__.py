"""The editor API: a Litestar app the browser editor (and a host's backend) talks to.

from editor_api import create_app
app = create_app(kit)            # mount it, or run `workflow-kit serve --app mypkg.module:kit`
"""

from .app import ConfigurationError, create_app

__all__ = ["ConfigurationError", "create_app"]
