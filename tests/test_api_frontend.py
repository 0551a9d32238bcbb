"""Where `create_app` finds the built editor (editor_api/frontend.py): a folder named explicitly, else the
copy in the installed package, else a development checkout's frontend/dist."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SECRET
from helpers import logged
from litestar.testing import TestClient

from editor_api import create_app, frontend
from workflow_kit import WorkflowKit


def built(folder: Path, title: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "index.html").write_text(f"<!doctype html><title>{title}</title>")
    return folder


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """The package's copy and the checkout's build, both present (in tmp_path), and no environment variable."""
    found = {"packaged": built(tmp_path / "packaged", "packaged"), "repository": built(tmp_path / "repo", "repo")}
    monkeypatch.setattr(frontend, "PACKAGED", found["packaged"])
    monkeypatch.setattr(frontend, "REPOSITORY", found["repository"])
    monkeypatch.delenv(frontend.ENV, raising=False)
    return found


def test_the_installed_package_copy_comes_before_the_checkout(places: dict[str, Path]) -> None:
    assert frontend.find_frontend() == places["packaged"]
    (places["packaged"] / "index.html").unlink()  # a checkout: no copy in the package
    assert frontend.find_frontend() == places["repository"]
    (places["repository"] / "index.html").unlink()
    assert frontend.find_frontend() is None


def test_a_folder_named_explicitly_wins(
    places: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from_env = built(tmp_path / "from-env", "env")
    argument = built(tmp_path / "argument", "argument")
    monkeypatch.setenv(frontend.ENV, str(from_env))
    assert frontend.find_frontend() == from_env
    assert frontend.find_frontend(argument) == argument
    assert frontend.find_frontend(str(argument)) == argument


def test_a_named_folder_without_a_build_is_said_and_nothing_else_is_served(
    places: dict[str, Path], tmp_path: Path
) -> None:
    with logged("editor_api") as messages:
        assert frontend.find_frontend(tmp_path / "empty") is None
    assert messages == [
        f"WARNING the editor folder {tmp_path / 'empty'} has no index.html: the browser editor is not served"
    ]


def test_create_app_serves_what_it_finds(places: dict[str, Path], tmp_path: Path) -> None:
    kit = WorkflowKit(database_url=f"sqlite:///{tmp_path / 'x.db'}", secret=SECRET)
    with TestClient(create_app(kit)) as client:
        assert "<title>packaged</title>" in client.get("/").text
    with TestClient(create_app(kit, frontend_dir=tmp_path / "nowhere")) as client:
        page = client.get("/")
        assert page.status_code == 200 and "The browser editor is not built" in page.text
    kit.close()


def test_the_package_copy_is_next_to_the_module() -> None:
    assert Path(frontend.__file__).resolve().parent / "static" == frontend.PACKAGED
    assert frontend.REPOSITORY.parts[-2:] == ("frontend", "dist")
