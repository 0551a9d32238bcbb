"""The build hook (hatch_build.py): when it reuses the built editor, when it runs npm, what it includes
where, and the message when it can do neither. npm is a stand-in script here: nothing is downloaded."""

from __future__ import annotations

import importlib.util
import os
import stat
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytest.importorskip("hatchling", reason="hatchling (the dev extra) runs the build hook")


def load_hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("hatch_build", ROOT / "hatch_build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hook = load_hook()

FAKE_NPM = """#!{python}
import pathlib, sys
here = pathlib.Path.cwd()
with open(here / "npm-calls.txt", "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\\n")
if sys.argv[1] == "ci":
    (here / "node_modules").mkdir(exist_ok=True)
    (here / "node_modules" / ".package-lock.json").write_text("{{}}")
elif sys.argv[1:3] == ["run", "build"]:
    (here / "dist" / "embed").mkdir(parents=True, exist_ok=True)
    (here / "dist" / "index.html").write_text("<!doctype html><div id=root></div>")
    (here / "dist" / "embed" / "workflow-editor.js").write_text("// built")
"""


def aged(path: Path, seconds_ago: float) -> None:
    when = time.time() - seconds_ago
    os.utime(path, (when, when))


def checkout(tmp_path: Path, *, built: bool, installed: bool = True) -> Path:
    """A project root with frontend sources (an hour old), optionally node_modules and a build (newer)."""
    frontend = tmp_path / "frontend"
    (frontend / "src" / "ui").mkdir(parents=True)
    files = {
        "src/main.tsx": "main",
        "src/ui/List.tsx": "list",
        "index.html": "<div id=root></div>",
        "package.json": "{}",
        "package-lock.json": "{}",
        "tsconfig.json": "{}",
        "vite.config.ts": "config",
        "vite.embed.config.ts": "embed",
    }
    for name, text in files.items():
        (frontend / name).write_text(text)
        aged(frontend / name, 3600)
    if installed:
        (frontend / "node_modules").mkdir()
        (frontend / "node_modules" / ".package-lock.json").write_text("{}")
        aged(frontend / "node_modules" / ".package-lock.json", 1800)
    if built:
        (frontend / "dist").mkdir()
        (frontend / "dist" / "index.html").write_text("<!doctype html>old build")
        aged(frontend / "dist" / "index.html", 60)
    return tmp_path


@pytest.fixture
def npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in `npm` first on PATH; returns the file its calls are logged to (in frontend/)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "npm"
    script.write_text(FAKE_NPM.format(python=sys.executable))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return tmp_path / "project" / "frontend" / "npm-calls.txt"


@pytest.fixture
def no_npm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hook.shutil, "which", lambda name: None)


def test_a_build_newer_than_every_source_is_reused(tmp_path: Path, npm: Path) -> None:
    root = checkout(tmp_path / "project", built=True)
    assert hook.is_fresh(root / "frontend")
    assert hook.ensure_built(root) == root / "frontend" / "dist"
    assert not npm.exists()  # npm was not run
    assert (root / "frontend" / "dist" / "index.html").read_text() == "<!doctype html>old build"


@pytest.mark.parametrize("changed", ["src/ui/List.tsx", "index.html", "vite.embed.config.ts", "package-lock.json"])
def test_a_source_newer_than_the_build_rebuilds_it(tmp_path: Path, npm: Path, changed: str) -> None:
    root = checkout(tmp_path / "project", built=True)
    (root / "frontend" / changed).write_text("edited")  # now: newer than the build
    assert not hook.is_fresh(root / "frontend")
    hook.ensure_built(root)
    calls = npm.read_text().splitlines()
    # package-lock.json is newer than node_modules too: a fresh install first
    assert calls == (["ci --no-audit --no-fund --loglevel=error"] if changed == "package-lock.json" else []) + [
        "run build"
    ]
    assert "div id=root" in (root / "frontend" / "dist" / "index.html").read_text()
    assert hook.is_fresh(root / "frontend")


def test_without_node_modules_npm_ci_runs_before_the_build(tmp_path: Path, npm: Path) -> None:
    root = checkout(tmp_path / "project", built=False, installed=False)
    assert hook.ensure_built(root) == root / "frontend" / "dist"
    assert npm.read_text().splitlines() == ["ci --no-audit --no-fund --loglevel=error", "run build"]


def test_a_build_from_an_sdist_has_every_file_at_one_time_and_counts_as_fresh(tmp_path: Path, no_npm: None) -> None:
    root = checkout(tmp_path / "project", built=True, installed=False)
    for path in (root / "frontend").rglob("*"):
        os.utime(path, (1_580_601_600, 1_580_601_600))  # what an sdist's reproducible timestamps give
    assert hook.is_fresh(root / "frontend")
    assert hook.ensure_built(root) == root / "frontend" / "dist"


def test_without_npm_an_older_build_is_used_as_it_is(
    tmp_path: Path, no_npm: None, capsys: pytest.CaptureFixture[str]
) -> None:
    root = checkout(tmp_path / "project", built=True)
    (root / "frontend" / "src" / "main.tsx").write_text("edited")
    assert hook.ensure_built(root) == root / "frontend" / "dist"
    assert "no npm" in capsys.readouterr().err


def test_without_npm_and_without_a_build_the_build_fails_saying_why(tmp_path: Path, no_npm: None) -> None:
    root = checkout(tmp_path / "project", built=False)
    with pytest.raises(hook.BuildError) as failed:
        hook.ensure_built(root)
    message = str(failed.value)
    assert "not built" in message and "npm is not installed" in message and "npm ci && npm run build" in message


def test_a_failing_npm_fails_the_build(tmp_path: Path, npm: Path) -> None:
    root = checkout(tmp_path / "project", built=False)
    script = npm.parent.parent.parent / "bin" / "npm"
    script.write_text("#!/bin/sh\nexit 3\n")
    with pytest.raises(hook.BuildError, match=r"`.*npm run build` failed \(exit status 3\)"):
        hook.ensure_built(root)


def build_data_for(target: str, version: str, root: Path) -> dict[str, Any]:
    instance = hook.EditorBuildHook(str(root), {}, None, None, str(root / "out"), target)
    data: dict[str, Any] = {"force_include": {}}
    instance.initialize(version, data)
    return data


def test_the_wheel_gets_the_editor_as_package_data_and_the_sdist_as_frontend_dist(tmp_path: Path, npm: Path) -> None:
    root = checkout(tmp_path / "project", built=True)
    dist = str(root / "frontend" / "dist")
    assert build_data_for("wheel", "standard", root)["force_include"] == {dist: "editor_api/static"}
    assert build_data_for("sdist", "standard", root)["force_include"] == {dist: "frontend/dist"}
    # an editable install serves a checkout's frontend/dist: nothing to build or include
    assert build_data_for("wheel", "editable", root)["force_include"] == {}
    assert not npm.exists()
