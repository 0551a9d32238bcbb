"""Fixtures for the black-box acceptance tests of issue 4 (the editor API)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from acceptance.issue4_support import FLAGS, SERVER_KEY, Api, build_kit
from editor_api import create_app
from workflow_kit import WorkflowKit


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'kit.db'}"


@pytest.fixture
def kit(db_url: str) -> Iterator[WorkflowKit]:
    FLAGS.update(fail=True, counted=0)
    k = build_kit(db_url)
    yield k
    k.close()


@pytest.fixture
def api(kit: WorkflowKit) -> Iterator[Api]:
    app = create_app(kit, server_keys=[SERVER_KEY], run_worker=True)
    with TestClient(app) as client:
        yield Api(client, kit)
