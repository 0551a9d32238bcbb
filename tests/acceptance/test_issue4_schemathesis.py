"""Issue 4: Schemathesis against the OpenAPI schema, with a valid token: no 500 for any generated request.
Bounded: a few examples per operation."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from acceptance.issue4_support import SERVER_KEY, build_kit
from editor_api import create_app

_DIR = Path(tempfile.mkdtemp(prefix="issue4-st-"))
_KIT = build_kit(f"sqlite:///{_DIR / 'st.db'}")
_APP = create_app(_KIT, server_keys=[SERVER_KEY])
_TOKEN = _KIT.editor_token("tenant-st", "fuzzer", ttl=3600)
schema = schemathesis.openapi.from_asgi("/schema/openapi.json", _APP)


@schema.parametrize()
@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_no_server_error(case: Any) -> None:
    response = case.call(headers={"Authorization": f"Bearer {_TOKEN}"})
    case.validate_response(response, checks=[not_a_server_error])
