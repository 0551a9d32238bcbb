"""The README's examples run as written: every Python block, twice in the same folder (as a user who runs
an example again would), and every shell command is run by some test."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


# What a block prints, where the README says so in its comments (`print(...)  # <what it prints>`).
PRINTS = {
    0: ["[]", "completed {'sum': 11.0, 'big': {'result': True}}"],
    1: ["completed {'w': 'sent to ann@example.com'}"],
    5: ["{'index': 1, 'event': 'shop/refund.*'}", "{'f': 'trigger 1 started it, with shop/refund.issued'}"],
}


def run_block(code: str, folder: Path, name: str) -> list[str]:
    script = folder / f"{name}.py"
    script.write_text(code)
    env = {k: v for k, v in os.environ.items() if k != "WORKFLOW_KIT_DATABASE_URL" and not k.startswith("OPENAI")}
    env["PYTHONPATH"] = str(ROOT)  # this checkout's code, wherever the package is installed
    out = subprocess.run(
        [sys.executable, str(script)], cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, f"README block {name} failed:\n{out.stderr}"
    return out.stdout.splitlines()


def test_the_readme_has_examples_that_say_what_they_print() -> None:
    blocks = python_blocks()
    assert len(blocks) >= 4, "the README lost its examples"
    for index, lines in PRINTS.items():
        for line in lines:
            assert line in blocks[index], f"block {index} no longer says it prints {line!r}"


def said_prints(code: str) -> list[str]:
    """What the comments after ``print(...)`` say it prints (before any ``--`` remark)."""
    return [m.group(1).split(" -- ")[0].strip() for m in re.finditer(r"print\(.*\)\s*#\s*(.+)$", code, flags=re.M)]


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_every_python_block_runs_twice_in_the_same_folder(index: int, tmp_path: Path) -> None:
    code = python_blocks()[index]
    first = run_block(code, tmp_path, f"block{index}")
    second = run_block(code, tmp_path, f"block{index}")
    if index in PRINTS:
        assert first == PRINTS[index]
    printed = re.sub(r"\s+", "", "".join(first))
    for said in said_prints(code):  # every block prints what its comments say (spacing aside)
        assert re.sub(r"\s+", "", said) in printed, (said, first)
    assert second == first, "running the example again printed something else"


def test_the_durable_example_keeps_its_database_in_the_folder(tmp_path: Path) -> None:
    run_block(python_blocks()[1], tmp_path, "durable")
    assert (tmp_path / "workflow-kit.db").exists()


# Where each shell command of the README is run for real (so the README cannot rot).
RUN_BY = {
    "pip install": "tests/test_packaging.py",
    "make demo": "tests/browser/test_demo.py",
    "make test": ".ci/run",
    "workflow-kit serve": "tests/test_api_server.py",
    "workflow-kit seed": "tests/test_seeds.py",
    "workflow-kit migrate": "tests/test_cli.py",
    "workflow-kit worker": "tests/test_cli.py",
    "workflow-kit connections": "tests/test_secrets.py",
    "curl -X": "tests/test_hooks_server.py",
}


def test_every_shell_command_in_the_readme_is_run_by_a_test() -> None:
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(), flags=re.DOTALL)
    lines = [line for block in blocks for line in block.replace("\\\n", " ").splitlines()]  # continued lines joined
    commands = [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]
    assert commands, "the README shows no command"
    for command in commands:
        words = [w for w in command.split() if "=" not in w or w.startswith("-")]
        name = " ".join(words[:2])
        assert name in RUN_BY, f"nothing runs {command!r}: add a test and list it here"
        runner = (ROOT / RUN_BY[name]).read_text()
        assert words[1] in runner, f"{RUN_BY[name]} does not run {name!r}"


def test_the_readme_refers_to_nothing_outside_the_repository() -> None:
    text = README.read_text()
    assert not re.search(r"(?<!\.)\.\./", text), "the README points outside the repository"
    for path in re.findall(r"`((?:docs|frontend|tests|scripts|bench|seeds)/[\w./-]+)`", text):
        if "*" not in path:
            assert (ROOT / path).exists(), f"the README names {path}, which is not in the repository"


# -- what the README says, where a new user looks for it ------------------------------------------------


def headings() -> list[str]:
    return re.findall(r"^#{2,3} (.+)$", README.read_text(), flags=re.M)


def section(title: str) -> str:
    """The body of the first section (## or ###) whose heading contains `title`."""
    pattern = rf"^(#{{2,3}}) [^\n]*{title}[^\n]*\n(.*?)(?=^#{{2,3}} |\Z)"
    found = re.search(pattern, README.read_text(), flags=re.M | re.S | re.I)
    assert found, f"no section about {title!r}: {headings()}"
    return found.group(2)


@pytest.mark.parametrize(
    ("topic", "evidence"),
    [
        ("define an action", r"@kit\.action\("),
        ("mount the API", r"create_app\(kit\)"),
        ("embed the editor", r"<workflow-editor"),
        ("send events", r"kit\.send\("),
        ("run a worker on PostgreSQL", r"workflow-kit worker"),
        ("load the demo's data", r"workflow-kit seed"),
        ("configuration reference", r"^## Configuration"),
        ("how runs behave", r"^## How a workflow runs|^## Durable runs"),
        ("retries", r"\*\*Retries\.\*\*|^#+ Retries"),
        ("versions", r"^#+ Versions"),
        ("comparison with the TypeScript kit", r"^## .*(Inngest|TypeScript)"),
    ],
)
def test_the_readme_covers_what_a_new_user_needs(topic: str, evidence: str) -> None:
    assert re.search(evidence, README.read_text(), flags=re.M), topic


def test_the_two_commands_open_the_contributing_section() -> None:
    """Users first: `make demo` and `make test` are for contributors, in their section."""
    body = section("Contributing")
    assert "make demo" in body and "make test" in body


def test_the_postgresql_section_has_its_commands() -> None:
    body = section("PostgreSQL")
    assert "postgresql+psycopg://" in body
    assert "workflow-kit worker" in body and "workflow-kit migrate" in body


def environment_variables_read_by_the_code() -> set[str]:
    found: set[str] = set()
    for folder in ("workflow_kit", "editor_api", "seeds"):
        for path in (ROOT / folder).glob("**/*.py"):
            text = path.read_text()
            found |= set(re.findall(r"environ(?:\.get)?[\[(]\s*[\"']([A-Z][A-Z0-9_]+)[\"']", text))
            found |= set(re.findall(r"(?:getenv|env\.get)\(\s*[\"']([A-Z][A-Z0-9_]+)[\"']", text))
    return found


def test_every_environment_variable_the_code_reads_is_in_the_configuration_reference() -> None:
    named = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", section("Configuration")))
    read = environment_variables_read_by_the_code()
    assert {"OPENAI_API_KEY", "OPENAI_BASE_URL", "WORKFLOW_KIT_DATABASE_URL", "WORKFLOW_KIT_SECRET"} <= read
    assert read - named == set(), f"read by the code, missing from the Configuration table: {read - named}"
    assert "WORKFLOW_KIT_AI_MODEL" in named


def test_the_comparison_with_the_typescript_kit_is_a_table() -> None:
    rows = [line for line in section("Compared with").splitlines() if line.startswith("|")]
    assert len(rows) >= 8, rows
    assert "TypeScript" in rows[0] and "workflow-kit" in rows[0]
    for topic in ("Join", "Durability", "Versions", "Validation", "Editor"):
        assert any(topic.lower() in row.lower() for row in rows), topic


def test_what_the_readme_promises_is_in_the_repository() -> None:
    """Python 3.11+, the two packages, the `make` targets it names, the CI entry point that runs
    `make test`, and pip's lock-free install (no other tool's lock file)."""
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert "Python 3.11+" in README.read_text()
    assert 'requires-python = ">=3.11"' in pyproject
    assert '"workflow_kit"' in pyproject and '"editor_api"' in pyproject
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, flags=re.M) and re.search(r"^test:", makefile, flags=re.M)
    ci = ROOT / ".ci" / "run"
    assert os.access(ci, os.X_OK) and "make test" in ci.read_text()
    for lock in ("poetry.lock", "uv.lock", "Pipfile.lock", "pdm.lock"):
        assert not (ROOT / lock).exists(), lock
