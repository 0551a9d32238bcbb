"""Issue 6, "The README, for a new user": its sections, configuration reference, comparison table, and
its commands and code (run here as a new user would run them)."""

from __future__ import annotations

import ast
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .issue3_support import fresh_database

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
SECRET = "readme-secret-" + "x" * 32


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def headings() -> list[str]:
    return re.findall(r"^#{2,3} (.+)$", README, flags=re.M)


def section(title_pattern: str) -> str:
    match = re.search(
        rf"^(#{{2,3}}) [^\n]*{title_pattern}[^\n]*\n(.*?)(?=^#{{2,3}} |\Z)", README, flags=re.M | re.S | re.I
    )
    assert match, f"no section matching {title_pattern!r}: {headings()}"
    return match.group(2)


def test_the_two_commands_are_in_the_contributing_section() -> None:
    """Issue 15 put the README's users first: the two commands open the section for contributors."""
    body = section("Contributing")
    assert "make demo" in body and "make test" in body


@pytest.mark.parametrize(
    ("topic", "evidence"),
    [
        ("define an action", r"@kit\.action\("),
        ("mount the API", r"create_app\(kit\)"),
        ("embed the editor", r"<workflow-editor"),
        ("send events", r"kit\.send\("),
        ("run a worker on PostgreSQL", r"workflow-kit worker"),
        ("configuration reference", r"^## Configuration"),
        ("how runs behave", r"^## How a workflow runs|^## Durable runs"),
        ("retries", r"\*\*Retries\.\*\*|^#+ Retries"),
        ("versions", r"^#+ Versions"),
        ("comparison with the TypeScript kit", r"^## .*(Inngest|TypeScript)"),
    ],
)
def test_the_sections_the_issue_lists(topic: str, evidence: str) -> None:
    assert re.search(evidence, README, flags=re.M), topic


def test_postgres_worker_section_has_the_commands() -> None:
    body = section("PostgreSQL")
    assert "postgresql+psycopg://" in body
    assert "workflow-kit worker" in body and "workflow-kit migrate" in body


def env_vars_read_by_the_code() -> set[str]:
    found: set[str] = set()
    sources = [*ROOT.glob("workflow_kit/**/*.py"), *ROOT.glob("editor_api/**/*.py"), *ROOT.glob("seeds/**/*.py")]
    for path in sources:
        text = path.read_text()
        found |= set(re.findall(r"environ(?:\.get)?[\[(]\s*[\"']([A-Z][A-Z0-9_]+)[\"']", text))
        found |= set(re.findall(r"getenv\(\s*[\"']([A-Z][A-Z0-9_]+)[\"']", text))
        found |= set(re.findall(r"env\.get\(\s*[\"']([A-Z][A-Z0-9_]+)[\"']", text))
    return found


def test_every_environment_variable_is_in_the_configuration_reference() -> None:
    table = section("Configuration")
    named = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", table))
    read = env_vars_read_by_the_code()
    assert {"OPENAI_API_KEY", "OPENAI_BASE_URL", "WORKFLOW_KIT_DATABASE_URL", "WORKFLOW_KIT_SECRET"} <= read | named
    assert read - named == set(), f"read by the code, missing from the Configuration table: {read - named}"
    # the model variable exists and is honoured
    assert "WORKFLOW_KIT_AI_MODEL" in named


def test_the_comparison_table() -> None:
    body = section("Compared with")
    rows = [line for line in body.splitlines() if line.startswith("|")]
    assert len(rows) >= 8, rows
    header = rows[0]
    assert "TypeScript" in header and "workflow-kit" in header
    for topic in ("Join", "Durability", "Versions", "Validation", "Editor"):
        assert any(topic.lower() in row.lower() for row in rows), topic


# -- run the README's code and commands ------------------------------------------------------------


def run_python(code: str, cwd: Path, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "WORKFLOW_KIT_DATABASE"))}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, check=False, capture_output=True, text=True, timeout=timeout
    )


def standalone_python_blocks() -> list[str]:
    return [b for b in blocks("python") if re.search(r"^(import|from) ", b, flags=re.M)]


def test_there_are_python_examples() -> None:
    assert len(standalone_python_blocks()) >= 2


