"""The build hook that puts the browser editor into the package (``[tool.hatch.build.hooks.custom]``).

Building a wheel or an sdist first makes sure ``frontend/dist`` holds a build of the editor that is not
older than its sources: if one is, it is reused (``make test`` and ``make dist`` build it first);
otherwise ``npm ci`` (when ``node_modules`` is missing or older than the package files) and
``npm run build`` make it. The wheel carries it as package data of `editor_api` (``editor_api/static``),
where ``workflow-kit serve`` finds it; the sdist carries it as ``frontend/dist`` beside the frontend's
sources, so a wheel built from the sdist needs no npm. Without npm and without a build, the build fails
saying so. Editable installs (``pip install -e .``) skip all this: a checkout serves ``frontend/dist``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

FRONTEND = "frontend"
BUILT = "dist"
WHEEL_PLACE = "editor_api/static"
"""Where the built editor goes in the wheel (see editor_api/frontend.py)."""
SOURCES = ("src", "index.html", "package.json", "package-lock.json", "tsconfig.json", "vite*.ts")
"""What the build is made from, under frontend/ (files, folders and patterns)."""


class BuildError(RuntimeError):
    """The editor cannot be built nor found built."""


def _newest(paths: list[Path]) -> float:
    """The newest modification time among these files and everything under these folders."""
    newest = 0.0
    for path in paths:
        files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
        newest = max([newest, *(p.stat().st_mtime for p in files)])
    return newest


def source_files(frontend: Path) -> list[Path]:
    """The frontend's sources that exist (a folder for ``src``)."""
    found: list[Path] = []
    for pattern in SOURCES:
        found += sorted(frontend.glob(pattern))
    return found


def is_fresh(frontend: Path) -> bool:
    """Whether ``frontend/dist/index.html`` exists and is not older than any source (a build from an sdist
    has every file at one time, so equal counts as fresh)."""
    index = frontend / BUILT / "index.html"
    return index.is_file() and index.stat().st_mtime >= _newest(source_files(frontend))


def _needs_install(frontend: Path) -> bool:
    installed = frontend / "node_modules" / ".package-lock.json"  # npm rewrites it on every install
    if not installed.is_file():
        return True
    return installed.stat().st_mtime < _newest([frontend / "package.json", frontend / "package-lock.json"])


def _run(command: list[str], cwd: Path) -> None:
    print(f"hatch_build: {' '.join(command)} (in {cwd})", file=sys.stderr, flush=True)
    done = subprocess.run(command, cwd=cwd, check=False)
    if done.returncode != 0:
        raise BuildError(f"`{' '.join(command)}` failed (exit status {done.returncode}) in {cwd}")


def ensure_built(root: Path) -> Path:
    """The folder of the built editor under `root`, built first with npm if it is missing or stale."""
    frontend = root / FRONTEND
    dist = frontend / BUILT
    if is_fresh(frontend):
        return dist
    npm = shutil.which("npm")
    if npm is None or not (frontend / "package.json").is_file():
        if (dist / "index.html").is_file():
            print(f"hatch_build: no npm here: using {dist} as it is", file=sys.stderr, flush=True)
            return dist
        raise BuildError(
            f"the browser editor is not built ({dist / 'index.html'} is missing) and npm is not installed: "
            "install Node.js and npm (the editor is built with `npm ci && npm run build` in frontend/), "
            "or build from an sdist, which carries the built editor"
        )
    if _needs_install(frontend):
        _run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], frontend)
    _run([npm, "run", "build"], frontend)
    if not (dist / "index.html").is_file():
        raise BuildError(f"`npm run build` left no {dist / 'index.html'}")
    return dist


class EditorBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Builds the editor and includes it: ``editor_api/static`` in the wheel, ``frontend/dist`` in the sdist."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name not in ("wheel", "sdist") or version == "editable":
            return
        dist = ensure_built(Path(self.root))
        place = WHEEL_PLACE if self.target_name == "wheel" else f"{FRONTEND}/{BUILT}"
        build_data["force_include"][str(dist)] = place