@pytest.mark.parametrize("index", range(len(standalone_python_blocks())))
def test_python_examples_run_and_print_what_they_say(index: int, tmp_path: Path) -> None:
    code = standalone_python_blocks()[index]
    done = run_python(code, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    expected = [
        m.group(2).strip().split(" -- ")[0] for m in re.finditer(r"print\((.*)\)\s*#\s*(.+)$", code, flags=re.M)
    ]
    printed = done.stdout
    for line in expected:
        # the comment shows what print() gives; compare ignoring spacing
        assert re.sub(r"\s+", "", line) in re.sub(r"\s+", "", printed), (line, printed)


def test_python_examples_are_valid_syntax() -> None:
    for code in blocks("python"):
        ast.parse(code)


APP = """
from typing import Any
from workflow_kit import ActionContext, WorkflowKit

kit = WorkflowKit()


@kit.action(kind="hello", name="Say hello")
async def hello(ctx: ActionContext, inputs: dict[str, Any]) -> str:
    return await ctx.step.run("greet", lambda: "hello " + str(ctx.event["data"].get("who")))
"""


def shell_commands() -> list[str]:
    commands: list[str] = []
    for block in blocks("sh"):
        for raw in block.splitlines():
            line = raw.split("  #")[0].strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def adapt(command: str, database_url: str, port: int) -> tuple[dict[str, str], list[str]]:
    """The README's placeholders made real: the app module, the database, the secret, a free port."""
    env: dict[str, str] = {}
    words = command.split()
    while words and re.match(r"^[A-Z_]+=", words[0]):
        key, _, value = words.pop(0).partition("=")
        env[key] = value
    if "WORKFLOW_KIT_DATABASE_URL" in env:
        env["WORKFLOW_KIT_DATABASE_URL"] = database_url
    if "WORKFLOW_KIT_SECRET" in env:
        env["WORKFLOW_KIT_SECRET"] = SECRET
    words = [re.sub(r"^mypkg\.[a-z_.]+:kit$", "readme_app:kit", w) for w in words]
    words = [str(port) if w == "8000" else w for w in words]
    assert words[0] == "workflow-kit", command
    cli = [sys.executable, "-c", "from workflow_kit.cli import main; raise SystemExit(main())"]
    return env, cli + words[1:]


def test_the_readme_shell_commands_run(tmp_path: Path) -> None:
    (tmp_path / "readme_app.py").write_text(APP)
    kind = "postgres" if os.environ.get("WORKFLOW_KIT_TEST_POSTGRES_URL") else "sqlite"
    with contextlib.contextmanager(fresh_database)(kind, tmp_path) as database_url:  # a database of its own
        run_the_readme_shell_commands(tmp_path, database_url)


def run_the_readme_shell_commands(tmp_path: Path, database_url: str) -> None:
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "WORKFLOW_KIT_"))}
    base_env["PYTHONPATH"] = f"{tmp_path}:{ROOT}"
    base_env["WORKFLOW_KIT_DATABASE_URL"] = database_url
    ran = []
    for command in shell_commands():
        if command.startswith(("make ", "pip ")):
            continue  # `make demo` / `make test`: the demo browser test; `pip install`: tests/test_packaging.py
        port = free_port()
        extra, argv = adapt(command, database_url, port)
        env = {**base_env, **extra}
        if argv[3] in ("migrate", "send", "runs", "seed"):
            done = subprocess.run(argv, cwd=tmp_path, env=env, check=False, capture_output=True, text=True, timeout=90)
            assert done.returncode == 0, (command, done.stderr[-2000:])
        else:  # long-running: serve / worker; must start, answer, and stop on SIGINT
            process = subprocess.Popen(
                argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
            try:
                if argv[3] == "serve":
                    status = wait_http(f"http://127.0.0.1:{port}/api/actions", process)
                    assert status == 401, status  # up, and asking for a token
                else:
                    time.sleep(3)
                    assert process.poll() is None, process.stdout.read() if process.stdout else ""
            finally:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)
                if process.stdout:
                    process.stdout.close()
        ran.append(argv[3])
    assert {"serve", "migrate", "worker"} <= set(ran), ran


def wait_http(url: str, process: subprocess.Popen[str]) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer")


def test_send_and_runs_commands_from_a_shell(tmp_path: Path) -> None:
    """The README names `workflow-kit send` and `workflow-kit runs`."""
    assert "workflow-kit send" in README and "workflow-kit runs" in README
    (tmp_path / "readme_app.py").write_text(APP)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "WORKFLOW_KIT_"))}
    env["PYTHONPATH"] = f"{tmp_path}:{ROOT}"
    env["WORKFLOW_KIT_DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"
    setup = (
        "from readme_app import kit\n"
        "kit.workflows.create_sync('t1', name='hi', trigger={'event': 'app/hi'},"
        " workflow={'actions': [{'id': 'h', 'kind': 'hello'}], 'edges': [{'from': '$source', 'to': 'h'}]})"
    )
    cli = [sys.executable, "-c", "from workflow_kit.cli import main; raise SystemExit(main())"]
    create = subprocess.run(
        [sys.executable, "-c", setup], cwd=tmp_path, env=env, check=False, capture_output=True, text=True, timeout=60
    )
    assert create.returncode == 0, create.stderr
    sent = subprocess.run(
        [*cli, "send", "--app", "readme_app:kit", "t1", json.dumps({"name": "app/hi", "data": {"who": "ann"}})],
        cwd=tmp_path, env=env, check=False, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    listed = subprocess.run(
        [*cli, "runs", "--app", "readme_app:kit", "t1"],
        cwd=tmp_path,
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    assert "queued" in listed.stdout or "completed" in listed.stdout or "running" in listed.stdout, listed.stdout


def test_the_readme_documents_workflow_kit_seed() -> None:
    """The issue: seed data "loaded by `workflow-kit seed`" -- a new user reading the README should find it."""
    assert "workflow-kit seed" in README


def test_mount_the_api_in_a_host_app(tmp_path: Path) -> None:
    """The README: "Mount it in your ASGI app (create_app(kit) returns an ASGI app)"."""
    from litestar import Litestar, asgi
    from litestar.testing import TestClient
    from litestar.types import Receive, Scope, Send

    from editor_api import create_app
    from workflow_kit import WorkflowKit

    kit = WorkflowKit(database_url=f"sqlite:///{tmp_path / 'mount.db'}", secret=SECRET)
    inner = create_app(kit, secret=SECRET)

    @asgi("/automations", is_mount=True, copy_scope=True)
    async def automations(scope: Scope, receive: Receive, send: Send) -> None:
        await inner(scope, receive, send)

    token = kit.editor_token(tenant="t1", user="ann", ttl=600)
    with TestClient(Litestar([automations])) as client:
        assert client.get("/automations/api/actions").status_code == 401
        response = client.get("/automations/api/actions", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        assert any(a["kind"] == "builtin:if" for a in response.json())
